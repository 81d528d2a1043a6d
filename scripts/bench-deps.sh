#!/usr/bin/env bash
# What a user's clean build costs, side by side with the peer crate in the
# same run: a program with an empty `main` depending on
#   - twitch with default features,
#   - twitch with `helix` only,
#   - twitch with `eventsub` only,
#   - twitch_api 0.8 with helix, eventsub, client and reqwest (the peer, as
#     the issue measured it: its reqwest has no TLS, so it cannot reach
#     https://api.twitch.tv),
#   - the same plus the TLS its users must add to reach Twitch, the stack
#     twitch itself uses (reqwest's rustls with ring, HTTP/2): like for like,
#   - the floor: no Twitch crate at all, only what both need to call Helix
#     (reqwest with rustls and ring, tokio, serde, serde_json): what no
#     Twitch client on this stack can build faster than,
#   - the default floor: the floor plus what the default features need of
#     the mandated stack (HTTP/2, tokio-tungstenite for WebSocket sessions)
#     and the build-time generator's mandated crates (syn, quote,
#     proc-macro2, prettyplease, serde-saphyr) as build dependencies of an
#     empty build script: what no build of the default features, generated
#     at build time on this stack, can be faster than,
# each built from nothing (its own target directory), release, ROUNDS times
# with the builds taking turns, so every figure saw the same machine.
# Prints wall time and peak memory per build, the ratios to the peer, and
# the generator's share of the default build (from `cargo build --timings`).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
rounds=${ROUNDS:-2}
work=${BENCH_DIR:-/tmp/twitch-bench-deps}
rm -rf "$work"
mkdir -p "$work"

project() { # name, dependency line
  mkdir -p "$work/$1/src"
  printf 'fn main() {}\n' > "$work/$1/src/main.rs"
  cat > "$work/$1/Cargo.toml" <<EOF
[package]
name = "bench-$1"
version = "0.0.0"
edition = "2024"

[dependencies]
$2

[workspace]
EOF
}

