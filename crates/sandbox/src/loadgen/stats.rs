//! Measurement: one-way latency samples per direction inside a measurement window, frames sent
//! and received inside it (their difference is the loss), set-up times, and the target process's
//! CPU and memory read from `/proc/<pid>/stat` and `/proc/<pid>/status`.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// The generator's single clock.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    epoch: Instant,
}

impl Clock {
    /// Starts the clock.
    pub fn new() -> Self {
        Self { epoch: Instant::now() }
    }

    /// Microseconds since the epoch.
    pub fn now_us(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

/// One direction's counters.
#[derive(Debug, Default)]
pub struct Direction {
    /// Frames sent inside the window.
    pub sent: AtomicU64,
    /// Frames received whose send time is inside the window.
    pub received: AtomicU64,
    /// Latency samples (µs) of those frames.
    pub latencies: Mutex<Vec<u32>>,
}

/// Everything a run records.
#[derive(Debug, Default)]
pub struct Recorder {
    /// Window start (µs), 0 = not started.
    pub window_start: AtomicU64,
    /// Window end (µs), `u64::MAX` = open.
    pub window_end: AtomicU64,
    /// Twilio → agent.
    pub inbound: Direction,
    /// Agent → Twilio.
    pub outbound: Direction,
    /// Twilio `start` → first agent frame at the Twilio client (µs), one per stream.
    pub setup: Mutex<Vec<u32>>,
    /// Streams that could not connect or were closed early.
    pub failed_streams: AtomicU64,
}

impl Recorder {
    /// A recorder with no window yet.
    pub fn new() -> Self {
        let r = Self::default();
        r.window_end.store(u64::MAX, Ordering::Relaxed);
        r
    }

    /// Whether a frame sent at `sent_us` belongs to the measurement.
    pub fn in_window(&self, sent_us: u64) -> bool {
        let start = self.window_start.load(Ordering::Relaxed);
        start != 0 && sent_us >= start && sent_us < self.window_end.load(Ordering::Relaxed)
    }
}

/// A per-task buffer merged into the [`Recorder`] when the task ends (no lock per frame).
#[derive(Debug, Default)]
pub struct Local {
    /// Latencies of received frames.
    pub latencies: Vec<u32>,
    /// Frames received in the window.
    pub received: u64,
    /// Frames sent in the window.
    pub sent: u64,
}

impl Local {
    /// Adds this buffer into `dir`.
    pub fn merge_into(&mut self, dir: &Direction) {
        dir.sent.fetch_add(self.sent, Ordering::Relaxed);
        dir.received.fetch_add(self.received, Ordering::Relaxed);
        if let Ok(mut all) = dir.latencies.lock() {
            all.append(&mut self.latencies);
        }
    }
}

/// p-th percentile (0..=100) of sorted samples.
pub fn percentile(sorted: &[u32], p: f64) -> Option<u32> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted.get(rank.min(sorted.len() - 1)).copied()
}

/// CPU time (user + system) of a process in clock ticks.
pub fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may contain spaces.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Clock ticks per second (`getconf CLK_TCK`, 100 when unknown).
pub fn ticks_per_second() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}

/// Resident set size of a process in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_right_rank() {
        let v: Vec<u32> = (1..=1000).collect();
        assert_eq!(percentile(&v, 50.0), Some(501));
        assert_eq!(percentile(&v, 99.0), Some(990));
        assert_eq!(percentile(&v, 100.0), Some(1000));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn proc_readings_work_for_this_process() {
        let pid = std::process::id();
        assert!(cpu_ticks(pid).is_some());
        assert!(rss_kib(pid).is_some_and(|k| k > 0));
    }

    #[test]
    fn the_window_bounds_what_counts() {
        let r = Recorder::new();
        assert!(!r.in_window(10), "no window yet");
        r.window_start.store(100, Ordering::Relaxed);
        assert!(r.in_window(100) && r.in_window(10_000));
        r.window_end.store(200, Ordering::Relaxed);
        assert!(!r.in_window(200) && !r.in_window(99));
    }
}
