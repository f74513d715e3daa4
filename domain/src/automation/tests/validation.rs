//! `validate`: every rule, on the path the client sent, all faults at once.

use super::*;
use crate::accounts::health::HealthStateKind;
use crate::automation::{Condition, ConditionField, ConditionOp, Limits, validate};

fn errors_of(definition: &AutomationDefinition) -> Vec<FieldError> {
    validate(definition, &Limits::default()).expect_err("the definition should be refused")
}

fn every_action() -> Vec<Action> {
    vec![
        reply("Hi {{ peer.title }}, this is {{account.displayName}}"),
        Action::MarkRead,
        Action::TagDialog { tag: "Lead".to_owned() },
        Action::AssignDialog { user: Some(member()) },
        Action::AssignDialog { user: None },
        webhook("https://hooks.example.com/tgos"),
        Action::PauseAccount,
    ]
}

#[test]
fn a_definition_using_every_part_is_valid() {
    let mut automation = definition(
        Trigger::NoReply {
            after_minutes: 30,
            accounts: vec![account(1), account(2)],
        },
        every_action(),
    );
    automation.conditions = vec![
        Condition::new(ConditionField::Text, ConditionOp::Contains, "price"),
        Condition::new(ConditionField::Text, ConditionOp::Matches, "(?i)^order #\\d+$"),
        Condition::new(ConditionField::PeerKind, ConditionOp::In, "USER, GROUP"),
        Condition::new(ConditionField::PeerUsername, ConditionOp::Equals, "@ann"),
        Condition::new(
            ConditionField::Account,
            ConditionOp::In,
            format!("{},{}", account(1), account(2)),
        ),
        Condition::new(ConditionField::DialogTag, ConditionOp::NotContains, "spam"),
        Condition::new(
            ConditionField::LocalTime,
            ConditionOp::Between,
            "22:00-06:00 Europe/Berlin",
        ),
        Condition::new(ConditionField::RiskScore, ConditionOp::LessThan, "50"),
    ];
    automation.mode = ConditionMode::Any;
    assert_eq!(validate(&automation, &Limits::default()), Ok(()));
}

#[test]
fn the_name_is_one_to_a_hundred_characters_once_trimmed() {
    for bad in ["", "   ", &"n".repeat(101), "two\nlines"] {
        let mut automation = definition(on_message(), vec![Action::MarkRead]);
        automation.name = bad.to_owned();
        assert_eq!(paths(&errors_of(&automation)), ["input.name"], "name {bad:?}");
    }
    let mut automation = definition(on_message(), vec![Action::MarkRead]);
    automation.name = format!("  {}  ", "n".repeat(100));
    assert_eq!(validate(&automation, &Limits::default()), Ok(()));
}

#[test]
fn an_automation_has_one_to_ten_actions() {
    let none = errors_of(&definition(on_message(), vec![]));
    assert_eq!(paths(&none), ["input.actions"]);
    assert!(none[0].message.contains("at least one action"));

    let eleven = errors_of(&definition(on_message(), vec![Action::MarkRead; 11]));
    assert_eq!(paths(&eleven), ["input.actions"]);
    assert!(eleven[0].message.contains("at most 10 actions"));

    assert_eq!(
        validate(
            &definition(on_message(), vec![Action::MarkRead; 10]),
            &Limits::default()
        ),
        Ok(())
    );
}

#[test]
fn a_no_reply_wait_is_one_minute_to_a_week() {
    for (minutes, valid) in [(0, false), (1, true), (10_080, true), (10_081, false)] {
        let automation = definition(
            Trigger::NoReply {
                after_minutes: minutes,
                accounts: vec![],
            },
            vec![reply("Still there?")],
        );
        let result = validate(&automation, &Limits::default());
        if valid {
            assert_eq!(result, Ok(()), "{minutes} minutes");
        } else {
            assert_eq!(
                paths(&result.unwrap_err()),
                ["input.trigger.noReply.afterMinutes"],
                "{minutes} minutes"
            );
        }
    }
}

