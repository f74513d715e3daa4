//! Conditions: every field and operator, absent inputs, ALL and ANY, and the explanations.

use super::*;
use crate::accounts::gateway::PeerKind;
use crate::automation::{Condition, ConditionField, ConditionOp, ConditionOutcome, ConditionSet, EvaluationContext};

use ConditionField::*;
use ConditionOp::*;

/// A message from user @Ann_Smith to account 1, at noon UTC on a winter day, risk 30, tagged `vip`.
fn message<'a>(text: &'a str, tags: &'a [String]) -> EvaluationContext<'a> {
    EvaluationContext {
        text: Some(text),
        peer_kind: Some(PeerKind::User),
        peer_username: Some("Ann_Smith"),
        account: Some(account(1)),
        dialog_tags: tags,
        now: utc(2026, 1, 15, 12, 0),
        risk_score: Some(30),
    }
}

fn outcome(field: ConditionField, op: ConditionOp, value: &str, context: &EvaluationContext) -> ConditionOutcome {
    let set = ConditionSet::compile(&[Condition::new(field, op, value)], ConditionMode::All)
        .unwrap_or_else(|errors| panic!("{field} {op} {value:?} refused: {errors:?}"));
    let mut evaluation = set.evaluate(context);
    assert_eq!(evaluation.conditions.len(), 1);
    assert_eq!(evaluation.matched, evaluation.conditions[0].matched);
    evaluation.conditions.remove(0)
}

fn holds(field: ConditionField, op: ConditionOp, value: &str, context: &EvaluationContext) -> bool {
    outcome(field, op, value, context).matched
}

/// The message refusing `value`, on `input.conditions[0].value`.
fn value_error(field: ConditionField, op: ConditionOp, value: &str) -> String {
    let errors = ConditionSet::compile(&[Condition::new(field, op, value)], ConditionMode::All)
        .expect_err("the value should be refused");
    assert_eq!(paths(&errors), ["input.conditions[0].value"], "{field} {op} {value:?}");
    errors[0].message.clone()
}

fn tags(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| (*name).to_owned()).collect()
}

#[test]
fn text_contains_ignores_case_in_every_script() {
    let none = [];
    let context = message("Hello, what is the PRICE?", &none);
    assert!(holds(Text, Contains, "price", &context));
    assert!(holds(Text, Contains, " Price ", &context));
    assert!(!holds(Text, Contains, "cost", &context));
    assert!(holds(Text, Contains, "привет", &message("ПРИВЕТ, мир", &none)));
    assert!(holds(Text, NotContains, "cost", &context));
    assert!(!holds(Text, NotContains, "price", &context));
}

#[test]
fn text_equals_compares_the_whole_trimmed_text_ignoring_case() {
    let none = [];
    assert!(holds(Text, Equals, "stop", &message("  STOP \n", &none)));
    assert!(!holds(Text, Equals, "stop", &message("stop it", &none)));
    // A comma is text, not a list.
    assert!(holds(Text, Equals, "yes, please", &message("Yes, please", &none)));
}

#[test]
fn text_matches_lets_the_pattern_decide_case() {
    let none = [];
    let context = message("Order #4521 please", &none);
    assert!(holds(Text, Matches, r"#\d{4}\b", &context));
    assert!(!holds(Text, Matches, "^order", &context));
    assert!(holds(Text, Matches, "(?i)^order", &context));
}

#[test]
fn peer_kind_equals_or_is_in_a_list() {
    let none = [];
    let context = message("hi", &none);
    assert!(holds(PeerKind, Equals, "USER", &context));
    assert!(holds(PeerKind, Equals, "user", &context));
    assert!(!holds(PeerKind, Equals, "GROUP", &context));
    assert!(holds(PeerKind, In, "GROUP, USER", &context));
    assert!(!holds(PeerKind, In, "GROUP,CHANNEL", &context));
    assert_eq!(
        outcome(PeerKind, Equals, "GROUP", &context).actual.as_deref(),
        Some("USER")
    );
    assert!(value_error(PeerKind, Equals, "BOT").contains("USER, GROUP or CHANNEL"));
    assert!(value_error(PeerKind, Equals, "USER,GROUP").contains("use IN"));
    assert!(value_error(PeerKind, In, "USER,,GROUP").contains("empty item"));
}

