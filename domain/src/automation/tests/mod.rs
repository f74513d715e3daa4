//! Tests of the automation rules: schedules across daylight saving time.

mod schedule;

use chrono::{DateTime, NaiveDate, Utc};

use crate::error::FieldError;

/// The UTC instant `y-m-d h:mi`.
pub(super) fn utc(y: i32, m: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_hms_opt(h, mi, 0)
        .unwrap()
        .and_utc()
}

/// The field paths of `errors`, in order.
pub(super) fn paths(errors: &[FieldError]) -> Vec<&str> {
    errors.iter().map(|error| error.field.as_str()).collect()
}
