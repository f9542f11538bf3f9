//! Percentiles, process memory, the machine line and number formatting.

use std::time::Duration;

/// A field of `/proc/self/status` in KiB (0 if unavailable).
fn status_kib(field: &str) -> usize {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    text.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Resident set size, KiB.
pub fn rss_kib() -> usize {
    status_kib("VmRSS:")
}

/// Peak resident set size, KiB.
pub fn peak_rss_kib() -> usize {
    status_kib("VmHWM:")
}

/// Nearest-rank percentile (`p` in 0..=1) of unsorted durations.
pub fn percentile(times: &[Duration], p: f64) -> Option<Duration> {
    if times.is_empty() {
        return None;
    }
    let mut sorted = times.to_vec();
    sorted.sort_unstable();
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

/// Milliseconds with about three significant digits.
pub fn ms(d: Duration) -> String {
    let v = d.as_secs_f64() * 1000.0;
    if v < 0.1 {
        format!("{v:.4}")
    } else if v < 1.0 {
        format!("{v:.3}")
    } else if v < 10.0 {
        format!("{v:.2}")
    } else if v < 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

/// `ours / peer` as `1/N` when ours is faster (N = how many times), else as a decimal.
pub fn ratio(ours: Duration, peer: Duration) -> String {
    let (o, p) = (ours.as_secs_f64(), peer.as_secs_f64());
    if o <= 0.0 || p <= 0.0 {
        return "–".into();
    }
    let r = o / p;
    if r < 1.0 {
        let inv = 1.0 / r;
        if inv < 10.0 {
            format!("1/{inv:.1}")
        } else {
            format!("1/{inv:.0}")
        }
    } else {
        format!("{r:.2}")
    }
}

pub fn mib(bytes: f64) -> String {
    format!("{:.1} MiB", bytes / 1048576.0)
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `nproc`, memory and CPU model.
pub fn machine_line() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kib: f64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map_or("unknown CPU".to_string(), |s| s.trim().to_string());
    format!(
        "{cores} cores (nproc), {:.1} GiB RAM, {model}",
        mem_kib / 1048576.0
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_formats() {
        let t: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&t, 0.5), Some(Duration::from_millis(50)));
        assert_eq!(percentile(&t, 0.99), Some(Duration::from_millis(99)));
        assert_eq!(percentile(&t[..1], 0.99), Some(Duration::from_millis(1)));
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(12), "12");
        assert_eq!(
            ratio(Duration::from_micros(10), Duration::from_millis(1)),
            "1/100"
        );
        assert_eq!(
            ratio(Duration::from_millis(2), Duration::from_millis(1)),
            "2.00"
        );
    }
}
