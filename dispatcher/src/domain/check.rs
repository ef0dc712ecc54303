//! The rules every field that enters from the wire must keep, apart from converting it: lengths and
//! characters of strings, ranges of numbers, and how far a time may lie from the service clock.
//!
//! Each check returns a [`ValidationError`] that names the field and says what was wrong, so a
//! caller (gRPC status, dead-letter reason, `Rejected` message) can pass it on as it is.

use chrono::{DateTime, TimeDelta, Utc};

use super::ValidationError;

/// The longest id accepted, in bytes (common.proto).
pub const MAX_ID_BYTES: usize = 128;
/// The longest address accepted, in bytes.
pub const MAX_ADDRESS_BYTES: usize = 512;
/// The longest instructions or free-text reason accepted, in bytes.
pub const MAX_TEXT_BYTES: usize = 1024;
/// The longest free-text note or reason (decline, failure, cancellation, override), in bytes.
pub const MAX_NOTE_BYTES: usize = 512;
/// The longest app version string in a Hello, in bytes.
pub const MAX_APP_VERSION_BYTES: usize = 64;
/// Most equipment tags per order or courier.
pub const MAX_TAGS: usize = 16;
/// The longest equipment tag, in bytes.
pub const MAX_TAG_BYTES: usize = 64;
/// Most fixes in one position message.
pub const MAX_FIXES: usize = 1000;

/// The heaviest order or courier capacity accepted, in grams (a tonne). Bounded so that the
/// planner's load sums stay far from integer overflow.
pub const MAX_WEIGHT_G: u32 = 1_000_000;
/// The largest order or courier capacity accepted, in millilitres (ten cubic metres).
pub const MAX_VOLUME_ML: u32 = 10_000_000;
/// The longest service time at a stop, in seconds.
pub const MAX_SERVICE_S: u32 = 86_400;
/// The highest revision or sequence number accepted: what the store's signed 64-bit columns hold.
/// A larger one could never be stored, and would otherwise look like a storage failure and be
/// retried for ever.
pub const MAX_COUNTER: u64 = i64::MAX as u64;

/// The fastest ground speed in a fix that is taken for a measurement, metres per second. Anything
/// faster is a broken sensor or a made-up value.
pub const MAX_SPEED_MPS: f32 = 1000.0;
/// The widest accuracy radius in a fix, metres.
pub const MAX_ACCURACY_M: f32 = 100_000.0;
/// The largest heading, degrees clockwise from north.
pub const MAX_HEADING_DEG: f32 = 360.0;

/// How far ahead of the service clock a time that has already happened at its source (an order
/// placed, a fix recorded, a courier arriving) may be: the clock skew tolerated between phones,
/// kitchen systems and this service.
pub const MAX_CLOCK_SKEW: TimeDelta = TimeDelta::minutes(5);
/// How long ago a time that has already happened may be. Apps re-send what was not acknowledged
/// after a reconnect, so a phone that was off over a weekend is still accepted.
pub const MAX_HAPPENED_AGE: TimeDelta = TimeDelta::days(7);
/// How far ahead a planned time (ready time, promised window, hold end) may be: orders scheduled
/// for later in the week are fine, a year ahead is a mistake.
pub const MAX_PLAN_AHEAD: TimeDelta = TimeDelta::days(7);
/// How long ago a planned time may be: an order can arrive late, but not a day late.
pub const MAX_PLANNED_AGE: TimeDelta = TimeDelta::days(1);
/// How far ahead a courier's shift end may be.
pub const MAX_SHIFT_AHEAD: TimeDelta = TimeDelta::hours(24);
/// The longest promised delivery window.
pub const MAX_WINDOW: TimeDelta = TimeDelta::days(1);

/// The earliest and latest times a protobuf `Timestamp` may hold (0001-01-01 to 9999-12-31, as
/// `google/protobuf/timestamp.proto` defines), in seconds since the epoch.
pub const TIMESTAMP_SECONDS: std::ops::RangeInclusive<i64> = -62_135_596_800..=253_402_300_799;

