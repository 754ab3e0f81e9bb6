#!/usr/bin/env bash
# Fails when a lower layer of the library names a higher one (ARCHITECTURE.md):
#   base (project, profiling, hot_reload, crash) < ecs < scripting < runtime
#   < front ends (dap, headless, bench, check, new_project, types, report) < gui
# A name counts wherever it is written, doc links included: `crate::runtime`
# in src/scripting is a failure. `super::super` is refused in layered code,
# since it could reach across a layer unseen.
set -euo pipefail
cd "$(dirname "$0")/.."

front="dap|headless|bench|check|new_project|types|report"
declare -A higher=(
  [project]="ecs|scripting|runtime|$front|gui"
  [profiling]="ecs|scripting|runtime|$front|gui"
  [hot_reload]="ecs|scripting|runtime|$front|gui"
  [crash]="ecs|scripting|runtime|$front|gui"
  [ecs]="scripting|runtime|$front|gui"
  [scripting]="runtime|$front|gui"
  [runtime]="$front|gui"
  [dap]="gui"
  [headless]="gui"
  [bench]="gui"
  [check]="gui"
  [new_project]="gui"
  [types]="gui"
  [report]="gui"
)

failed=0
for layer in "${!higher[@]}"; do
  files=()
  [ -d "src/$layer" ] && while IFS= read -r f; do files+=("$f"); done < <(find "src/$layer" -name '*.rs')
  [ -f "src/$layer.rs" ] && files+=("src/$layer.rs")
  [ ${#files[@]} -eq 0 ] && continue
  if grep -nE "crate::(${higher[$layer]})\b|super::super" "${files[@]}"; then
    echo "layers: src/$layer names a higher layer (${higher[$layer]//|/, }) above" >&2
    failed=1
  fi
done
[ "$failed" -eq 0 ] && echo "layers: every layer names only layers below it"
exit "$failed"