#[test]
fn peer_username_ignores_the_at_sign_and_case() {
    let none = [];
    let context = message("hi", &none);
    assert!(holds(PeerUsername, Equals, "@ann_smith", &context));
    assert!(holds(PeerUsername, In, "bob, @ANN_SMITH", &context));
    assert!(!holds(PeerUsername, In, "bob,carol", &context));
    assert!(holds(PeerUsername, Contains, "smith", &context));
    assert!(holds(PeerUsername, Matches, "^Ann_", &context));
    assert!(!holds(PeerUsername, Matches, "^ann_", &context));
    assert_eq!(
        outcome(PeerUsername, Equals, "bob", &context).actual.as_deref(),
        Some("Ann_Smith")
    );
    assert!(value_error(PeerUsername, Equals, "ann,bob").contains("use IN"));
}

#[test]
fn account_equals_or_is_in_a_list_of_ids() {
    let none = [];
    let context = message("hi", &none);
    assert!(holds(Account, Equals, &account(1).to_string(), &context));
    assert!(!holds(Account, Equals, &account(2).to_string(), &context));
    assert!(holds(Account, In, &format!("{}, {}", account(2), account(1)), &context));
    assert!(value_error(Account, In, &format!("{},acc-7", account(1))).contains("`acc-7` is not an account id"));
}

#[test]
fn dialog_tags_are_had_lacked_or_had_among_a_list() {
    let tagged = tags(&["vip", "lead:hot"]);
    let context = message("hi", &tagged);
    assert!(holds(DialogTag, Contains, "VIP", &context));
    assert!(!holds(DialogTag, Contains, "spam", &context));
    assert!(holds(DialogTag, NotContains, "spam", &context));
    assert!(!holds(DialogTag, NotContains, "vip", &context));
    assert!(holds(DialogTag, In, "spam, Lead:Hot", &context));
    assert!(!holds(DialogTag, In, "spam,cold", &context));
    assert_eq!(
        outcome(DialogTag, Contains, "spam", &context).actual.as_deref(),
        Some("vip, lead:hot")
    );
    assert!(value_error(DialogTag, Contains, "two words").contains("letters, digits"));
    assert!(value_error(DialogTag, In, "vip,bad tag").contains("letters, digits"));
}

#[test]
fn local_time_windows_include_their_start_exclude_their_end_and_may_cross_midnight() {
    let none = [];
    let at = |h, mi| EvaluationContext {
        now: utc(2026, 1, 15, h, mi),
        ..message("hi", &none)
    };
    // UTC+1 in January: 08:00 UTC is 09:00 in Berlin.
    assert!(holds(LocalTime, Between, "09:00-18:00 Europe/Berlin", &at(8, 0)));
    assert!(!holds(LocalTime, Between, "09:00-18:00 Europe/Berlin", &at(7, 59)));
    assert!(!holds(LocalTime, Between, "09:00-18:00 Europe/Berlin", &at(17, 0)));
    assert!(holds(LocalTime, Between, "09:00-18:00 Europe/Berlin", &at(16, 59)));
    // Crossing midnight: 22:00 to 06:00 New York (UTC-5 in January).
    let night = "22:00-06:00 America/New_York";
    assert!(holds(LocalTime, Between, night, &at(3, 0)));
    assert!(holds(LocalTime, Between, night, &at(10, 59)));
    assert!(!holds(LocalTime, Between, night, &at(11, 0)));
    assert!(!holds(LocalTime, Between, night, &at(15, 0)));
    assert_eq!(
        outcome(LocalTime, Between, night, &at(15, 5)).actual.as_deref(),
        Some("10:05 America/New_York")
    );
}

#[test]
fn local_time_follows_the_zone_s_daylight_saving_time() {
    let none = [];
    let window = "09:00-10:00 Europe/Berlin";
    // 07:30 UTC is 08:30 in winter (CET) and 09:30 in summer (CEST).
    let winter = EvaluationContext {
        now: utc(2026, 1, 15, 7, 30),
        ..message("hi", &none)
    };
    let summer = EvaluationContext {
        now: utc(2026, 7, 15, 7, 30),
        ..message("hi", &none)
    };
    assert!(!holds(LocalTime, Between, window, &winter));
    assert!(holds(LocalTime, Between, window, &summer));
}

