#!/usr/bin/env bash
# The workspace's test command (README): installs what the tests need, then runs them all.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo test --workspace --all-features