project twitch-default "twitch = { path = \"$repo/generated\" }"
project twitch-helix "twitch = { path = \"$repo/generated\", default-features = false, features = [\"helix\"] }"
project twitch-eventsub "twitch = { path = \"$repo/generated\", default-features = false, features = [\"eventsub\"] }"
chat_bot='"helix-chat", "helix-moderation", "helix-users", "eventsub-chat", "eventsub-channel", "websocket", "oauth"'
project twitch-chat-bot "twitch = { path = \"$repo/generated\", default-features = false, features = [$chat_bot] }"
peer='twitch_api = { version = "0.8", features = ["helix", "eventsub", "client", "reqwest"] }'
project twitch-api "$peer"
project twitch-api-tls "$peer
reqwest = { version = \"0.13\", default-features = false, features = [\"rustls-no-provider\", \"http2\"] }
rustls = { version = \"0.23\", default-features = false, features = [\"ring\", \"std\", \"tls12\"] }"

project floor "reqwest = { version = \"0.13\", default-features = false, features = [\"rustls-no-provider\"] }
rustls = { version = \"0.23\", default-features = false, features = [\"ring\", \"std\", \"tls12\"] }
tokio = { version = \"1\", features = [\"rt\", \"net\", \"time\", \"sync\", \"macros\"] }
serde = { version = \"1\", features = [\"derive\"] }
serde_json = \"1\""

# What a build of the default features or a chat bot's set needs beside
# reqwest: the rest of the floor, tokio-tungstenite, and the generator's
# crates as build dependencies of an empty build script.
websocket_and_generator="rustls = { version = \"0.23\", default-features = false, features = [\"ring\", \"std\", \"tls12\"] }
tokio = { version = \"1\", features = [\"rt\", \"net\", \"time\", \"sync\", \"macros\"] }
serde = { version = \"1\", features = [\"derive\"] }
serde_json = \"1\"
tokio-tungstenite = { version = \"0.30\", default-features = false, features = [\"handshake\"] }

[build-dependencies]
serde = { version = \"1\", features = [\"derive\"] }
serde_json = \"1\"
serde-saphyr = { version = \"2\", default-features = false, features = [\"deserialize\"] }
syn = { version = \"3\", default-features = false, features = [\"full\", \"parsing\"] }
quote = \"1\"
proc-macro2 = { version = \"1\", default-features = false }
prettyplease = \"0.3\""

project floor-default "reqwest = { version = \"0.13\", default-features = false, features = [\"rustls-no-provider\", \"http2\"] }
$websocket_and_generator"
printf 'fn main() {}\n' > "$work/floor-default/build.rs"

# A chat bot's floor: the default floor without HTTP/2 (the chat bot's set
# has WebSocket sessions and OAuth, not HTTP/2).
project floor-chat-bot "reqwest = { version = \"0.13\", default-features = false, features = [\"rustls-no-provider\"] }
$websocket_and_generator"
printf 'fn main() {}\n' > "$work/floor-chat-bot/build.rs"

# NAMES="floor twitch-helix twitch-api twitch-api-tls" measures some only (the
# ratios need twitch-api and twitch-api-tls); SHARE=0 skips the generator's share.
read -r -a names <<< "${NAMES:-twitch-default twitch-helix twitch-chat-bot twitch-eventsub twitch-api twitch-api-tls floor floor-default floor-chat-bot}"
for n in "${names[@]}"; do
  # Resolve and download first, so the timed builds do no network I/O.
  (cd "$work/$n" && cargo fetch -q)
done

echo "machine: $(nproc) cores, rustc $(rustc --version | cut -d' ' -f2)"
declare -A best mem
for round in $(seq "$rounds"); do
  for n in "${names[@]}"; do
    rm -rf "$work/$n/target"
    log=$(mktemp)
    t0=$(date +%s.%N)
    (cd "$work/$n" && /usr/bin/time -v -o "$log" cargo build -q --release)
    t1=$(date +%s.%N)
    s=$(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }")
    m=$(awk '/Maximum resident/ { printf "%.0f", $6 / 1024 }' "$log")
    rm -f "$log"
    echo "round $round  $n: $s s, peak $m MiB"
    if [ -z "${best[$n]:-}" ] || awk "BEGIN { exit !($s < ${best[$n]}) }"; then best[$n]=$s; mem[$n]=$m; fi
  done
done

# ROUNDS=0 measures nothing here: only the timings below (SHARE=1).
if [ "$rounds" -gt 0 ]; then
echo
echo "best of $rounds (wall time, peak memory of one compiler process or build script):"
for n in "${names[@]}"; do
  bare=$(awk "BEGIN { printf \"%.2f\", ${best[$n]} / ${best[twitch-api]} }")
  tls=$(awk "BEGIN { printf \"%.2f\", ${best[$n]} / ${best[twitch-api-tls]} }")
  echo "  $n: ${best[$n]} s, ${mem[$n]} MiB, ${bare}x twitch_api, ${tls}x twitch_api with TLS"
done
# What the project's crates add above the floor of the same feature set, as
# a share of the like-for-like peer (issue 29's goals).
above() { # set, floor
  if [ -n "${best[$1]:-}" ] && [ -n "${best[$2]:-}" ]; then
    awk "BEGIN { printf \"  %s above %s: %.1f s, %.2fx twitch_api with TLS\\n\", \"$1\", \"$2\", ${best[$1]} - ${best[$2]}, (${best[$1]} - ${best[$2]}) / ${best[twitch-api-tls]} }"
  fi
}
echo "above the floors:"
above twitch-default floor-default
above twitch-helix floor
above twitch-chat-bot floor-chat-bot
fi

[ "${SHARE:-1}" = 1 ] || exit 0

# The generator's share of the default build: its dependencies (the crates
# the rest of the build does not use, and the second, build-time copy of
# those it shares with the runtime), its own compilation, and the build
# scripts' compilation and runs. Then, for the default build and the chat
# bot's set, the critical path's end: when each of the last units ran, and
# the core-seconds the build left idle.
gen_tree=$(cargo tree -q -p twitch-codegen --no-default-features -e normal --prefix none --manifest-path "$repo/Cargo.toml" | awk '{print $1}' | sort -u | tr '\n' ' ')
# What the rest of the build needs anyway (the runtime with its proc macros).
rest_tree=$(cargo tree -q -p twitch-runtime -e normal,build --prefix none --manifest-path "$repo/Cargo.toml" | awk '{print $1}' | sort -u | tr '\n' ' ')
for n in twitch-default twitch-chat-bot; do
cd "$work/$n"
rm -rf target
cargo build -q --release --timings
report=$(ls target/cargo-timings/cargo-timing-*.html | head -1)
echo "$n, from cargo build --timings:"
python3 - "$report" "$gen_tree" "$rest_tree" "$n" "$(nproc)" <<'PY'
import json, re, sys
from collections import defaultdict
html = open(sys.argv[1]).read()
gen_tree = set(sys.argv[2].split())
rest_tree = set(sys.argv[3].split())
units = json.loads(re.search(r"const UNIT_DATA = (\[.*?\]);", html, re.S).group(1))
ours = ("twitch", "twitch-models")
by_name = defaultdict(list)
for u in units:
    if u["name"] not in ours:
        by_name[u["name"]].append(u)
gen = []
for name in gen_tree:
    copies = by_name.get(name, [])
    if name == "twitch-codegen" or name not in rest_tree:
        # Only the generator needs it.
        gen += copies
    elif len(copies) > 1:
        # Built twice: for the program and, unoptimised, for the build
        # script; the second copy is the generator's.
        gen.append(min(copies, key=lambda u: u["duration"]))
script = [u for u in units if u["name"] in ours and "build-script" in u["target"]]
gsum = sum(u["duration"] for u in gen + script)
total = sum(u["duration"] for u in units)
wall = max(u["start"] + u["duration"] for u in units)
if sys.argv[4] == "twitch-default":
    print(f"  generator's share: {gsum:.1f} s of {total:.1f} s of compile time ({100 * gsum / total:.0f}%)")
    for u in script:
        print(f"  {u['name']} {u['target'].strip()}: {u['start']:.1f}-{u['start'] + u['duration']:.1f}")
    print(f"  its crates: {', '.join(sorted(set(u['name'] for u in gen)))}")
cores = int(sys.argv[5])
print(f"  {total:.1f} s of compile time in {wall:.1f} s of wall time: {cores * wall - total:.1f} core-seconds idle on {cores} cores")
print("  the end of the build (start-end, s):")
for name in ["reqwest", "twitch-codegen", "twitch-base", "twitch-models", "twitch-runtime", "twitch"]:
    for u in units:
        if u["name"] == name and "build-script" not in u["target"]:
            print(f"    {name} {u['target'].strip() or 'lib'}: {u['start']:.1f}-{u['start'] + u['duration']:.1f}")
PY
done
