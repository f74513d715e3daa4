//! Schedules: when a `schedule` trigger fires, from a 5-field cron expression read in an IANA time zone.
//!
//! # Accepted syntax
//!
//! Exactly five fields separated by spaces: `minute hour day-of-month month day-of-week`.
//!
//! | field        | values                                        |
//! |--------------|-----------------------------------------------|
//! | minute       | 0-59                                          |
//! | hour         | 0-23                                          |
//! | day-of-month | 1-31                                          |
//! | month        | 1-12, or `JAN`-`DEC` (any case)               |
//! | day-of-week  | 0-7 (0 and 7 are Sunday), or `SUN`-`SAT`      |
//!
//! Each field is a comma-separated list of items; an item is `*`, a value `5`, a range `1-5` (low to high,
//! both included; names work in ranges: `MON-FRI`), or `*` or a range followed by a step: `*/15`,
//! `9-17/2`. Nothing else: no seconds or years field, no `@daily`-style macros, no `?`, `L`, `W` or `#`,
//! no `5/15` (write `5-59/15`), no ranges that wrap around (`FRI-MON`: write `FRI-SAT,SUN-MON`).
//!
//! Day-of-month and day-of-week combine as in Vixie cron: when both are restricted (neither starts with
//! `*`), a day matches if *either* matches (`0 9 1 * MON` is the 1st and every Monday); otherwise both
//! must. A schedule that can never fire (`0 0 31 2 *`) is refused.
//!
//! # Time zones and daylight saving time
//!
//! The fields are matched against the wall clock of the zone. When the clock changes:
//! - **Spring forward (a gap)**: a wall time that does not exist that day fires once, at the first instant
//!   after the gap (`30 2 * * *` in Europe/Berlin on 2026-03-29 fires at 03:00 CEST). Several times
//!   inside one gap fire once together.
//! - **Fall back (an overlap)**: a wall time that occurs twice fires once, at its first occurrence. This
//!   holds for every pattern: `*/15 * * * *` does not fire again while the hour repeats.
//!
//! So every matching wall time fires at most once (those inside one gap together, at its end), and
//! firings never go backwards in real time.
//!
//! # Why hand-written
//!
//! The `croner` crate accepts much more than five fields (seconds, years, `L`, `W`, `#`, macros), which we
//! would have to fence off, and its daylight saving behaviour follows its own specification (OCPS, whose
//! overlap rule depends on the pattern), where the product promises the two rules above for every pattern.
//! Five bit sets and a day-by-day walk (this file and `cron_syntax.rs`, about 250 lines of code) keep those
//! rules stated and tested here, with no dependency beyond the zone database.
//!
//! The end of a gap is found to the minute, which is exact while offsets are whole minutes (as every
//! zone's have been for decades).

use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

use super::cron_syntax::CronFields;
use super::zone::parse_time_zone;
use crate::error::FieldError;

/// The input path of a schedule trigger's cron expression.
pub const CRON_PATH: &str = "input.trigger.schedule.cron";
/// The input path of a schedule trigger's time zone.
pub const TIMEZONE_PATH: &str = "input.trigger.schedule.timezone";

/// How far [`CronSchedule::next_after`] looks: enough for the rarest schedule that can fire (the 29th of
/// February on a given weekday recurs within 40 years).
const SEARCH_DAYS: u32 = 366 * 50;

/// The longest clock change searched across for the end of a gap (Samoa skipped a whole day in 2011).
const LONGEST_GAP_MINUTES: u32 = 26 * 60;

/// A parsed schedule in its time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronSchedule {
    expression: String,
    zone: Tz,
    fields: CronFields,
}

impl CronSchedule {
    /// Parses both parts, reporting each bad one on its input path.
    pub fn parse(cron: &str, timezone: &str) -> Result<CronSchedule, Vec<FieldError>> {
        let fields = CronFields::parse(cron).map_err(|message| FieldError::new(CRON_PATH, message));
        let zone = parse_time_zone(timezone).map_err(|message| FieldError::new(TIMEZONE_PATH, message));
        match (fields, zone) {
            (Ok(fields), Ok(zone)) => Ok(CronSchedule {
                expression: cron.split_whitespace().collect::<Vec<_>>().join(" "),
                zone,
                fields,
            }),
            (fields, zone) => Err(fields.err().into_iter().chain(zone.err()).collect()),
        }
    }

    /// The expression, its fields separated by single spaces.
    pub fn expression(&self) -> &str {
        &self.expression
    }

    pub fn zone(&self) -> Tz {
        self.zone
    }

    /// Whether a wall-clock time (seconds ignored) matches the five fields.
    pub fn matches_wall_time(&self, wall: NaiveDateTime) -> bool {
        self.fields.matches_date(wall.date()) && self.fields.matches_time(wall.hour(), wall.minute())
    }

    /// The first firing strictly after `after`, on a whole minute; `None` only if none falls within the
    /// next 50 years.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let start = after.with_timezone(&self.zone).naive_local();
        let mut date = start.date();
        for _ in 0..SEARCH_DAYS {
            if self.fields.matches_date(date) {
                for hour in self.fields.hours() {
                    for minute in self.fields.minutes() {
                        let wall = date.and_hms_opt(hour, minute, 0)?;
                        // Walls up to the start's own resolve to instants up to `after` (see `fire_at`).
                        if wall <= start {
                            continue;
                        }
                        // In an overlap's second pass, a later wall time may have fired already.
                        if let Some(instant) = self.fire_at(wall)
                            && instant > after
                        {
                            return Some(instant);
                        }
                    }
                }
            }
            date = date.succ_opt()?;
        }
        None
    }

    /// When a matching wall time fires: itself, its first occurrence when the clock repeats it, or the
    /// first instant after the gap when the clock skips it. Never decreasing as the wall time grows.
    fn fire_at(&self, wall: NaiveDateTime) -> Option<DateTime<Utc>> {
        if let Some(instant) = self.zone.from_local_datetime(&wall).earliest() {
            return Some(instant.with_timezone(&Utc));
        }
        (1..=LONGEST_GAP_MINUTES).find_map(|minutes| {
            let later = wall + Duration::minutes(i64::from(minutes));
            self.zone
                .from_local_datetime(&later)
                .earliest()
                .map(|instant| instant.with_timezone(&Utc))
        })
    }
}
