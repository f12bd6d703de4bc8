#!/usr/bin/env bash
# A real suite, switched as a user would: salsa 0.16's own tests (15 test binaries, 71 tests,
# 8 of them doc tests), once on parking_lot 0.12 ("plain"), once with `parking_lot` renamed to
# lockdep-core (the committed tree of this repository, as a git dependency: built as a
# published crate would be, not as a member of the user's workspace; "lockdep"), nothing else
# changed; and once on parking_lot 0.12 with lockdep-core linked but not one lock switched
# ("linked": an `extern crate` at the end of salsa's lib.rs), which is what the dependency tree
# alone costs: linking it into every test binary and doc test, and Cargo's checks of it.
# All three are built first; then ROUNDS rounds run `cargo test -q` in each, rotating which goes
# first, and the median of the per-round ratios (÷ plain) is printed, with its quartiles: on a
# shared or virtual machine the speed drifts between runs, and a ratio of adjacent runs drifts
# least.
#
#   benches/real_suite.sh [ROUNDS] [cargo test arguments, e.g. --tests or --doc]
#
# Needs crates.io (the first run fetches salsa and its dependencies into Cargo's cache).
set -euo pipefail
ROUNDS=${1:-21}
shift || true
case $ROUNDS in
'' | *[!0-9]*) echo "usage: $0 [ROUNDS] [cargo test arguments]: ROUNDS is a number" >&2; exit 2 ;;
esac
if ((ROUNDS < 1)); then
  echo "usage: $0 [ROUNDS] [cargo test arguments]: at least one round" >&2
  exit 2
fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# salsa's published source, from Cargo's registry cache.
mkdir -p "$WORK/fetch/src"
cat >"$WORK/fetch/Cargo.toml" <<'EOF'
[package]
name = "fetch"
version = "0.0.0"
edition = "2021"
[dependencies]
salsa = "=0.16.0"
[workspace]
EOF
echo 'fn main() {}' >"$WORK/fetch/src/main.rs"
(cd "$WORK/fetch" && cargo fetch -q)
SRC=$(cd "$WORK/fetch" && cargo metadata --format-version 1 |
  sed -n 's/.*"manifest_path":"\([^"]*salsa-0\.16\.0\/Cargo\.toml\)".*/\1/p' | head -n 1)
SRC=$(dirname "${SRC:?salsa 0.16.0 not found in the Cargo registry cache}")

# The three copies: the manifest's `parking_lot = "0.11.0"` becomes parking_lot 0.12 (plain,
# linked) or lockdep-core under the same name (lockdep).
for variant in plain linked lockdep; do
  cp -r "$SRC" "$WORK/$variant"
  chmod -R u+w "$WORK/$variant"
  if [ "$variant" = lockdep ]; then
    dep="package = \"lockdep-core\"
git = \"file://$ROOT\""
  else
    dep='version = "0.12"'
  fi
  awk -v dep="$dep" '
    /^\[dependencies\.parking_lot\]$/ { print; print dep; skip = 1; next }
    skip && /^version = / { skip = 0; next }
    { skip = 0; print }
  ' "$SRC/Cargo.toml" >"$WORK/$variant/Cargo.toml"
  if [ "$variant" = linked ]; then
    printf '[dependencies.lockdep-core]\ngit = "file://%s"\n' "$ROOT" >>"$WORK/$variant/Cargo.toml"
    printf '\n// Linked, not used: what the dependency tree alone costs.\nextern crate lockdep_core as _;\n' \
      >>"$WORK/$variant/src/lib.rs"
  fi
  echo '[workspace]' >>"$WORK/$variant/Cargo.toml"
  rm -f "$WORK/$variant/Cargo.lock"
  (cd "$WORK/$variant" && cargo test -q --no-run >/dev/null) ||
    { echo "real_suite: the $variant copy does not build" >&2; exit 1; }
  # Every test passes before anything is timed.
  (cd "$WORK/$variant" && RUST_BACKTRACE=0 cargo test -q "$@" >/dev/null) ||
    { echo "real_suite: the $variant copy's tests fail" >&2; exit 1; }
done

run() { # prints the wall time of one `cargo test -q` in $1, in microseconds; fails with it
  local start end
  start=$(date +%s%N)
  (cd "$WORK/$1" && RUST_BACKTRACE=0 cargo test -q "${@:2}" >/dev/null 2>&1) || return 1
  end=$(date +%s%N)
  echo $(((end - start) / 1000))
}
timed() { # `run`, stopping the script if the run failed (`$(...)` would not)
  local t
  t=$(run "$@") || { echo "real_suite: a timed run in the $1 copy failed" >&2; exit 1; }
  echo "$t"
}

: >"$WORK/times"
variants=(plain linked lockdep)
for ((round = 0; round < ROUNDS; round++)); do
  declare -A t=()
  for ((i = 0; i < 3; i++)); do
    v=${variants[(round + i) % 3]}
    t[$v]=$(timed "$v" "$@") || exit 1
  done
  echo "${t[plain]} ${t[linked]} ${t[lockdep]}" >>"$WORK/times"
done

quartile() { # the q-th quartile (1, 2, 3) of the numbers on stdin
  sort -g | awk -v q="$1" '{ v[NR] = $1 } END { i = 1 + (NR - 1) * q / 4; j = int(i);
    printf "%.3f", v[j] + (i - j) * (j < NR ? v[j + 1] - v[j] : 0) }'
}
median_s() { # the median of column $1 of the times, in seconds
  cut -d' ' -f"$1" "$WORK/times" | quartile 2 | awk '{ printf "%.3f", $1 / 1e6 }'
}
ratios() { # column $1 ÷ column 1, per round: "median (quartiles q1 to q3)"
  awk -v c="$1" '{ printf "%.4f\n", $c / $1 }' "$WORK/times" >"$WORK/ratios"
  echo "$(quartile 2 <"$WORK/ratios")x (quartiles $(quartile 1 <"$WORK/ratios") to $(quartile 3 <"$WORK/ratios"))"
}
echo "salsa 0.16, cargo test -q${*:+ $*}, $ROUNDS rounds:"
echo "  plain   median $(median_s 1) s"
echo "  linked  median $(median_s 2) s   linked / plain, per round: median $(ratios 2)"
echo "  lockdep median $(median_s 3) s   lockdep / plain, per round: median $(ratios 3)"