#[test]
fn local_time_values_need_a_window_and_a_zone() {
    for (value, why) in [
        ("09:00-18:00", "HH:MM-HH:MM Area/Zone"),
        ("09:00 Europe/Berlin", "HH:MM-HH:MM Area/Zone"),
        ("09:00-24:00 Europe/Berlin", "`24:00` is not a time of day"),
        ("9-18 Europe/Berlin", "`9` is not a time of day"),
        ("09:00-18:00 Europe/Nowhere", "not an IANA time zone"),
        ("10:00-10:00 UTC", "empty"),
        ("09:00-18:00 Europe/Berlin extra", "HH:MM-HH:MM Area/Zone"),
    ] {
        let message = value_error(LocalTime, Between, value);
        assert!(message.contains(why), "{value}: {message}");
    }
    let none = [];
    assert!(holds(LocalTime, Between, "0:00-23:59 UTC", &message("hi", &none)));
}

#[test]
fn risk_score_is_below_a_number_or_inside_a_range() {
    let none = [];
    let context = message("hi", &none);
    assert!(holds(RiskScore, LessThan, "31", &context));
    assert!(!holds(RiskScore, LessThan, "30", &context));
    assert!(holds(RiskScore, Between, "30-40", &context));
    assert!(holds(RiskScore, Between, "0 - 30", &context));
    assert!(!holds(RiskScore, Between, "31-100", &context));
    assert_eq!(
        outcome(RiskScore, LessThan, "10", &context).actual.as_deref(),
        Some("30")
    );
    for (op, value, why) in [
        (LessThan, "101", "0 to 100"),
        (LessThan, "-1", "0 to 100"),
        (LessThan, "ten", "0 to 100"),
        (Between, "40-30", "backwards"),
        (Between, "40", "`a-b`"),
    ] {
        let message = value_error(RiskScore, op, value);
        assert!(message.contains(why), "{op} {value}: {message}");
    }
}

#[test]
fn every_field_takes_only_its_operators() {
    use crate::automation::allowed_ops;
    let refused = [
        (Text, In),
        (Text, Between),
        (PeerKind, Contains),
        (PeerUsername, NotContains),
        (Account, Matches),
        (DialogTag, Equals),
        (LocalTime, LessThan),
        (RiskScore, Equals),
    ];
    for (field, op) in refused {
        assert!(!allowed_ops(field).contains(&op));
        let errors = ConditionSet::compile(&[Condition::new(field, op, "x")], ConditionMode::All).expect_err("refused");
        assert_eq!(paths(&errors), ["input.conditions[0].op"], "{field} {op}");
        assert!(errors[0].message.starts_with(&format!("{field} takes ")));
    }
}

#[test]
fn an_empty_value_is_refused_for_every_field() {
    for field in ConditionField::ALL {
        let op = crate::automation::allowed_ops(*field)[0];
        assert!(value_error(*field, op, "  ").contains("required"), "{field}");
    }
}

#[test]
fn a_condition_without_its_input_does_not_match_and_shows_none() {
    let now = utc(2026, 1, 15, 12, 0);
    let nothing = EvaluationContext::at(now);
    for (field, op, value) in [
        (Text, Contains, "x"),
        (Text, NotContains, "x"),
        (PeerKind, Equals, "USER"),
        (PeerUsername, Contains, "a"),
        (Account, Equals, &account(1).to_string()),
        (DialogTag, Contains, "vip"),
        (DialogTag, NotContains, "vip"),
        (RiskScore, LessThan, "100"),
    ] {
        let outcome = outcome(field, op, value, &nothing);
        assert!(!outcome.matched, "{field} {op}");
        assert_eq!(outcome.actual, None, "{field} {op}");
    }
    // The clock is always there.
    assert!(holds(LocalTime, Between, "11:00-13:00 UTC", &nothing));
    // A dialog without tags is a dialog: lacking a tag holds there.
    let none = [];
    assert!(holds(DialogTag, NotContains, "vip", &message("hi", &none)));
}

fn conditions_price_and_vip() -> Vec<Condition> {
    vec![
        Condition::new(Text, Contains, "price"),
        Condition::new(DialogTag, Contains, "vip"),
    ]
}

#[test]
fn all_needs_every_condition_and_any_needs_one() {
    let all = ConditionSet::compile(&conditions_price_and_vip(), ConditionMode::All).unwrap();
    let any = ConditionSet::compile(&conditions_price_and_vip(), ConditionMode::Any).unwrap();
    let vip = tags(&["vip"]);
    let none = [];
    let both = message("the price?", &vip);
    let one = message("the price?", &none);
    let neither = message("hello", &none);
    assert!(all.evaluate(&both).matched);
    assert!(!all.evaluate(&one).matched);
    assert!(!all.evaluate(&neither).matched);
    assert!(any.evaluate(&both).matched);
    assert!(any.evaluate(&one).matched);
    assert!(!any.evaluate(&neither).matched);
}

