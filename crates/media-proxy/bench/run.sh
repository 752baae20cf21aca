#!/usr/bin/env bash
# media-proxy benchmark: builds in release, then runs the load generator pinned to core 1 against
# (a) the trivial in-process passthrough baseline and (b) media-proxy, each pinned to core 0.
# Usage: crates/media-proxy/bench/run.sh [CALLS] [MEASURE_SECS]
#   CALLS defaults to 100,250,500,1000; MEASURE_SECS to 20. Figures go to stdout (and
#   target/bench-media-proxy.txt); they are printed, not asserted.
set -euo pipefail
cd "$(dirname "$0")/../../.."
CALLS="${1:-100,250,500,1000}"
MEASURE="${2:-20}"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release -p media-proxy -p sandbox --bin media-proxy --bin loadgen
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
OUT="$TARGET_DIR/bench-media-proxy.txt"
{
  echo "# $(date -u +%FT%TZ) $(nproc) cores; generator on core 1, target on core 0; ${MEASURE}s windows"
  echo "## baseline: trivial passthrough"
  taskset -c 1 "$TARGET_DIR/release/loadgen" bench --target passthrough --binary "$TARGET_DIR/release/loadgen" \
    --core 0 --calls "$CALLS" --measure-secs "$MEASURE"
  echo "## media-proxy"
  taskset -c 1 "$TARGET_DIR/release/loadgen" bench --target media-proxy --binary "$TARGET_DIR/release/media-proxy" \
    --core 0 --calls "$CALLS" --measure-secs "$MEASURE"
} | tee "$OUT"
