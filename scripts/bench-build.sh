#!/usr/bin/env bash
# Measures what the schema costs: generation time, clean and incremental
# release builds of the `twitch` crate. Uses its own target directory so the
# numbers do not depend on what is already built. Results go to stdout;
# BENCHMARKS.md records them.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${BENCH_TARGET_DIR:-/tmp/twitch-bench-target}
runs=${RUNS:-20}

now() { date +%s.%N; }
secs() { awk "BEGIN { printf \"%.2f\", $2 - $1 }"; }

echo "machine: $(nproc) cores, rustc $(rustc --version | cut -d' ' -f2)"

cargo build -q --release -p twitch-codegen --target-dir "$target"
gen="$target/release/twitch-codegen"
out=$(mktemp -d)
t0=$(now)
for _ in $(seq "$runs"); do "$gen" --out "$out" >/dev/null; done
t1=$(now)
echo "generate whole schema: $(awk "BEGIN { printf \"%.1f\", ($t1 - $t0) * 1000 / $runs }") ms per run (mean of $runs, load+validate+emit+render+write)"
rm -rf "$out"

rm -rf "$target/release/build/twitch-"* "$target/release/deps/libtwitch-"* "$target/release/.fingerprint/twitch-"*
t0=$(now); cargo build -q --release -p twitch --target-dir "$target"; t1=$(now)
echo "twitch crate alone (dependencies built): $(secs "$t0" "$t1") s"

# Incremental: a one-line YAML edit (a description) and back.
file=schema/helix/users.yaml
cp "$file" "$file.bench-orig"
trap 'mv "$file.bench-orig" "$file"' EXIT
sed -i '0,/summary: /s//summary: (edited) /' "$file"
t0=$(now); cargo build -q --release -p twitch --target-dir "$target"; t1=$(now)
echo "incremental after one YAML edit: $(secs "$t0" "$t1") s"
mv "$file.bench-orig" "$file"; trap - EXIT
cargo build -q --release -p twitch --target-dir "$target"

if [ "${CLEAN:-1}" = 1 ]; then
  rm -rf "$target"
  t0=$(now); cargo build -q --release -p twitch --target-dir "$target"; t1=$(now)
  echo "clean build with all dependencies: $(secs "$t0" "$t1") s"
fi
