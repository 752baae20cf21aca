#!/usr/bin/env bash
# media-proxy benchmark: builds in release, then runs the load generator pinned to core 1 against
# (a) the trivial in-process passthrough baseline and (b) media-proxy, each pinned to core 0.
# Both run SCHED_FIFO (chrt -f 10; the target inherits it from the generator) so that other
# work on a shared machine (compilers...) cannot preempt them: without it, figures measure the
# scheduler, not the bridge. Needs root (or CAP_SYS_NICE); the kernel's RT throttling still
# leaves 5 % of each core to everything else.
# Then the CPU ratio from pairs of runs (`loadgen compare`: passthrough and media-proxy back to
# back, order alternating, median of the pairs' ratios), because single runs at low load vary
# by far more than the difference being measured.
# Usage: crates/media-proxy/bench/run.sh [CALLS] [MEASURE_SECS] [PAIRS]
#   CALLS defaults to 100,250,500,1000 (the generator keeps real time to about 1,200 here);
#   MEASURE_SECS to 20; PAIRS to 5 (0 skips the comparison; each pair takes about
#   2 × (MEASURE_SECS + 15) s per N). Figures go to stdout (and
#   target/bench-media-proxy.txt); they are printed, not asserted.
set -euo pipefail
cd "$(dirname "$0")/../../.."
CALLS="${1:-100,250,500,1000}"
MEASURE="${2:-20}"
PAIRS="${3:-5}"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release -p media-proxy -p sandbox --bin media-proxy --bin loadgen
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
OUT="$TARGET_DIR/bench-media-proxy.txt"
{
  echo "# $(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); generator on core 1, target on core 0; ${MEASURE}s windows"
  echo "## baseline: trivial passthrough"
  chrt -f 10 taskset -c 1 "$TARGET_DIR/release/loadgen" bench --target passthrough --binary "$TARGET_DIR/release/loadgen" \
    --core 0 --calls "$CALLS" --measure-secs "$MEASURE"
  echo "## media-proxy"
  chrt -f 10 taskset -c 1 "$TARGET_DIR/release/loadgen" bench --target media-proxy --binary "$TARGET_DIR/release/media-proxy" \
    --core 0 --calls "$CALLS" --measure-secs "$MEASURE"
  if [ "$PAIRS" -gt 0 ]; then
    echo "## CPU ratio: pairs of runs"
    chrt -f 10 taskset -c 1 "$TARGET_DIR/release/loadgen" compare --binary "$TARGET_DIR/release/media-proxy" \
      --core 0 --calls "$CALLS" --repeat "$PAIRS" --measure-secs "$MEASURE"
  fi
} | tee "$OUT"
