//! Schedules: the accepted syntax, ordinary firings, and daylight saving time in Berlin and New York.

use super::*;
use crate::automation::CronSchedule;
use crate::automation::schedule::{CRON_PATH, TIMEZONE_PATH};

fn schedule(cron: &str, zone: &str) -> CronSchedule {
    CronSchedule::parse(cron, zone).unwrap_or_else(|errors| panic!("{cron:?} refused: {errors:?}"))
}

/// The first `count` firings after `from`.
fn firings(cron: &str, zone: &str, from: DateTime<Utc>, count: usize) -> Vec<DateTime<Utc>> {
    let schedule = schedule(cron, zone);
    let mut out = Vec::new();
    let mut after = from;
    for _ in 0..count {
        after = schedule.next_after(after).expect("the schedule fires");
        out.push(after);
    }
    out
}

fn cron_error(cron: &str) -> String {
    let errors = CronSchedule::parse(cron, "UTC").expect_err("the expression should be refused");
    assert_eq!(paths(&errors), [CRON_PATH], "{cron}");
    errors[0].message.clone()
}

#[test]
fn every_fifteen_minutes_fires_strictly_after_the_instant_given() {
    let from = utc(2026, 5, 4, 10, 7);
    assert_eq!(
        firings("*/15 * * * *", "UTC", from, 3),
        [
            utc(2026, 5, 4, 10, 15),
            utc(2026, 5, 4, 10, 30),
            utc(2026, 5, 4, 10, 45)
        ]
    );
    let on_the_minute = schedule("*/15 * * * *", "UTC");
    assert_eq!(
        on_the_minute.next_after(utc(2026, 5, 4, 10, 15)),
        Some(utc(2026, 5, 4, 10, 30))
    );
    let second_past = utc(2026, 5, 4, 10, 14) + chrono::Duration::seconds(59);
    assert_eq!(on_the_minute.next_after(second_past), Some(utc(2026, 5, 4, 10, 15)));
}

#[test]
fn ranges_lists_and_steps_combine() {
    // 2026-05-08 is a Friday.
    assert_eq!(
        firings("0,30 9-17/4 * * MON-FRI", "UTC", utc(2026, 5, 8, 13, 10), 5),
        [
            utc(2026, 5, 8, 13, 30),
            utc(2026, 5, 8, 17, 0),
            utc(2026, 5, 8, 17, 30),
            utc(2026, 5, 11, 9, 0),
            utc(2026, 5, 11, 9, 30),
        ]
    );
}

#[test]
fn sunday_is_both_zero_and_seven_and_names_are_any_case() {
    // 2026-05-10 is a Sunday.
    let from = utc(2026, 5, 4, 0, 0);
    for cron in ["0 12 * * 0", "0 12 * * 7", "0 12 * * sun", "0 12 * * Sun"] {
        assert_eq!(firings(cron, "UTC", from, 1), [utc(2026, 5, 10, 12, 0)], "{cron}");
    }
    assert_eq!(
        firings("0 12 * * 5-7", "UTC", from, 3),
        [utc(2026, 5, 8, 12, 0), utc(2026, 5, 9, 12, 0), utc(2026, 5, 10, 12, 0)]
    );
}

#[test]
fn months_take_numbers_or_names() {
    let from = utc(2026, 2, 10, 0, 0);
    assert_eq!(
        firings("0 0 1 jan,JUL *", "UTC", from, 2),
        [utc(2026, 7, 1, 0, 0), utc(2027, 1, 1, 0, 0)]
    );
    assert_eq!(firings("0 0 1 1,7 *", "UTC", from, 1), [utc(2026, 7, 1, 0, 0)]);
    assert_eq!(firings("0 0 1 MAR-MAY *", "UTC", from, 1), [utc(2026, 3, 1, 0, 0)]);
}

#[test]
fn restricted_day_of_month_and_day_of_week_match_either_as_in_vixie_cron() {
    // The 1st of the month or any Monday; 2026-06-01 is itself a Monday.
    assert_eq!(
        firings("0 9 1 * MON", "UTC", utc(2026, 5, 26, 0, 0), 3),
        [utc(2026, 6, 1, 9, 0), utc(2026, 6, 8, 9, 0), utc(2026, 6, 15, 9, 0)]
    );
    // When either field starts with `*`, both must match; `*/1` is every weekday, so every 1st.
    assert_eq!(
        firings("0 9 1 * */1", "UTC", utc(2026, 5, 26, 0, 0), 2),
        [utc(2026, 6, 1, 9, 0), utc(2026, 7, 1, 9, 0)]
    );
}

