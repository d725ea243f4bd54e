//! Timestamps as the API writes them: RFC 3339 UTC with microseconds, e.g. `2026-01-15T10:30:00.123456Z`.
//! The fixed width makes them sort correctly as text, which the list ordering relies on.

use time::format_description::FormatItem;
use time::macros::format_description;
use time::OffsetDateTime;

const FORMAT: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

pub fn format(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(FORMAT)
        .expect("a UTC timestamp always formats")
}

pub fn now() -> String {
    format(OffsetDateTime::now_utc())
}

/// Parses any RFC 3339 timestamp (with offset) and normalises it to the API's format.
pub fn parse_rfc3339(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_microseconds_in_utc() {
        let t = parse_rfc3339("2026-01-15T12:30:00.5+02:00").unwrap();
        assert_eq!(format(t), "2026-01-15T10:30:00.500000Z");
    }

    #[test]
    fn rejects_non_rfc3339() {
        assert!(parse_rfc3339("2026-01-15 10:30").is_none());
        assert!(parse_rfc3339("yesterday").is_none());
    }
}