#[test]
fn no_conditions_always_match_in_either_mode() {
    for mode in [ConditionMode::All, ConditionMode::Any] {
        let set = ConditionSet::compile(&[], mode).unwrap();
        let evaluation = set.evaluate(&EvaluationContext::at(utc(2026, 1, 1, 0, 0)));
        assert!(evaluation.matched);
        assert!(evaluation.conditions.is_empty());
        assert_eq!(evaluation.reason(), None);
    }
}

#[test]
fn every_condition_is_evaluated_even_after_the_outcome_is_known() {
    let none = [];
    let context = message("hello", &none);
    for mode in [ConditionMode::All, ConditionMode::Any] {
        let mut conditions = conditions_price_and_vip();
        conditions.insert(0, Condition::new(Text, Contains, "hell"));
        let evaluation = ConditionSet::compile(&conditions, mode).unwrap().evaluate(&context);
        let seen: Vec<(usize, bool, Option<&str>)> = evaluation
            .conditions
            .iter()
            .map(|o| (o.index, o.matched, o.actual.as_deref()))
            .collect();
        assert_eq!(
            seen,
            [
                (0, true, Some("hello")),
                (1, false, Some("hello")),
                (2, false, Some(""))
            ],
            "{mode}"
        );
        assert_eq!(evaluation.conditions[1].condition, conditions[1]);
    }
}

#[test]
fn the_reason_names_the_failed_condition_and_what_was_seen() {
    let conditions = vec![
        Condition::new(PeerKind, Equals, "USER"),
        Condition::new(Text, Contains, "price"),
    ];
    let set = ConditionSet::compile(&conditions, ConditionMode::All).unwrap();
    let none = [];
    assert_eq!(
        set.evaluate(&message("hello there", &none)).reason().as_deref(),
        Some(r#"condition 2 (TEXT CONTAINS "price") did not match: the text was "hello there""#)
    );
    assert_eq!(set.evaluate(&message("the price", &none)).reason(), None);
}

#[test]
fn the_reason_lists_every_failed_condition_with_absent_inputs_as_none() {
    let conditions = vec![
        Condition::new(Text, Contains, "price"),
        Condition::new(DialogTag, Contains, "vip"),
        Condition::new(RiskScore, LessThan, "20"),
    ];
    let set = ConditionSet::compile(&conditions, ConditionMode::Any).unwrap();
    let none = [];
    assert_eq!(
        set.evaluate(&message("hi", &none)).reason().as_deref(),
        Some(concat!(
            r#"condition 1 (TEXT CONTAINS "price") did not match: the text was "hi"; "#,
            r#"condition 2 (DIALOG_TAG CONTAINS "vip") did not match: the dialog had no tags; "#,
            r#"condition 3 (RISK_SCORE LESS_THAN "20") did not match: the risk score was 30"#,
        ))
    );
    let health = EvaluationContext {
        risk_score: Some(80),
        ..EvaluationContext::at(utc(2026, 1, 1, 0, 0))
    };
    assert_eq!(
        set.evaluate(&health).reason().as_deref(),
        Some(concat!(
            r#"condition 1 (TEXT CONTAINS "price") did not match: the text was none; "#,
            r#"condition 2 (DIALOG_TAG CONTAINS "vip") did not match: the dialog's tags were none; "#,
            r#"condition 3 (RISK_SCORE LESS_THAN "20") did not match: the risk score was 80"#,
        ))
    );
}

#[test]
fn the_reason_shortens_a_long_text_and_escapes_line_breaks() {
    let set = ConditionSet::compile(&[Condition::new(Text, Contains, "price")], ConditionMode::All).unwrap();
    let long = format!("line one\n{}", "x".repeat(200));
    let none = [];
    let reason = set.evaluate(&message(&long, &none)).reason().unwrap();
    let quoted = reason.split_once("the text was ").unwrap().1;
    assert_eq!(quoted, format!("\"line one\\n{}…\"", "x".repeat(70)));
    // The outcome keeps the full text for the dry run.
    let evaluation = set.evaluate(&message(&long, &none));
    assert_eq!(evaluation.conditions[0].actual.as_deref(), Some(long.as_str()));
}

#[test]
fn a_value_is_at_most_1024_characters() {
    assert!(value_error(Text, Contains, &"x".repeat(1025)).contains("at most 1024"));
    let none = [];
    assert!(!holds(Text, Contains, &"x".repeat(1024), &message("hi", &none)));
}
