//! Small helpers both benchmark binaries share: option lists and latency figures.

use std::time::Duration;

use anyhow::{Result, anyhow};

/// Parses a comma-separated list such as `1,4,16`; `what` names it in errors.
pub fn parse_list<T: std::str::FromStr>(text: &str, what: &str) -> Result<Vec<T>> {
    text.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse().map_err(|_| anyhow!("bad {what} {s:?}")))
        .collect()
}

/// The nearest-rank percentile `p` (0-100) of sorted latencies; zero when empty.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// A duration in milliseconds, for tables.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&v, 50.0), Duration::from_millis(50));
        assert_eq!(percentile(&v, 99.0), Duration::from_millis(99));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
        assert_eq!(parse_list::<usize>("1, 4,16", "level").unwrap(), vec![1, 4, 16]);
        assert!(parse_list::<usize>("1,x", "level").is_err());
    }
}
