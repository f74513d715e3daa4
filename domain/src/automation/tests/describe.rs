//! The dry run's one-line descriptions of actions.

use super::*;
use crate::automation::describe_action;

#[test]
fn each_action_is_described_in_one_line() {
    let cases = [
        (
            reply("Hello {{peer.title}}"),
            Some("Hello Ann"),
            r#"sendMessage: "Hello Ann""#.to_owned(),
        ),
        (
            reply("Hello {{peer.title}}"),
            None,
            r#"sendMessage: "Hello {{peer.title}}""#.to_owned(),
        ),
        (
            reply("x"),
            Some("two\nlines"),
            r#"sendMessage: "two\nlines""#.to_owned(),
        ),
        (Action::MarkRead, None, "markRead".to_owned()),
        (
            Action::TagDialog {
                tag: " VIP ".to_owned(),
            },
            None,
            "tagDialog: vip".to_owned(),
        ),
        (
            Action::AssignDialog { user: Some(member()) },
            None,
            format!("assignDialog: {}", member()),
        ),
        (
            Action::AssignDialog { user: None },
            None,
            "assignDialog: nobody".to_owned(),
        ),
        (
            webhook("https://example.com/hook"),
            None,
            "webhook: POST https://example.com/hook".to_owned(),
        ),
        (Action::PauseAccount, None, "pauseAccount".to_owned()),
    ];
    for (action, rendered, expected) in cases {
        assert_eq!(describe_action(&action, rendered), expected);
    }
}

#[test]
fn a_webhook_description_never_shows_the_secret() {
    let action = Action::Webhook {
        url: "https://example.com/hook".to_owned(),
        secret: "very-secret-signing-key".to_owned(),
    };
    assert!(!describe_action(&action, None).contains("very-secret"));
}

#[test]
fn action_names_are_the_graphql_input_members() {
    let names: Vec<&str> = [
        reply("x"),
        Action::MarkRead,
        Action::TagDialog { tag: "a".to_owned() },
        Action::AssignDialog { user: None },
        webhook("https://example.com"),
        Action::PauseAccount,
    ]
    .iter()
    .map(Action::name)
    .collect();
    assert_eq!(
        names,
        [
            "sendMessage",
            "markRead",
            "tagDialog",
            "assignDialog",
            "webhook",
            "pauseAccount"
        ]
    );
}

#[test]
fn trigger_kinds_name_themselves_and_read_back() {
    use crate::automation::TriggerKind;
    use std::str::FromStr;
    for kind in TriggerKind::ALL {
        assert_eq!(TriggerKind::from_str(kind.as_str()), Ok(kind));
    }
    assert_eq!(on_message().kind().as_str(), "MESSAGE_RECEIVED");
    assert!(TriggerKind::from_str("message_received").is_err());
    let accounts = vec![account(1)];
    assert_eq!(
        Trigger::MessageReceived {
            accounts: accounts.clone()
        }
        .accounts(),
        accounts.as_slice()
    );
    assert!(Trigger::Manual.accounts().is_empty());
    assert!(Trigger::Manual.has_dialog());
    assert!(
        !Trigger::Schedule {
            cron: String::new(),
            timezone: String::new()
        }
        .has_dialog()
    );
}

#[test]
fn definitions_are_stored_as_camel_case_json_and_read_back() {
    let mut automation = definition(
        Trigger::NoReply {
            after_minutes: 15,
            accounts: vec![account(1)],
        },
        vec![reply("Hi"), Action::MarkRead, Action::AssignDialog { user: None }],
    );
    automation.conditions = vec![crate::automation::Condition::new(
        crate::automation::ConditionField::PeerUsername,
        crate::automation::ConditionOp::NotContains,
        "bot",
    )];
    let json = serde_json::to_value(&automation).unwrap();
    assert_eq!(json["trigger"]["noReply"]["afterMinutes"], 15);
    assert_eq!(json["conditions"][0]["field"], "PEER_USERNAME");
    assert_eq!(json["conditions"][0]["op"], "NOT_CONTAINS");
    assert_eq!(json["mode"], "ALL");
    assert_eq!(json["actions"][0]["sendMessage"]["text"], "Hi");
    assert_eq!(json["actions"][1], "markRead");
    let back: AutomationDefinition = serde_json::from_value(json).unwrap();
    assert_eq!(back, automation);
}
