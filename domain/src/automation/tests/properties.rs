//! Properties over arbitrary inputs: conditions that compiled never panic and combine as their mode says;
//! schedules fire strictly later, on a matching wall time (or at the end of a gap), and skip no firing;
//! templates without placeholders are their own text.

use chrono::{Duration, Offset, TimeZone, Timelike};
use chrono_tz::Tz;
use proptest::prelude::*;

use super::*;
use crate::accounts::gateway::PeerKind;
use crate::automation::{
    Condition, ConditionField, ConditionOp, ConditionSet, CronSchedule, EvaluationContext, Template, TemplateValues,
    allowed_ops,
};

fn field() -> impl Strategy<Value = ConditionField> {
    prop::sample::select(ConditionField::ALL.to_vec())
}

/// A field with an operator it takes (now and then one it does not), and a value.
fn condition() -> impl Strategy<Value = (ConditionField, ConditionOp, String)> {
    field().prop_flat_map(|field| {
        let op = prop_oneof![
            9 => prop::sample::select(allowed_ops(field).to_vec()),
            1 => prop::sample::select(ConditionOp::ALL.to_vec()),
        ];
        (Just(field), op, value())
    })
}

/// Values that often parse: patterns, lists, windows, scores, and plain noise.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 .*+?()|\\[\\]^$\\\\{},-]{0,24}",
        "(USER|GROUP|CHANNEL)(, ?(USER|GROUP|CHANNEL)){0,2}",
        "[0-2][0-9]:[0-5][0-9]-[0-2][0-9]:[0-5][0-9] (UTC|Europe/Berlin|Asia/Kolkata)",
        "[0-9]{1,3}(-[0-9]{1,3})?",
        "\\PC{0,40}",
    ]
}

fn zone() -> impl Strategy<Value = Tz> {
    prop::sample::select(vec![
        Tz::UTC,
        Tz::Europe__Berlin,
        Tz::America__New_York,
        Tz::Australia__Lord_Howe, // a 30-minute daylight saving shift
        Tz::Asia__Kolkata,
        Tz::America__Sao_Paulo,
    ])
}

/// An instant between 2000 and 2040, on any second.
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    (946_684_800i64..2_208_988_800).prop_map(|secs| DateTime::from_timestamp(secs, 0).unwrap())
}

/// The first whole hour within a year after `from` at which `zone`'s offset from UTC has just changed.
fn clock_change_after(zone: Tz, from: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let offset = |instant: DateTime<Utc>| instant.with_timezone(&zone).offset().fix();
    let start = from.with_minute(0)?.with_second(0)?;
    (1..=366 * 24)
        .map(|hours| start + Duration::hours(hours))
        .find(|instant| offset(*instant) != offset(*instant - Duration::hours(1)))
}

/// Minute and hour fields of a schedule that fires every day (so a brute-force check stays short).
fn daily_cron() -> impl Strategy<Value = String> {
    let minute = prop_oneof![
        Just("*".to_owned()),
        (1u32..=30).prop_map(|step| format!("*/{step}")),
        (0u32..60).prop_map(|m| m.to_string()),
        (0u32..30, 30u32..60).prop_map(|(a, b)| format!("{a},{b}")),
    ];
    let hour = prop_oneof![
        Just("*".to_owned()),
        (0u32..24).prop_map(|h| h.to_string()),
        (0u32..12, 12u32..24).prop_map(|(a, b)| format!("{a}-{b}")),
        (1u32..=6).prop_map(|step| format!("*/{step}")),
    ];
    (minute, hour).prop_map(|(minute, hour)| format!("{minute} {hour} * * *"))
}

