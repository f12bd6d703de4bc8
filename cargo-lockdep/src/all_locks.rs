//! `cargo lockdep test --all-locks`: the suite built with parking_lot 0.13 replaced, throughout
//! the dependency graph, by a `parking_lot`-named shim over lockdep-core's parking_lot 0.13
//! face, so that the locks inside dependencies join the one class graph, each class at its
//! creation site in the dependency's source.
//!
//! The shim is written into the store's directory and patched in with `cargo --config
//! patch.crates-io.parking_lot.path=...`: nothing of the project is edited. Only the 0.13 line
//! can be replaced. lockdep-core's own locks are parking_lot 0.12's, and a patch of 0.12 would
//! make the shim depend on itself (Cargo refuses the cycle); lockdep-core's DESIGN.md says why
//! no other source of 0.12's raw locks will do. The run says which crates are checked and which
//! are not.

use super::*;
use serde::Deserialize;

/// The parking_lot version the shim claims where the graph names no 0.13 release: the line it
/// stands in for.
const SHIM_VERSION: &str = "0.13.0";

/// What `cargo metadata` says of the packages that matter here.
#[derive(Deserialize)]
struct Metadata {
    packages: Vec<Package>,
    /// The ids of the project's own packages (whose dev-dependencies are built).
    workspace_members: Vec<String>,
}

#[derive(Deserialize)]
struct Package {
    id: String,
    name: String,
    version: String,
    /// `None` for a path package.
    source: Option<String>,
    manifest_path: PathBuf,
    dependencies: Vec<Dependency>,
}

#[derive(Deserialize)]
struct Dependency {
    name: String,
    req: String,
    /// `dev`, `build`, or none for a normal dependency.
    kind: Option<String>,
}

/// Writes the shim under `dir` and returns the `--config` value that patches it in, after
/// saying which crates' parking_lot locks the run checks. `args`: the runner's, whose
/// `--manifest-path` and network options the graph is read with too.
pub(crate) fn prepare(dir: &Path, args: &[String]) -> Result<String, String> {
    let metadata = metadata(args)?;
    let shim = dir.join("parking_lot-shim");
    std::fs::create_dir_all(shim.join("src")).map_err(|e| cannot_write(&shim, e))?;
    let manifest = shim_manifest(
        &shim_version(&metadata),
        &lockdep_core_dependency(&metadata),
    );
    write(&shim.join("Cargo.toml"), &manifest)?;
    write(
        &shim.join("src/lib.rs"),
        "//! parking_lot 0.13, replaced by lockdep's checked locks (`cargo lockdep test \
         --all-locks`).\npub use lockdep_core::parking_lot_0_13::*;\n",
    )?;
    let shim = std::path::absolute(&shim).map_err(|e| cannot_write(&shim, e))?;
    say_what_is_checked(&metadata);
    Ok(format!(
        "patch.crates-io.parking_lot.path={}",
        toml::Value::String(shim.display().to_string())
    ))
}