type Result<T> = std::result::Result<T, ValidationError>;

/// Checks an opaque id: 1 to [`MAX_ID_BYTES`] bytes, no control characters (they cannot be shown
/// or typed by support, and PostgreSQL refuses NUL).
pub fn check_id(field: &str, id: &str) -> Result<()> {
    if id.is_empty() || id.len() > MAX_ID_BYTES {
        return Err(ValidationError::new(
            field,
            format!("must be 1 to {MAX_ID_BYTES} bytes, got {}", id.len()),
        ));
    }
    if let Some(at) = id.find(char::is_control) {
        return Err(ValidationError::new(
            field,
            format!("must not contain control characters (one at byte {at})"),
        ));
    }
    Ok(())
}

/// Checks free text against a length limit. Line breaks are fine; NUL is not, since PostgreSQL
/// cannot store it and the message would fail as if storage were down, again and again.
pub fn check_text(field: &str, text: &str, max: usize) -> Result<()> {
    if text.len() > max {
        return Err(ValidationError::new(
            field,
            format!("at most {max} bytes, got {}", text.len()),
        ));
    }
    if let Some(at) = text.find('\0') {
        return Err(ValidationError::new(
            field,
            format!("must not contain NUL (one at byte {at})"),
        ));
    }
    Ok(())
}

/// Checks a revision or sequence number against [`MAX_COUNTER`].
pub fn check_counter(field: &str, value: u64) -> Result<()> {
    if value > MAX_COUNTER {
        return Err(ValidationError::new(
            field,
            format!("at most {MAX_COUNTER}, got {value}"),
        ));
    }
    Ok(())
}

/// Checks a whole number against an upper bound, with its unit for the message.
pub fn check_at_most(field: &str, value: u32, max: u32, unit: &str) -> Result<()> {
    if value > max {
        return Err(ValidationError::new(
            field,
            format!("at most {max} {unit}, got {value}"),
        ));
    }
    Ok(())
}

/// Checks a measured number: finite and within `range` (inclusive).
pub fn check_measure(field: &str, value: f32, min: f32, max: f32) -> Result<()> {
    if !value.is_finite() {
        return Err(ValidationError::new(
            field,
            format!("must be a finite number, got {value}"),
        ));
    }
    if value < min || value > max {
        return Err(ValidationError::new(
            field,
            format!("must be from {min} to {max}, got {value}"),
        ));
    }
    Ok(())
}

/// Which times around the service clock a field may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Horizon {
    /// How far before the clock.
    pub past: TimeDelta,
    /// How far after the clock.
    pub future: TimeDelta,
}

impl Horizon {
    /// Something that already happened at its source: a little ahead for clock skew, a week back.
    pub const HAPPENED: Horizon = Horizon {
        past: MAX_HAPPENED_AGE,
        future: MAX_CLOCK_SKEW,
    };
    /// Something planned: a ready time, a promised window.
    pub const PLANNED: Horizon = Horizon {
        past: MAX_PLANNED_AGE,
        future: MAX_PLAN_AHEAD,
    };
    /// When an event happened at its source, as far back as a replay may go: only the clock skew
    /// ahead is bounded.
    pub const OCCURRED: Horizon = Horizon {
        past: TimeDelta::MAX,
        future: MAX_CLOCK_SKEW,
    };
    /// A courier's shift end.
    pub const SHIFT_END: Horizon = Horizon {
        past: MAX_PLANNED_AGE,
        future: MAX_SHIFT_AHEAD,
    };