proptest! {
    #[test]
    fn compiled_conditions_evaluate_without_panicking_and_combine_by_mode(
        conditions in prop::collection::vec(condition(), 0..6),
        any_mode in any::<bool>(),
        text in prop::option::of("\\PC{0,200}"),
        username in prop::option::of("[a-zA-Z0-9_@]{0,20}"),
        tags in prop::collection::vec("[a-z:_-]{1,8}", 0..4),
        risk in prop::option::of(0u8..=100),
        now in instant(),
    ) {
        let conditions: Vec<Condition> = conditions
            .into_iter()
            .map(|(field, op, value)| Condition::new(field, op, value))
            .collect();
        let mode = if any_mode { ConditionMode::Any } else { ConditionMode::All };
        let Ok(set) = ConditionSet::compile(&conditions, mode) else {
            // Refused conditions are those with an operator their field does not take, or a bad value.
            return Ok(());
        };
        for condition in &conditions {
            prop_assert!(allowed_ops(condition.field).contains(&condition.op));
        }
        let context = EvaluationContext {
            text: text.as_deref(),
            peer_kind: Some(PeerKind::Group),
            peer_username: username.as_deref(),
            account: Some(account(1)),
            dialog_tags: &tags,
            now,
            risk_score: risk,
        };
        let evaluation = set.evaluate(&context);
        prop_assert_eq!(evaluation.conditions.len(), conditions.len());
        let matched: Vec<bool> = evaluation.conditions.iter().map(|o| o.matched).collect();
        let expected = if any_mode {
            matched.is_empty() || matched.contains(&true)
        } else {
            !matched.contains(&false)
        };
        prop_assert_eq!(evaluation.matched, expected);
        prop_assert_eq!(evaluation.reason().is_none(), evaluation.matched);
    }

    #[test]
    fn a_schedule_fires_later_on_a_matching_wall_time_and_skips_no_firing(
        cron in daily_cron(),
        zone in zone(),
        after in instant(),
        near_a_clock_change in any::<bool>(),
        shift in -180i64..180,
    ) {
        // Half the cases start within three hours of a daylight saving change, where the rules bite.
        let after = match near_a_clock_change.then(|| clock_change_after(zone, after)).flatten() {
            Some(change) => change + Duration::minutes(shift),
            None => after,
        };
        let schedule = CronSchedule::parse(&cron, zone.name())
            .map_err(|errors| TestCaseError::fail(format!("{cron}: {errors:?}")))?;
        let next = schedule.next_after(after);
        prop_assert!(next.is_some(), "{} never fires after {}", cron, after);
        let next = next.unwrap_or(after);
        prop_assert!(next > after);
        prop_assert_eq!(next.second(), 0);
        prop_assert!(next - after <= Duration::hours(26), "{} after {} is {}", cron, after, next);

        let wall = next.with_timezone(&zone).naive_local();
        let just_before = wall - Duration::minutes(1);
        let ends_a_gap = zone.from_local_datetime(&just_before).earliest().is_none();
        prop_assert!(
            schedule.matches_wall_time(wall) || ends_a_gap,
            "{} fired at {} ({} local), which does not match", cron, next, wall
        );

        // No instant in between would have been a first occurrence of a matching wall time.
        let mut minute = after
            .with_second(0)
            .unwrap_or(after)
            + Duration::minutes(1);
        while minute < next {
            let local = minute.with_timezone(&zone).naive_local();
            let first = zone.from_local_datetime(&local).earliest().map(|t| t.with_timezone(&Utc));
            prop_assert!(
                !(schedule.matches_wall_time(local) && first == Some(minute)),
                "{} skipped {} ({} local) on the way from {} to {}", cron, minute, local, after, next
            );
            minute += Duration::minutes(1);
        }
    }

    #[test]
    fn a_template_without_placeholders_renders_as_its_text(text in "\\PC{0,200}") {
        prop_assume!(!text.contains("{{"));
        let template = Template::parse(&text).map_err(TestCaseError::fail)?;
        prop_assert_eq!(template.render(&TemplateValues::default()), text);
    }

    #[test]
    fn a_template_renders_each_placeholder_as_its_value(
        before in "[^{}]{0,20}",
        after in "[^{}]{0,20}",
        title in "\\PC{0,20}",
        spaces in 0usize..3,
    ) {
        let pad = " ".repeat(spaces);
        let template = Template::parse(&format!("{before}{{{{{pad}peer.title{pad}}}}}{after}"))
            .map_err(TestCaseError::fail)?;
        let values = TemplateValues { peer_title: title.clone(), ..TemplateValues::default() };
        prop_assert_eq!(template.render(&values), format!("{before}{title}{after}"));
    }
}