#[test]
fn a_schedule_needs_a_valid_cron_and_zone_each_on_its_path() {
    let automation = definition(
        Trigger::Schedule {
            cron: "0 9 * *".to_owned(),
            timezone: "Europe/Atlantis".to_owned(),
        },
        vec![webhook("https://example.com/daily")],
    );
    let errors = errors_of(&automation);
    assert_eq!(
        paths(&errors),
        ["input.trigger.schedule.cron", "input.trigger.schedule.timezone"]
    );
    assert!(errors[0].message.contains("5 fields"));
    assert!(errors[1].message.contains("Europe/Atlantis"));

    let fine = definition(
        Trigger::Schedule {
            cron: "0 9 * * MON-FRI".to_owned(),
            timezone: "Europe/Berlin".to_owned(),
        },
        vec![webhook("https://example.com/daily")],
    );
    assert_eq!(validate(&fine, &Limits::default()), Ok(()));
}

#[test]
fn a_health_trigger_names_at_least_one_state() {
    let automation = definition(Trigger::HealthChanged { to_states: vec![] }, vec![Action::PauseAccount]);
    assert_eq!(paths(&errors_of(&automation)), ["input.trigger.healthChanged.toStates"]);
    let fine = definition(
        Trigger::HealthChanged {
            to_states: vec![HealthStateKind::Limited],
        },
        vec![Action::PauseAccount],
    );
    assert_eq!(validate(&fine, &Limits::default()), Ok(()));
}

#[test]
fn a_message_trigger_names_at_most_a_hundred_accounts() {
    let many: Vec<AccountId> = (0..101).map(account).collect();
    let received = definition(
        Trigger::MessageReceived { accounts: many.clone() },
        vec![Action::MarkRead],
    );
    assert_eq!(
        paths(&errors_of(&received)),
        ["input.trigger.messageReceived.accountIds"]
    );
    let unanswered = definition(
        Trigger::NoReply {
            after_minutes: 5,
            accounts: many,
        },
        vec![Action::MarkRead],
    );
    assert_eq!(paths(&errors_of(&unanswered)), ["input.trigger.noReply.accountIds"]);
}

#[test]
fn conditions_are_refused_on_their_op_or_value_path() {
    let mut automation = definition(on_message(), vec![Action::MarkRead]);
    automation.conditions = vec![
        Condition::new(ConditionField::Text, ConditionOp::Contains, "fine"),
        Condition::new(ConditionField::RiskScore, ConditionOp::LessThan, "101"),
        Condition::new(ConditionField::Text, ConditionOp::LessThan, "5"),
    ];
    let errors = errors_of(&automation);
    assert_eq!(paths(&errors), ["input.conditions[1].value", "input.conditions[2].op"]);
    assert_eq!(
        errors[1].message,
        "TEXT takes CONTAINS, NOT_CONTAINS, EQUALS, MATCHES, not LESS_THAN"
    );
}

#[test]
fn an_automation_has_at_most_twenty_conditions() {
    let mut automation = definition(on_message(), vec![Action::MarkRead]);
    automation.conditions = vec![Condition::new(ConditionField::Text, ConditionOp::Contains, "x"); 21];
    assert_eq!(paths(&errors_of(&automation)), ["input.conditions"]);
    automation.conditions.pop();
    assert_eq!(validate(&automation, &Limits::default()), Ok(()));
}

#[test]
fn a_pattern_that_is_too_long_too_big_or_broken_is_refused_saying_why() {
    let cases = [
        ("a".repeat(513), "at most 512"),
        // Fine as text, but a thousand bounded repetitions of a Unicode class compile to megabytes.
        ("\\w{1000}".to_owned(), "too complex"),
        ("(unclosed".to_owned(), "unclosed group"),
    ];
    for (pattern, why) in cases {
        let mut automation = definition(on_message(), vec![Action::MarkRead]);
        automation.conditions = vec![Condition::new(
            ConditionField::Text,
            ConditionOp::Matches,
            pattern.as_str(),
        )];
        let errors = errors_of(&automation);
        let message = message_on(&errors, "input.conditions[0].value");
        assert!(message.contains(why), "{pattern}: {message}");
    }
    let mut automation = definition(on_message(), vec![Action::MarkRead]);
    automation.conditions = vec![Condition::new(
        ConditionField::Text,
        ConditionOp::Matches,
        "a".repeat(512),
    )];
    assert_eq!(validate(&automation, &Limits::default()), Ok(()));
}

