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
#     the mandated stack (HTTP/2, tokio-tungstenite for WebSocket sessions):
#     what no build of the default features on this stack can be faster
#     than (the generated code is in the packages, so no generator is built),
#   - the chat bot's floor: the default floor without HTTP/2,
# each built from nothing (its own target directory), release, ROUNDS times
# with the builds taking turns, so every figure saw the same machine.
# Prints wall time and peak memory per build, the ratios to the peer, what
# each set adds above its floor, and, from `cargo build --timings` of the
# default build and the chat bot's set, where the compile time goes.
# BEFORE=DIR (another checkout of this repository, say at an older commit)
# adds its default build and chat bot's set to the run, side by side.
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
if [ -n "${BEFORE:-}" ]; then
  project before-default "twitch = { path = \"$BEFORE/generated\" }"
  project before-chat-bot "twitch = { path = \"$BEFORE/generated\", default-features = false, features = [$chat_bot] }"
fi
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
# reqwest: the rest of the floor and tokio-tungstenite.
websocket="rustls = { version = \"0.23\", default-features = false, features = [\"ring\", \"std\", \"tls12\"] }
tokio = { version = \"1\", features = [\"rt\", \"net\", \"time\", \"sync\", \"macros\"] }
serde = { version = \"1\", features = [\"derive\"] }
serde_json = \"1\"
tokio-tungstenite = { version = \"0.30\", default-features = false, features = [\"handshake\"] }"

project floor-default "reqwest = { version = \"0.13\", default-features = false, features = [\"rustls-no-provider\", \"http2\"] }
$websocket"

# A chat bot's floor: the default floor without HTTP/2 (the chat bot's set
# has WebSocket sessions and OAuth, not HTTP/2).
project floor-chat-bot "reqwest = { version = \"0.13\", default-features = false, features = [\"rustls-no-provider\"] }
$websocket"

# NAMES="floor twitch-helix twitch-api twitch-api-tls" measures some only (the
# ratios need twitch-api and twitch-api-tls); SHARE=0 skips the timings.
read -r -a names <<< "${NAMES:-twitch-default twitch-helix twitch-chat-bot twitch-eventsub twitch-api twitch-api-tls floor floor-default floor-chat-bot${BEFORE:+ before-default before-chat-bot}}"
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
above before-default floor-default
above before-chat-bot floor-chat-bot
fi

[ "${SHARE:-1}" = 1 ] || exit 0

# Where the compile time of the default build and the chat bot's set goes:
# each of the project's units, the rest together, the core-seconds the
# build left idle, and when the last units ran (the critical path's end).
for n in twitch-default twitch-chat-bot; do
cd "$work/$n"
rm -rf target
cargo build -q --release --timings
report=$(ls target/cargo-timings/cargo-timing-*.html | head -1)
echo "$n, from cargo build --timings:"
python3 - "$report" "$(nproc)" <<'PY'
import json, re, sys
html = open(sys.argv[1]).read()
units = json.loads(re.search(r"const UNIT_DATA = (\[.*?\]);", html, re.S).group(1))
total = sum(u["duration"] for u in units)
wall = max(u["start"] + u["duration"] for u in units)
cores = int(sys.argv[2])
print(f"  {total:.1f} s of compile time in {wall:.1f} s of wall time: {cores * wall - total:.1f} core-seconds idle on {cores} cores")
ours = [u for u in units if u["name"].startswith("twitch")]
print(f"  the project's units: {sum(u['duration'] for u in ours):.1f} s")
for u in sorted(ours, key=lambda u: -u["duration"]):
    print(f"    {u['name']} {u['target'].strip() or 'lib'}: {u['duration']:.1f} s, {u['start']:.1f}-{u['start'] + u['duration']:.1f}")
print("  the end of the build (start-end, s):")
for name in ["reqwest", "tokio-tungstenite"]:
    for u in units:
        if u["name"] == name and "build-script" not in u["target"]:
            print(f"    {name} {u['target'].strip() or 'lib'}: {u['start']:.1f}-{u['start'] + u['duration']:.1f}")
PY
done
