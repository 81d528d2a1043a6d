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
# `cargo run -p twitch-codegen -- sync` runs it unoptimised.
cargo build -q -p twitch-codegen --target-dir "$target"
t0=$(now); "$target/debug/twitch-codegen" --out "$out" >/dev/null; t1=$(now)
echo "generate whole schema, dev profile (as \`cargo run -p twitch-codegen -- sync\` runs it): $(secs "$t0" "$t1") s"
rm -rf "$out"

cargo build -q --release -p twitch --target-dir "$target"
# Only the twitch crate itself (dependencies built).
touch generated/src/lib.rs
log=$(mktemp)
t0=$(now); /usr/bin/time -v -o "$log" cargo build -q --release -p twitch --target-dir "$target"; t1=$(now)
echo "twitch crate alone (dependencies built): $(secs "$t0" "$t1") s"
echo "peak compiler memory: $(awk '/Maximum resident/ {printf "%.0f", $6 / 1024}' "$log") MiB"
rm -f "$log"

# What the area features save: the crate alone with each set.
for features in "helix,eventsub" helix eventsub ""; do
  # (the default features add the runtime's OAuth, WebSocket, webhook and HTTP/2 parts)
  cargo build -q --release -p twitch --no-default-features --features "$features" --target-dir "$target"
  touch generated/src/lib.rs
  t0=$(now); cargo build -q --release -p twitch --no-default-features --features "$features" --target-dir "$target"; t1=$(now)
  echo "twitch crate alone with features [${features}]: $(secs "$t0" "$t1") s"
done

# A program using the crate: decoding code is generated there, only for the
# endpoints it calls (the quickstart calls five and decodes events).
cargo build -q --release -p twitch --example quickstart --target-dir "$target"
touch generated/examples/quickstart.rs
t0=$(now); cargo build -q --release -p twitch --example quickstart --target-dir "$target"; t1=$(now)
echo "quickstart example (a program calling 5 endpoints and decoding events): $(secs "$t0" "$t1") s"

# Incremental: a one-line YAML edit (a description), regenerated with
# `sync`, in a copy of the repository (the working tree stays as it is).
copy=$(mktemp -d)
tar --exclude=./target -cf - . | tar -xf - -C "$copy"
sync_copy() { "$target/release/twitch-codegen" sync --schema "$copy/schema" >/dev/null; }
cargo build -q --release -p twitch --manifest-path "$copy/Cargo.toml" --target-dir "$target"
# An endpoint's summary: one line of helix/users.yaml, so one generated file changes.
edit() { sed -i "0,/^    summary: /s//    summary: (edited $1) /" "$copy/schema/helix/users.yaml"; }
edit 1
t0=$(now); sync_copy; t1=$(now)
echo "sync after one YAML edit (release generator): $(secs "$t0" "$t1") s"
t0=$(now); cargo build -q --release -p twitch --manifest-path "$copy/Cargo.toml" --target-dir "$target"; t1=$(now)
echo "release rebuild after one YAML edit and sync (release builds are not incremental): $(secs "$t0" "$t1") s"
# The maintainers' loop (edit, sync, `cargo test`, review snapshots) is a dev
# build, where rustc's incremental cache keeps what the other generated files made.
cargo build -q -p twitch --manifest-path "$copy/Cargo.toml" --target-dir "$target"
edit 2
sync_copy
t0=$(now); cargo build -q -p twitch --manifest-path "$copy/Cargo.toml" --target-dir "$target"; t1=$(now)
echo "dev rebuild after one YAML edit and sync (incremental): $(secs "$t0" "$t1") s"
CARGO_INCREMENTAL=0 cargo build -q -p twitch --manifest-path "$copy/Cargo.toml" --target-dir "$target"
edit 3
sync_copy
t0=$(now); CARGO_INCREMENTAL=0 cargo build -q -p twitch --manifest-path "$copy/Cargo.toml" --target-dir "$target"; t1=$(now)
echo "dev rebuild after one YAML edit and sync without the incremental cache: $(secs "$t0" "$t1") s"
rm -rf "$copy"

if [ "${CLEAN:-1}" = 1 ]; then
  rm -rf "$target"
  t0=$(now); cargo build -q --release -p twitch --target-dir "$target"; t1=$(now)
  echo "clean build with all dependencies: $(secs "$t0" "$t1") s"
fi