/// The dependency graph, as the project's own build resolves it (the same manifest, and no
/// network where the run has none).
fn metadata(args: &[String]) -> Result<Metadata, String> {
    let mut cmd = cargo();
    cmd.args(["metadata", "--format-version", "1"]);
    let mut cargo_args = args.iter().take_while(|a| *a != "--");
    while let Some(arg) = cargo_args.next() {
        match arg.as_str() {
            "--offline" | "--locked" | "--frozen" => {
                cmd.arg(arg);
            }
            "--manifest-path" => {
                cmd.arg(arg).args(cargo_args.next());
            }
            a if a.starts_with("--manifest-path=") => {
                cmd.arg(a);
            }
            _ => {}
        }
    }
    let out = cmd.output().map_err(cannot_run_cargo)?;
    if !out.status.success() {
        return Err(format!(
            "`--all-locks` reads the dependency graph with `cargo metadata`, which failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("cannot read what `cargo metadata` printed: {e}"))
}

/// How the shim depends on lockdep-core: on the very package the project uses (its path, or
/// its exact version), so that the project's locks and the dependencies' share one validator;
/// on this tool's own version where the project does not use lockdep-core at all.
fn lockdep_core_dependency(metadata: &Metadata) -> String {
    let features = "features = [\"parking_lot-0_13\"]";
    match metadata.packages.iter().find(|p| p.name == "lockdep-core") {
        Some(p) if p.source.is_none() => {
            let path = p.manifest_path.parent().unwrap_or(Path::new("."));
            format!(
                "{{ path = {}, {features} }}",
                toml::Value::String(path.display().to_string())
            )
        }
        // A git checkout: the same repository and commit.
        Some(Package {
            source: Some(source),
            ..
        }) if source.starts_with("git+") => {
            let source = &source["git+".len()..];
            let (url, commit) = source.split_once('#').unwrap_or((source, ""));
            let url = url.split('?').next().unwrap_or(url);
            format!(
                "{{ git = {}, rev = {}, {features} }}",
                toml::Value::String(url.to_string()),
                toml::Value::String(commit.to_string())
            )
        }
        Some(p) => format!("{{ version = \"={}\", {features} }}", p.version),
        None => format!(
            "{{ version = \"={}\", {features} }}",
            env!("CARGO_PKG_VERSION")
        ),
    }
}

/// The version the shim claims: the newest parking_lot 0.13 release the graph resolves to (so
/// that every requirement the project's crates make of 0.13 is met), else 0.13.0.
fn shim_version(metadata: &Metadata) -> String {
    metadata
        .packages
        .iter()
        .filter(|p| p.name == "parking_lot" && p.source.is_some() && p.version.starts_with("0.13."))
        .map(|p| p.version.clone())
        .max_by_key(|v| {
            v.split('.')
                .map(|n| {
                    n.split(['-', '+'])
                        .next()
                        .unwrap_or("")
                        .parse::<u64>()
                        .unwrap_or(0)
                })
                .collect::<Vec<_>>()
        })
        .unwrap_or_else(|| SHIM_VERSION.to_string())
}

/// The shim's manifest: parking_lot 0.13's name, `version` and features, over lockdep-core.
fn shim_manifest(version: &str, lockdep_core: &str) -> String {
    format!(
        "# Written by `cargo lockdep test --all-locks`: parking_lot {version}, replaced by \
         lockdep's checked locks.\n\
         [package]\n\
         name = \"parking_lot\"\n\
         version = \"{version}\"\n\
         edition = \"2021\"\n\
         publish = false\n\n\
         [dependencies]\n\
         lockdep-core = {lockdep_core}\n\n\
         # parking_lot 0.13's features, so that every dependent's request resolves; `nightly` \
         and\n# `owning_ref` change nothing lockdep checks.\n\
         [features]\n\
         arc_lock = [\"lockdep-core/arc_lock\"]\n\
         serde = [\"lockdep-core/serde\"]\n\
         send_guard = [\"lockdep-core/send_guard\"]\n\
         deadlock_detection = [\"lockdep-core/deadlock_detection\"]\n\
         nightly = []\n\
         owning_ref = []\n"
    )
}

/// Names the crates whose parking_lot locks the run checks (those on 0.13) and those it cannot
/// (those on 0.12), so that a run that replaces nothing says so.
fn say_what_is_checked(metadata: &Metadata) {
    let on = |line: &str| -> Vec<String> {
        let mut names: Vec<String> = metadata
            .packages
            .iter()
            // lockdep-core is the checker (its own locks are 0.12's, its tests' 0.13 unused).
            .filter(|p| p.name != "lockdep-core")
            .filter(|p| {
                let member = metadata.workspace_members.contains(&p.id);
                p.dependencies.iter().any(|d| {
                    d.name == "parking_lot"
                        && requires_line(&d.req, line)
                        && (member || d.kind.as_deref() != Some("dev"))
                })
            })
            .map(|p| p.name.clone())
            .collect();
        names.sort();
        names.dedup();
        names
    };
    let (checked, left) = (on("0.13"), on("0.12"));
    if checked.is_empty() {
        eprintln!(
            "cargo-lockdep: --all-locks: no crate of this project depends on parking_lot 0.13, \
             so no dependency's lock is replaced."
        );
    } else {
        eprintln!(
            "cargo-lockdep: --all-locks: parking_lot 0.13 is lockdep's checked locks for: {}",
            checked.join(", ")
        );
    }
    if !left.is_empty() {
        eprintln!(
            "cargo-lockdep: --all-locks: not replaced (parking_lot 0.12, which lockdep-core's own \
             locks are built on: Cargo would make the shim depend on itself): {}",
            left.join(", ")
        );
    }
}

/// Whether the requirement `req` (as cargo metadata writes it: `^0.13`, `^0.13.0`, `=0.12.5`,
/// `>=0.13, <0.14`) asks for the parking_lot line `line` (`0.13`): one of its comparators
/// starts at that line (an upper bound, `<0.13`, does not).
fn requires_line(req: &str, line: &str) -> bool {
    req.split(',').any(|part| {
        let part = part.trim();
        if part.starts_with('<') {
            return false;
        }
        let version = part.trim_start_matches(['^', '=', '~', '>', ' ']);
        version == line || version.starts_with(&format!("{line}."))
    })
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    // Unchanged contents keep their modification time, so cargo does not rebuild the shim.
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    std::fs::write(path, text).map_err(|e| cannot_write(path, e))
}

fn cannot_write(path: &Path, e: std::io::Error) -> String {
    format!(
        "cannot write the parking_lot shim of `--all-locks` at {}: {e}. Check the store \
         directory's permissions, or name another with `--dir DIR`.",
        path.display()
    )
}

#[cfg(test)]
mod tests {
    use super::{requires_line, shim_manifest};

    #[test]
    fn requirements_are_read_by_their_line() {
        assert!(requires_line("^0.13", "0.13"));
        assert!(requires_line("^0.13.0", "0.13"));
        assert!(requires_line("=0.13.0", "0.13"));
        assert!(!requires_line("^0.12.1", "0.13"));
        assert!(requires_line("^0.12.1", "0.12"));
        assert!(!requires_line("^0.1", "0.13"));
        assert!(!requires_line("^0.130", "0.13"));
        assert!(!requires_line("<0.13", "0.13"));
        assert!(requires_line(">=0.13, <0.14", "0.13"));
    }

    #[test]
    fn the_shim_is_parking_lot_0_13_over_lockdep_core() {
        let manifest = shim_manifest(
            "0.13.0",
            "{ path = \"/x\", features = [\"parking_lot-0_13\"] }",
        );
        let parsed: toml::Table = manifest.parse().expect("a valid manifest");
        assert_eq!(parsed["package"]["name"].as_str(), Some("parking_lot"));
        assert_eq!(parsed["package"]["version"].as_str(), Some("0.13.0"));
        assert_eq!(
            parsed["dependencies"]["lockdep-core"]["features"][0].as_str(),
            Some("parking_lot-0_13")
        );
        assert!(parsed["features"].get("arc_lock").is_some());
    }
}
