//! The command line: every subcommand, its options and its `--help` (with the exit statuses).

use clap::{Arg, ArgAction, Command};

/// The exit statuses every command shares, for `--help`.
const EXIT_COMMON: &str = "  1   cargo-lockdep could not do it: no store, a damaged one or one \
                           of another version, a file it cannot write (the message says which)
  64  usage error: an option or argument it does not accept";

/// `--help`'s "Exit status" section: `specific` lines (status, two spaces, meaning), then
/// [`EXIT_COMMON`].
fn exit_help(specific: &str) -> String {
    format!("Exit status:\n{specific}\n{EXIT_COMMON}")
}

pub fn cli() -> Command {
    let baseline = || {
        Arg::new("baseline")
            .long("baseline")
            .value_name("FILE")
            .help(
                "Findings listed in FILE are accepted: exit 2 only for others, and list the \
                 entries no longer found (write FILE with `cargo lockdep baseline`)",
            )
    };
    let stores = || {
        Arg::new("stores").value_name("DIR").num_args(0..).help(
            "The stores to read, each a directory or its graph.lockdep file; several are read \
             as one graph (the shards of a suite) [default: $LOCKDEP_GRAPH, else <target \
             dir>/lockdep]",
        )
    };
    Command::new("cargo-lockdep")
        .bin_name("cargo")
        .version(env!("CARGO_PKG_VERSION"))
        .subcommand_required(true)
        .subcommand(
            Command::new("lockdep")
                .about("Check a whole test suite's lock orders with one shared lockdep graph")
                .after_help(exit_help(
                    "  0   nothing found\n  2   lockdep found something (see each command's \
                     --help)\n  N   `test`: the runner's own status when the suite failed or \
                     did not build",
                ))
                .version(env!("CARGO_PKG_VERSION"))
                .subcommand_required(true)
                .subcommand(
                    Command::new("test")
                        .after_help(exit_help(
                            "  0   the suite passed and lockdep found nothing (with --baseline: \
                             nothing it does not accept)\n  2   the suite passed and lockdep \
                             found something: a finding reported while it ran, or a cycle the \
                             offline check found (with --baseline: one it does not accept)\n  N   the suite failed \
                             or did not build: the runner's own status (cargo test: 101; cargo \
                             nextest run: 100 tests failed, 101 build failed, 4 no test ran, \
                             96 it refused its arguments); the store is summarised all the \
                             same when the tests ran",
                        ))
                        .about(
                            "Run the suite with a fresh shared graph, then summarise it \
                             (exit 2 on a finding)",
                        )
                        .arg(
                            Arg::new("nextest")
                                .long("nextest")
                                .action(ArgAction::SetTrue)
                                .help("Run `cargo nextest run` instead of `cargo test`"),
                        )
                        .arg(
                            Arg::new("all_locks")
                                .long("all-locks")
                                .action(ArgAction::SetTrue)
                                .help(
                                    "Check the parking_lot locks inside dependencies too: \
                                     parking_lot 0.13 is replaced throughout the dependency \
                                     graph by lockdep's checked locks (a `--config` patch; \
                                     nothing is edited). parking_lot 0.12 cannot be replaced: \
                                     lockdep-core's own locks are built on it",
                                ),
                        )
                        .arg(baseline())
                        .arg(Arg::new("dir").long("dir").value_name("DIR").help(
                            "The store's directory, or its graph.lockdep file [default: \
                                 $LOCKDEP_GRAPH, else <target dir>/lockdep]",
                        ))
                        .arg(
                            Arg::new("args")
                                .value_name("ARGS")
                                .num_args(0..)
                                .trailing_var_arg(true)
                                .allow_hyphen_values(true)
                                .help(
                                    "Arguments for the runner (this command's own options may \
                                     come anywhere before `--`): cargo test gets them \
                                     verbatim (those after `--` go to the test binaries); \
                                     cargo nextest run gets its own options written after \
                                     `--` moved before it, and the test filters and libtest \
                                     arguments it emulates after it. With --release or \
                                     --profile, `--features lockdep-core/release-checks` is \
                                     added (or the run refused)",
                                ),
                        ),
                )
                .subcommand(
                    Command::new("report")
                        .after_help(exit_help(
                            "  0   the report was written, whatever it lists (`check` and \
                             `merge` exit 2 on a finding)",
                        ))
                        .arg(
                            Arg::new("format")
                                .long("format")
                                .value_name("FORMAT")
                                .value_parser(["text", "json", "sarif"])
                                .default_value("text")
                                .help(
                                    "text: the summary, and the class graph drawn (DOT, SVG) \
                                     beside a single store; json: every finding with its \
                                     classes, dependencies, tests and stacks (the schema \
                                     cargo-lockdep/report, version 1); sarif: SARIF 2.1.0 for \
                                     code scanning, paths relative to the workspace root",
                                ),
                        )
                        .arg(
                            Arg::new("output")
                                .long("output")
                                .short('o')
                                .value_name("FILE")
                                .help("Write the report to FILE instead of stdout"),
                        )
                        .about(
                            "Summarise stored graphs (one store, or several united) and draw \
                             one (DOT, and SVG with Graphviz)",
                        )
                        .arg(stores()),
                )
                .subcommand(
                    Command::new("check")
                        .after_help(exit_help(
                            "  0   no strong cycle in the stored graph (with --baseline: none \
                             but those it accepts)\n  2   at least one strong cycle (with \
                             --baseline: one it does not accept)",
                        ))
                        .arg(baseline())
                        .about(
                            "Search stored graphs (one store, or several united) offline for \
                             every strong cycle (exit 2 if any)",
                        )
                        .arg(stores()),
                )
                .subcommand(
                    Command::new("baseline")
                        .about(
                            "Write a baseline from stored graphs: every current finding, \
                             accepted, each with a reason to fill in (reasons already in \
                             FILE are kept)",
                        )
                        .after_help(exit_help("  0   the baseline was written"))
                        .arg(
                            Arg::new("output")
                                .long("output")
                                .short('o')
                                .value_name("FILE")
                                .default_value("lockdep-baseline.toml")
                                .help("The baseline file to write"),
                        )
                        .arg(stores()),
                )
                .subcommand(
                    Command::new("merge")
                        .after_help(exit_help(
                            "  0   united; the union holds no finding (with --baseline: none but \
                             those it accepts)\n  2   united; the union holds a finding \
                             (reported by a shard, or found by the offline check, e.g. split \
                             across shards; with --baseline: one it does not accept)",
                        ))
                        .arg(baseline())
                        .about(
                            "Unite the stores of a suite's shards into one, then summarise it \
                             (exit 2 on a finding)",
                        )
                        .arg(Arg::new("out").value_name("OUT").required(true).help(
                            "The directory to write the united store to (OUT/graph.lockdep), \
                                     or that file's path",
                        ))
                        .arg(
                            Arg::new("stores")
                                .value_name("DIR")
                                .required(true)
                                .num_args(1..)
                                .help(
                                    "The stores to unite: each a store's directory or its \
                                     graph.lockdep file, written by this version of lockdep",
                                ),
                        ),
                ),
        )
}
