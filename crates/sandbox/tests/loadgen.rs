//! The media-proxy load generator end to end, against its own trivial passthrough (a child
//! process, as in the benchmark): every stream is set up, frames flow both ways with their
//! stamps intact, and none is lost. The benchmark's figures come from this same code.

use sandbox::loadgen::{BenchConfig, Target, run_once};
use std::time::Duration;

#[tokio::test(flavor = "current_thread")]
async fn the_generator_drives_a_bridge_both_ways_and_loses_nothing() {
    let config = BenchConfig {
        target: Target::Passthrough,
        binary: env!("CARGO_BIN_EXE_loadgen").into(),
        core: None,
        counts: vec![20],
        ramp: Duration::from_millis(500),
        warmup: Duration::from_millis(500),
        measure: Duration::from_secs(2),
    };
    let r = run_once(&config, 20).await.expect("run");
    assert_eq!(r.failed, 0, "every stream set up and stayed up");
    assert!(r.sent[0] > 0 && r.sent[1] > 0, "frames were sent both ways: {:?}", r.sent);
    assert_eq!(r.lost, [0, 0], "sent {:?}", r.sent);
    assert!(r.inbound[0] > 0 && r.outbound[0] > 0, "latencies were measured from the stamps");
    assert!(r.setup[0] > 0, "set-up was measured");
    assert!(r.rss_kib.iter().all(|&k| k > 0) && r.cpu_pct > 0.0, "the target process was read: {r:?}");
}
