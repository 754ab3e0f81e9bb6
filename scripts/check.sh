#!/usr/bin/env bash
# Everything CI checks, plus formatting and lints, locally.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --check
bash scripts/layers.sh
cargo clippy --release --all-targets -- -D warnings
cargo clippy --release --no-default-features --features lua,python --all-targets -- -D warnings
cargo test --release
cargo test --release --no-default-features --features lua,python --lib --tests
