//! The CPU-ratio comparison (`loadgen compare`): for each N, several pairs of runs, the
//! passthrough baseline and media-proxy back to back, the order alternating from pair to pair.
//!
//! One run of each says little at low load: this VM's speed drifts by ±10 % over minutes, and
//! at 100 streams (≈ 10 % of a core) single runs of the *same* binary differ by up to 40 %.
//! Pairing puts the drift on both sides of each ratio alike, alternating the order cancels a
//! steady trend, and the median of the pairs' ratios is not moved by one disturbed run.

use super::RunResult;

/// One pair of runs with the same N, close together in time.
#[derive(Debug, Clone)]
pub struct Pair {
    /// The trivial passthrough.
    pub baseline: RunResult,
    /// The bridge under test.
    pub proxy: RunResult,
}

impl Pair {
    /// The bridge's CPU per call over the baseline's (both ran the same N).
    pub fn ratio(&self) -> f64 {
        if self.baseline.cpu_pct > 0.0 { self.proxy.cpu_pct / self.baseline.cpu_pct } else { f64::NAN }
    }
}

/// Whether pair `index` (from 0) runs the baseline first: alternating cancels a steady drift.
pub fn baseline_first(index: usize) -> bool {
    index.is_multiple_of(2)
}

/// The median (mean of the middle two for an even count); `None` when empty.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len().is_multiple_of(2) { (v[mid - 1] + v[mid]) / 2.0 } else { v[mid] })
}

/// Table header of [`format_pair`] and [`format_summary`] rows.
pub const HEADER: &str = "| calls | pair | passthrough CPU | media-proxy CPU | ratio | passthrough p99 in/out ms | media-proxy p99 in/out ms | media-proxy lost in/out | failed |\n|---|---|---|---|---|---|---|---|---|";

fn p99(r: &RunResult) -> String {
    format!("{:.2} / {:.2}", f64::from(r.inbound[1]) / 1000.0, f64::from(r.outbound[1]) / 1000.0)
}

/// One pair's row.
pub fn format_pair(index: usize, pair: &Pair) -> String {
    let (b, p) = (&pair.baseline, &pair.proxy);
    format!(
        "| {:>5} | {} | {:.1} % | {:.1} % | {:.2} | {} | {} | {} / {} | {} |",
        p.streams,
        index + 1,
        b.cpu_pct,
        p.cpu_pct,
        pair.ratio(),
        p99(b),
        p99(p),
        p.lost[0],
        p.lost[1],
        b.failed + p.failed,
    )
}

/// The summary row of one N: median CPU of each side, the median of the pairs' ratios and
/// their range.
pub fn format_summary(pairs: &[Pair]) -> String {
    let n = pairs.first().map_or(0, |p| p.proxy.streams);
    let base = median(&pairs.iter().map(|p| p.baseline.cpu_pct).collect::<Vec<_>>()).unwrap_or(f64::NAN);
    let proxy = median(&pairs.iter().map(|p| p.proxy.cpu_pct).collect::<Vec<_>>()).unwrap_or(f64::NAN);
    let ratios: Vec<f64> = pairs.iter().map(Pair::ratio).collect();
    let ratio = median(&ratios).unwrap_or(f64::NAN);
    let lo = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let lost: u64 = pairs.iter().map(|p| p.proxy.lost[0] + p.proxy.lost[1]).sum();
    let failed: u64 = pairs.iter().map(|p| p.baseline.failed + p.proxy.failed).sum();
    format!(
        "| **{n}** | **median of {}** | **{base:.1} %** | **{proxy:.1} %** | **{ratio:.2}** (range {lo:.2}–{hi:.2}) | | | {lost} in all | {failed} |",
        pairs.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(streams: usize, cpu_pct: f64) -> RunResult {
        RunResult { streams, cpu_pct, ..RunResult::default() }
    }

    #[test]
    fn median_of_odd_and_even_counts_ignores_nan() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[f64::NAN, 5.0]), Some(5.0));
    }

    #[test]
    fn the_ratio_is_per_pair_and_the_summary_takes_the_median() {
        let pairs = vec![
            Pair { baseline: run(100, 10.0), proxy: run(100, 12.0) },
            Pair { baseline: run(100, 8.0), proxy: run(100, 16.0) },
            Pair { baseline: run(100, 10.0), proxy: run(100, 11.0) },
        ];
        assert!((pairs[1].ratio() - 2.0).abs() < 1e-9);
        let row = format_summary(&pairs);
        assert!(row.contains("**1.20** (range 1.10–2.00)"), "{row}");
        assert!(row.contains("**10.0 %** | **12.0 %**"), "{row}");
        assert!(format_pair(1, &pairs[1]).starts_with("|   100 | 2 | 8.0 % | 16.0 % | 2.00 |"));
    }

    #[test]
    fn a_baseline_that_measured_nothing_gives_no_ratio() {
        let pair = Pair { baseline: run(100, 0.0), proxy: run(100, 12.0) };
        assert!(pair.ratio().is_nan());
        assert!(format_summary(&[pair]).contains("**NaN**"));
    }

    #[test]
    fn the_order_alternates() {
        assert!(baseline_first(0) && !baseline_first(1) && baseline_first(2));
    }
}
