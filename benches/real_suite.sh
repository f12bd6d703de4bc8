#!/usr/bin/env bash
# A real suite, switched as a user would: salsa 0.16's own tests (15 test binaries, 71 tests,
# 8 of them doc tests), once on parking_lot 0.12 and once with `parking_lot` renamed to
# lockdep-core (the committed tree of this repository, as a git dependency: built as a
# published crate would be, not as a member of the user's workspace), nothing else changed.
# Both are built first; then ROUNDS rounds run `cargo test -q` in each, alternating which goes
# first, and the median of the per-round ratios (lockdep ÷ plain) is printed, with its
# quartiles: on a shared or virtual machine the speed drifts between runs, and a ratio of two
# adjacent runs drifts least.
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

# The two copies: the manifest's `parking_lot = "0.11.0"` becomes parking_lot 0.12 (plain) or
# lockdep-core under the same name.
for variant in plain lockdep; do
  cp -r "$SRC" "$WORK/$variant"
  chmod -R u+w "$WORK/$variant"
  if [ "$variant" = plain ]; then
    dep='version = "0.12"'
  else
    dep="package = \"lockdep-core\"
git = \"file://$ROOT\""
  fi
  awk -v dep="$dep" '
    /^\[dependencies\.parking_lot\]$/ { print; print dep; skip = 1; next }
    skip && /^version = / { skip = 0; next }
    { skip = 0; print }
  ' "$SRC/Cargo.toml" >"$WORK/$variant/Cargo.toml"
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

: >"$WORK/ratios"
: >"$WORK/times"
for ((round = 0; round < ROUNDS; round++)); do
  if ((round % 2)); then
    l=$(timed lockdep "$@") || exit 1
    p=$(timed plain "$@") || exit 1
  else
    p=$(timed plain "$@") || exit 1
    l=$(timed lockdep "$@") || exit 1
  fi
  echo "$p $l" >>"$WORK/times"
  awk -v p="$p" -v l="$l" 'BEGIN { printf "%.4f\n", l / p }' >>"$WORK/ratios"
done

quartile() { # the q-th quartile (1, 2, 3) of the numbers on stdin
  sort -g | awk -v q="$1" '{ v[NR] = $1 } END { i = 1 + (NR - 1) * q / 4; j = int(i);
    printf "%.3f", v[j] + (i - j) * (j < NR ? v[j + 1] - v[j] : 0) }'
}
plain_s=$(cut -d' ' -f1 "$WORK/times" | quartile 2 | awk '{ printf "%.3f", $1 / 1e6 }')
lockdep_s=$(cut -d' ' -f2 "$WORK/times" | quartile 2 | awk '{ printf "%.3f", $1 / 1e6 }')
q1=$(quartile 1 <"$WORK/ratios")
q2=$(quartile 2 <"$WORK/ratios")
q3=$(quartile 3 <"$WORK/ratios")
echo "salsa 0.16, cargo test -q${*:+ $*}, $ROUNDS rounds:"
echo "  plain   median $plain_s s"
echo "  lockdep median $lockdep_s s"
echo "  lockdep / plain, per round: median ${q2}x (quartiles $q1 to $q3)"