#[test]
fn a_message_template_is_checked_on_its_text_path() {
    let cases = [
        ("Hi {{ peer.name }}", "unknown variable `peer.name`"),
        ("Hi {{ peer.title", "not closed"),
        ("   ", "required"),
    ];
    for (text, why) in cases {
        let automation = definition(on_message(), vec![Action::MarkRead, reply(text)]);
        let errors = errors_of(&automation);
        assert_eq!(paths(&errors), ["input.actions[1].sendMessage.text"], "{text:?}");
        assert!(errors[0].message.contains(why), "{text:?}: {}", errors[0].message);
    }
    let long = definition(on_message(), vec![reply(&"x".repeat(4097))]);
    assert!(errors_of(&long)[0].message.contains("at most 4096"));
    let longest = definition(on_message(), vec![reply(&"x".repeat(4096))]);
    assert_eq!(validate(&longest, &Limits::default()), Ok(()));
}

#[test]
fn a_tag_is_checked_on_its_tag_path() {
    for bad in ["", "no spaces", &"t".repeat(33)] {
        let automation = definition(on_message(), vec![Action::TagDialog { tag: bad.to_owned() }]);
        assert_eq!(
            paths(&errors_of(&automation)),
            ["input.actions[0].tagDialog.tag"],
            "tag {bad:?}"
        );
    }
}

#[test]
fn a_webhook_address_is_an_absolute_https_url_with_a_public_host() {
    let refused = [
        ("http://example.com/hook", "https"),
        ("ftp://example.com/hook", "https, not ftp"),
        ("/hook", "not an absolute URL"),
        ("example.com/hook", "not an absolute URL"),
        ("https://", "not an absolute URL"),
        ("https://user:pass@example.com/hook", "user name or password"),
        ("https://localhost/hook", "private network"),
        ("https://127.0.0.1:8080/hook", "private network"),
        ("https://10.1.2.3/hook", "private network"),
        ("https://192.168.0.10/hook", "private network"),
        ("https://169.254.169.254/latest", "private network"),
        ("https://[::1]/hook", "private network"),
        ("https://[::ffff:127.0.0.1]/hook", "private network"),
        ("https://[fd00::1]/hook", "private network"),
        ("", "required"),
    ];
    for (url, why) in refused {
        let errors = errors_of(&definition(on_message(), vec![webhook(url)]));
        assert_eq!(paths(&errors), ["input.actions[0].webhook.url"], "{url}");
        assert!(errors[0].message.contains(why), "{url}: {}", errors[0].message);
    }
    let long = format!("https://example.com/{}", "a".repeat(2048));
    assert!(
        errors_of(&definition(on_message(), vec![webhook(&long)]))[0]
            .message
            .contains("at most 2048")
    );
    for url in [
        "https://example.com/hook",
        "https://8.8.8.8/hook",
        "https://hooks.example.com:8443/a?b=c",
    ] {
        assert_eq!(
            validate(&definition(on_message(), vec![webhook(url)]), &Limits::default()),
            Ok(()),
            "{url}"
        );
    }
}

#[test]
fn http_and_private_hosts_pass_only_where_private_destinations_are_allowed() {
    let local = Limits {
        allow_insecure_http: true,
        ..Limits::default()
    };
    for url in [
        "http://127.0.0.1:9000/hook",
        "http://localhost/hook",
        "https://10.0.0.5/hook",
    ] {
        let automation = definition(on_message(), vec![webhook(url)]);
        assert_eq!(validate(&automation, &local), Ok(()), "{url}");
        assert!(validate(&automation, &Limits::default()).is_err(), "{url}");
    }
    let ftp = definition(on_message(), vec![webhook("ftp://127.0.0.1/hook")]);
    assert!(validate(&ftp, &local).is_err());
}

