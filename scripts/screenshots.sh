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
shot() { # name project steps [extra ecscope options...]
  local name=$1 project=$2 steps=$3
  shift 3
  ./target/release/ecscope "sample_projects/$project" --screenshot "screenshots/$name.png" --steps "$steps" "$@"
}
# The start screen's thumbnails: each sample's scene after five seconds,
# cropped from the default layout (the scene pane's place in a 1400x860
# window).
command -v convert >/dev/null || { echo "needs imagemagick (apt-get install imagemagick)" >&2; exit 1; }
for dir in sample_projects/*/; do
  dir=${dir%/}
  full=$(mktemp --suffix=.png)
  ./target/release/ecscope "$dir" --screenshot "$full" --steps 300
  convert "$full" -crop 800x400+252+95 +repage -resize 480x240 "$dir/thumbnail.png"
  rm -f "$full"
done
./target/release/ecscope --screenshot screenshots/start.png --steps 0

shot boids boids 600 --select 17
shot hello_lua hello_lua 90 --select 1
shot cross_language cross_language 300 --select 1
shot coroutines ai_coroutines 400 --panel Coroutines --coroutine 1
shot scripts ai_coroutines 400 --panel Scripts --coroutine 5
shot hello_python hello_python 300 --select 1
shot components_queries components_queries 600 --select 1
shot asteroids asteroids 1000 --select 5
shot batch_performance batch_performance 300 --panel Profiler
shot stress stress 120 --select 1
shot stress_scripts stress_scripts 120 --panel Memory

# debug: the Debug view at a stop, from a breakpoint kept in a scratch
# copy's .ecscope/breakpoints.json (guard-1 reaches line 14 in the first
# frame).
work=$(mktemp -d)
cp -r sample_projects/ai_coroutines/. "$work/"
rm -rf "$work/.ecscope"
mkdir -p "$work/.ecscope"
cat > "$work/.ecscope/breakpoints.json" <<'JSON'
{ "version": 1, "break_on_error": true,
  "breakpoints": [ { "file": "scripts/guards.lua", "line": 14, "enabled": true } ] }
JSON
./target/release/ecscope "$work" --screenshot screenshots/debug.png --steps 1
rm -rf "$work"

# hot_reload: a history made the way a user makes one, by saving while the
# project runs (a good edit, a broken one, the fix), in a scratch copy.
work=$(mktemp -d)
cp -r sample_projects/hot_reload/. "$work/"
rm -rf "$work/.ecscope"
./target/release/ecscope run "$work" --frames 240 --realtime --watch >/dev/null &
runner=$!
sleep 1
garden="$work/scripts/garden.lua"
sed -i 's/^local PETALS = 12 /local PETALS = 18 /' "$garden"; sleep 0.5
sed -i 's/^local RADIUS = 14 /local RADIUS = /' "$garden"; sleep 0.5
sed -i 's/^local RADIUS = /local RADIUS = 16 /' "$garden"; sleep 0.5
wait $runner || true
./target/release/ecscope "$work" --screenshot screenshots/hot_reload.png --steps 300 --panel Scripts
rm -rf "$work"

shot profiler profiling_hotspots 240 --panel Profiler
shot memory memory_leak 1200 --panel Memory