#[test]
fn the_29th_of_february_waits_for_a_leap_year() {
    assert_eq!(
        firings("0 0 29 2 *", "UTC", utc(2026, 1, 1, 0, 0), 2),
        [utc(2028, 2, 29, 0, 0), utc(2032, 2, 29, 0, 0)]
    );
}

#[test]
fn the_expression_is_kept_with_single_spaces() {
    let parsed = schedule("  0   9 * *\tMON ", "Europe/Berlin");
    assert_eq!(parsed.expression(), "0 9 * * MON");
    assert_eq!(parsed.zone(), chrono_tz::Tz::Europe__Berlin);
}

#[test]
fn only_the_documented_syntax_is_accepted() {
    for (cron, why) in [
        ("* * * *", "5 fields"),
        ("0 * * * * *", "5 fields"),
        ("@daily", "5 fields"),
        ("60 * * * *", "minute `60` is outside 0-59"),
        ("* 24 * * *", "hour `24` is outside 0-23"),
        ("* * 0 * *", "day-of-month `0` is outside 1-31"),
        ("* * * 13 *", "month `13` is outside 1-12"),
        ("* * * * 8", "day-of-week `8` is outside 0-7"),
        ("* * * FOO *", "month `FOO` is not a number 1-12 or a name JAN-DEC"),
        ("* * * * MONDAY", "not a number 0-7 or a name SUN-SAT"),
        ("5-2 * * * *", "runs backwards"),
        ("* * * * FRI-MON", "runs backwards"),
        ("*/0 * * * *", "step `/0`"),
        ("*/61 * * * *", "step `/61`"),
        ("5/15 * * * *", "`5-59/15`"),
        ("0,,30 * * * *", "empty list item"),
        ("0 0 L * *", "not a number"),
        ("0 0 ? * *", "not a number"),
        ("0 0 * * 5#3", "not a number"),
        ("-5 * * * *", "not a number"),
        ("0 0 31 2 *", "never fires"),
        ("0 0 30,31 FEB *", "never fires"),
        ("0 0 31 4,6,9,11 *", "never fires"),
    ] {
        let message = cron_error(cron);
        assert!(message.contains(why), "{cron}: {message}");
    }
    // Both restricted: the weekday still fires.
    assert!(CronSchedule::parse("0 0 31 2 MON", "UTC").is_ok());
    assert!(CronSchedule::parse("0 0 31 1-2 *", "UTC").is_ok());
}

#[test]
fn a_bad_zone_is_reported_on_its_own_path_beside_a_bad_expression() {
    let errors = CronSchedule::parse("0 9 * * *", "Berlin").unwrap_err();
    assert_eq!(paths(&errors), [TIMEZONE_PATH]);
    let both = CronSchedule::parse("nope", "").unwrap_err();
    assert_eq!(paths(&both), [CRON_PATH, TIMEZONE_PATH]);
}

#[test]
fn local_times_follow_the_zone() {
    // 09:00 in Berlin is 08:00 UTC in winter and 07:00 UTC in summer.
    assert_eq!(
        firings("0 9 * * *", "Europe/Berlin", utc(2026, 1, 15, 0, 0), 1),
        [utc(2026, 1, 15, 8, 0)]
    );
    assert_eq!(
        firings("0 9 * * *", "Europe/Berlin", utc(2026, 7, 15, 0, 0), 1),
        [utc(2026, 7, 15, 7, 0)]
    );
}

// Berlin, 2026-03-29: at 01:00 UTC the clock jumps from 02:00 CET to 03:00 CEST; 02:00-02:59 do not exist.

#[test]
fn berlin_spring_forward_fires_a_missing_time_once_at_the_end_of_the_gap() {
    assert_eq!(
        firings("0 2 * * *", "Europe/Berlin", utc(2026, 3, 27, 12, 0), 3),
        [
            utc(2026, 3, 28, 1, 0), // 02:00 CET
            utc(2026, 3, 29, 1, 0), // 03:00 CEST, the first instant after the gap
            utc(2026, 3, 30, 0, 0), // 02:00 CEST
        ]
    );
    assert_eq!(
        firings("30 2 * * *", "Europe/Berlin", utc(2026, 3, 27, 12, 0), 3),
        [utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1, 0), utc(2026, 3, 30, 0, 30)]
    );
}