#[test]
fn a_webhook_secret_is_sixteen_to_256_characters() {
    for (length, valid) in [(15, false), (16, true), (256, true), (257, false)] {
        let automation = definition(
            on_message(),
            vec![Action::Webhook {
                url: "https://example.com/hook".to_owned(),
                secret: "s".repeat(length),
            }],
        );
        let result = validate(&automation, &Limits::default());
        if valid {
            assert_eq!(result, Ok(()), "{length}");
        } else {
            assert_eq!(
                paths(&result.unwrap_err()),
                ["input.actions[0].webhook.secret"],
                "{length}"
            );
        }
    }
}

#[test]
fn dialog_actions_are_refused_under_triggers_without_a_dialog() {
    let schedule = Trigger::Schedule {
        cron: "0 9 * * *".to_owned(),
        timezone: "UTC".to_owned(),
    };
    let health = Trigger::HealthChanged {
        to_states: vec![HealthStateKind::Banned],
    };
    for trigger in [schedule.clone(), health.clone()] {
        let errors = errors_of(&definition(trigger.clone(), every_action()));
        assert_eq!(
            paths(&errors)
                .into_iter()
                .filter(|path| !path.ends_with("pauseAccount"))
                .collect::<Vec<_>>(),
            [
                "input.actions[0].sendMessage",
                "input.actions[1].markRead",
                "input.actions[2].tagDialog",
                "input.actions[3].assignDialog",
                "input.actions[4].assignDialog",
            ],
            "{trigger:?}"
        );
        assert!(errors[0].message.contains("never start"), "{}", errors[0].message);
    }
    // A schedule has no account either; a health change has the account whose health changed.
    let errors = errors_of(&definition(schedule.clone(), vec![Action::PauseAccount]));
    assert_eq!(paths(&errors), ["input.actions[0].pauseAccount"]);
    assert!(errors[0].message.contains("needs an account"));
    assert_eq!(
        validate(
            &definition(health, vec![Action::PauseAccount, webhook("https://example.com/h")]),
            &Limits::default()
        ),
        Ok(())
    );
    assert_eq!(
        validate(
            &definition(schedule, vec![webhook("https://example.com/h")]),
            &Limits::default()
        ),
        Ok(())
    );
}

#[test]
fn every_action_is_allowed_with_message_and_manual_triggers() {
    for trigger in [
        on_message(),
        Trigger::NoReply {
            after_minutes: 60,
            accounts: vec![],
        },
        Trigger::Manual,
    ] {
        assert_eq!(
            validate(&definition(trigger.clone(), every_action()), &Limits::default()),
            Ok(()),
            "{trigger:?}"
        );
    }
}

#[test]
fn every_fault_of_one_input_is_reported_at_once() {
    let mut automation = definition(
        Trigger::Schedule {
            cron: "61 * * * *".to_owned(),
            timezone: "Nowhere".to_owned(),
        },
        vec![
            reply("Hello {{ who }}"),
            webhook("http://example.com"),
            Action::TagDialog {
                tag: "bad tag".to_owned(),
            },
        ],
    );
    automation.name = " ".to_owned();
    automation.conditions = vec![
        Condition::new(ConditionField::PeerKind, ConditionOp::Equals, "ROBOT"),
        Condition::new(ConditionField::LocalTime, ConditionOp::Contains, "x"),
    ];
    let errors = errors_of(&automation);
    assert_eq!(
        paths(&errors),
        [
            "input.name",
            "input.trigger.schedule.cron",
            "input.trigger.schedule.timezone",
            "input.conditions[0].value",
            "input.conditions[1].op",
            "input.actions[0].sendMessage",
            "input.actions[0].sendMessage.text",
            "input.actions[1].webhook.url",
            "input.actions[2].tagDialog",
            "input.actions[2].tagDialog.tag",
        ]
    );
    assert!(message_on(&errors, "input.actions[0].sendMessage.text").contains("`who`"));
}
