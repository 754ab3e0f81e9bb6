#!/usr/bin/env bash
# Regenerates screenshots/ from the real app: each shot opens a sample,
# runs a fixed number of frames paused, captures the window through eframe
# and quits, so the images change only when the app or the samples do.
# Uses the current DISPLAY, or starts Xvfb when there is none.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release
if [ -z "${DISPLAY:-}" ]; then
  command -v Xvfb >/dev/null || { echo "needs Xvfb (apt-get install xvfb)" >&2; exit 1; }
  Xvfb :97 -screen 0 1600x1000x24 >/dev/null 2>&1 &
  xvfb=$!
  trap 'kill $xvfb' EXIT
  export DISPLAY=:97
  sleep 1
fi
shot() { # name project steps [select]
  local args=("sample_projects/$2" --screenshot "screenshots/$1.png" --steps "$3")
  [ -n "${4:-}" ] && args+=(--select "$4")
  ./target/release/ecscope "${args[@]}"
}
shot boids boids 600 17
shot hello_lua hello_lua 90 1
shot cross_language cross_language 300 1