    /// Checks that `at` lies within this horizon around `now`.
    pub fn check(self, field: &str, at: DateTime<Utc>, now: DateTime<Utc>) -> Result<()> {
        // Saturating: a horizon as wide as time itself is open on that side, never an overflow.
        let earliest = now
            .checked_sub_signed(self.past)
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let latest = now
            .checked_add_signed(self.future)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        if at > latest {
            return Err(ValidationError::new(
                field,
                format!(
                    "{} is more than {} after the service clock ({})",
                    at.to_rfc3339(),
                    span(self.future),
                    now.to_rfc3339()
                ),
            ));
        }
        if at < earliest {
            return Err(ValidationError::new(
                field,
                format!(
                    "{} is more than {} before the service clock ({})",
                    at.to_rfc3339(),
                    span(self.past),
                    now.to_rfc3339()
                ),
            ));
        }
        Ok(())
    }
}

/// A span for people: "5 min", "24 h", "7 days".
fn span(d: TimeDelta) -> String {
    if d.num_days() >= 2 && d.num_seconds() % 86_400 == 0 {
        format!("{} days", d.num_days())
    } else if d.num_hours() >= 1 && d.num_seconds() % 3600 == 0 {
        format!("{} h", d.num_hours())
    } else if d.num_seconds() % 60 == 0 {
        format!("{} min", d.num_minutes())
    } else {
        format!("{} s", d.num_seconds())
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap()
    }

    #[test]
    fn ids_refuse_empty_long_and_control_characters() {
        assert!(check_id("order_id", "o-1").is_ok());
        assert!(check_id("order_id", &"x".repeat(MAX_ID_BYTES)).is_ok());
        assert!(check_id("order_id", "ünïcødé").is_ok());
        for bad in ["", "a\0b", "line\nbreak", "\u{7f}"] {
            assert_eq!(check_id("order_id", bad).unwrap_err().field, "order_id");
        }
        let long = check_id("order_id", &"x".repeat(MAX_ID_BYTES + 1)).unwrap_err();
        assert!(long.problem.contains("129"), "{long}");
    }

    #[test]
    fn text_allows_lines_but_not_nul() {
        assert!(check_text("reason", "two\nlines\ttab", 64).is_ok());
        assert!(check_text("reason", "", 64).is_ok());
        assert_eq!(check_text("reason", "a\0", 64).unwrap_err().field, "reason");
        assert!(check_text("reason", &"r".repeat(65), 64).is_err());
    }

    #[test]
    fn measures_must_be_finite_and_in_range() {
        assert!(check_measure("speed_mps", 3.5, -1.0, 10.0).is_ok());
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 11.0, -2.0] {
            let error = check_measure("speed_mps", bad, -1.0, 10.0).unwrap_err();
            assert_eq!(error.field, "speed_mps");
        }
    }

    #[test]
    fn counters_fit_a_signed_column() {
        assert!(check_counter("revision", MAX_COUNTER).is_ok());
        assert!(check_counter("revision", MAX_COUNTER + 1).is_err());
        assert!(check_counter("revision", u64::MAX).is_err());
    }

    #[test]
    fn horizons_bound_both_sides_and_say_by_how_much() {
        let h = Horizon::HAPPENED;
        assert!(h.check("at", now(), now()).is_ok());
        assert!(h.check("at", now() + MAX_CLOCK_SKEW, now()).is_ok());
        assert!(h.check("at", now() - MAX_HAPPENED_AGE, now()).is_ok());
        let ahead = h
            .check("at", now() + MAX_CLOCK_SKEW + TimeDelta::seconds(1), now())
            .unwrap_err();
        assert_eq!(ahead.field, "at");
        assert!(ahead.problem.contains("5 min after"), "{ahead}");
        let old = h
            .check("at", now() - TimeDelta::days(8), now())
            .unwrap_err();
        assert!(old.problem.contains("7 days before"), "{old}");
        let shift = Horizon::SHIFT_END
            .check("shift_end", now() + TimeDelta::hours(25), now())
            .unwrap_err();
        assert!(shift.problem.contains("24 h after"), "{shift}");
    }
}
