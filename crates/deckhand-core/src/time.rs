//! Formatting of epoch timestamps without a date library.

/// Formats epoch milliseconds as `YYYY-MM-DDTHH:MM:SSZ` (UTC).
pub fn format_utc(epoch_ms: i64) -> String {
    let secs = epoch_ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Formats epoch milliseconds as `HH:MM:SS` (UTC), for log lines.
pub fn format_clock(epoch_ms: i64) -> String {
    format_utc(epoch_ms)[11..19].to_string()
}

// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
        // 2021-04-23T04:59:22.787Z, from the circuit breaker capture in the reference notes.
        assert_eq!(format_utc(1_619_153_962_787), "2021-04-23T04:59:22Z");
        assert_eq!(format_utc(1_709_210_096_000), "2024-02-29T12:34:56Z");
        assert_eq!(format_clock(1_709_210_096_000), "12:34:56");
    }
}