#[test]
fn berlin_spring_forward_fires_several_missing_times_once_together() {
    // From 01:50 CET: 02:00, 02:15, 02:30 and 02:45 are all missing and fire once, at 03:00 CEST.
    assert_eq!(
        firings("*/15 * * * *", "Europe/Berlin", utc(2026, 3, 29, 0, 50), 3),
        [utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 1, 15), utc(2026, 3, 29, 1, 30)]
    );
    // A time in the gap and 03:00 itself land on the same instant: once.
    assert_eq!(
        firings("30 2,3 * * *", "Europe/Berlin", utc(2026, 3, 29, 0, 0), 2),
        [utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 1, 30)]
    );
}

// Berlin, 2026-10-25: at 01:00 UTC the clock goes back from 03:00 CEST to 02:00 CET; 02:00-02:59 happen
// twice, first in CEST (00:00-00:59 UTC), then in CET (01:00-01:59 UTC).

#[test]
fn berlin_fall_back_fires_a_repeated_time_once_at_its_first_occurrence() {
    assert_eq!(
        firings("0 2 * * *", "Europe/Berlin", utc(2026, 10, 23, 12, 0), 3),
        [
            utc(2026, 10, 24, 0, 0), // 02:00 CEST
            utc(2026, 10, 25, 0, 0), // 02:00 CEST, the first of the two
            utc(2026, 10, 26, 1, 0), // 02:00 CET
        ]
    );
    assert_eq!(
        firings("30 2 * * *", "Europe/Berlin", utc(2026, 10, 23, 12, 0), 3),
        [
            utc(2026, 10, 24, 0, 30),
            utc(2026, 10, 25, 0, 30),
            utc(2026, 10, 26, 1, 30)
        ]
    );
    // Asked during the second pass (02:10 CET), 02:30 has already fired at its first occurrence.
    assert_eq!(
        schedule("30 2 * * *", "Europe/Berlin").next_after(utc(2026, 10, 25, 1, 10)),
        Some(utc(2026, 10, 26, 1, 30))
    );
}

#[test]
fn berlin_fall_back_does_not_repeat_frequent_times_either() {
    assert_eq!(
        firings("*/15 * * * *", "Europe/Berlin", utc(2026, 10, 25, 0, 40), 3),
        [
            utc(2026, 10, 25, 0, 45), // 02:45 CEST
            utc(2026, 10, 25, 2, 0),  // 03:00 CET; 02:00-02:45 CET already fired in CEST
            utc(2026, 10, 25, 2, 15),
        ]
    );
}

// New York, 2026-03-08: at 07:00 UTC 02:00 EST becomes 03:00 EDT. 2026-11-01: at 06:00 UTC 02:00 EDT
// becomes 01:00 EST, so 01:00-01:59 happen twice (05:00-05:59 UTC in EDT, then 06:00-06:59 UTC in EST).

#[test]
fn new_york_spring_forward_fires_a_missing_time_once_at_the_end_of_the_gap() {
    assert_eq!(
        firings("30 2 * * *", "America/New_York", utc(2026, 3, 6, 12, 0), 3),
        [
            utc(2026, 3, 7, 7, 30), // 02:30 EST
            utc(2026, 3, 8, 7, 0),  // 03:00 EDT
            utc(2026, 3, 9, 6, 30), // 02:30 EDT
        ]
    );
}

#[test]
fn new_york_fall_back_fires_a_repeated_time_once_at_its_first_occurrence() {
    assert_eq!(
        firings("30 1 * * *", "America/New_York", utc(2026, 10, 30, 12, 0), 3),
        [
            utc(2026, 10, 31, 5, 30), // 01:30 EDT
            utc(2026, 11, 1, 5, 30),  // 01:30 EDT, the first of the two
            utc(2026, 11, 2, 6, 30),  // 01:30 EST
        ]
    );
    assert_eq!(
        firings("0 * * * *", "America/New_York", utc(2026, 11, 1, 4, 30), 3),
        [
            utc(2026, 11, 1, 5, 0), // 01:00 EDT
            utc(2026, 11, 1, 7, 0), // 02:00 EST; 01:00 EST is a repeat
            utc(2026, 11, 1, 8, 0),
        ]
    );
}

#[test]
fn a_wall_time_matches_its_fields() {
    let parsed = schedule("*/10 9-17 * * MON-FRI", "UTC");
    let wall = |d, h, mi| {
        NaiveDate::from_ymd_opt(2026, 5, d)
            .unwrap()
            .and_hms_opt(h, mi, 0)
            .unwrap()
    };
    assert!(parsed.matches_wall_time(wall(8, 9, 20)));
    assert!(!parsed.matches_wall_time(wall(8, 9, 25)));
    assert!(!parsed.matches_wall_time(wall(9, 9, 20))); // a Saturday
    assert!(!parsed.matches_wall_time(wall(8, 18, 0)));
}
