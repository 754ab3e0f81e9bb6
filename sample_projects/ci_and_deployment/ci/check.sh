#!/usr/bin/env bash
# What a CI job runs for this project: every script compiles, 600 frames
# headless within the [budgets] of ecscope.toml (exit 3 names any that is
# exceeded), and, kept as the job's artifacts in $OUT (default ci-out/ where
# the job runs):
# the event stream, a Perfetto trace, a profile and an HTML report. With a
# profile from an earlier build in baseline/profile.puffin, it also prints
# what changed since.
#
#   ECSCOPE=path/to/ecscope OUT=ci-out ci/check.sh
set -euo pipefail
ecscope=${ECSCOPE:-ecscope}
# A path given relative to where the job runs still works after the cd.
if [[ "$ecscope" == */* ]]; then
  ecscope="$(cd "$(dirname "$ecscope")" && pwd)/$(basename "$ecscope")"
fi
out=${OUT:-ci-out}
mkdir -p "$out"
out="$(cd "$out" && pwd)"
cd "$(dirname "$0")/.."


"$ecscope" check .

status=0
"$ecscope" run . --frames 600 --check-budgets \
  --events "$out/events.jsonl" --trace "$out/trace.json" --profile "$out/profile.puffin" \
  || status=$?

# The report is written whatever the budgets said: it shows where the time went.
"$ecscope" report . --frames 600 -o "$out/report.html" || true

if [ -f baseline/profile.puffin ]; then
  "$ecscope" compare baseline/profile.puffin "$out/profile.puffin"
fi

if [ "$status" -eq 3 ]; then
  echo "over budget: see the lines above, and $out/report.html" >&2
elif [ "$status" -ne 0 ]; then
  echo "the run failed (exit $status): see the lines above" >&2
fi
exit "$status"
