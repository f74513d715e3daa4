//! Templates: placeholders with or without spaces, errors naming what is wrong, missing values.

use crate::automation::{TEMPLATE_VARIABLES, Template, TemplateValues};

fn ann() -> TemplateValues {
    TemplateValues {
        peer_title: "Ann Smith".to_owned(),
        peer_username: Some("ann".to_owned()),
        account_display_name: "Support".to_owned(),
        message_text: Some("What is the price?".to_owned()),
    }
}

fn render(text: &str, values: &TemplateValues) -> String {
    Template::parse(text)
        .unwrap_or_else(|error| panic!("{text:?} refused: {error}"))
        .render(values)
}

#[test]
fn every_variable_renders_with_or_without_spaces() {
    assert_eq!(
        render(
            "Hi {{peer.title}} (@{{ peer.username }}), {{  account.displayName  }} here. You wrote: {{ message.text}}",
            &ann()
        ),
        "Hi Ann Smith (@ann), Support here. You wrote: What is the price?"
    );
    assert_eq!(render("{{peer.title}}{{peer.title}}", &ann()), "Ann SmithAnn Smith");
    assert_eq!(TEMPLATE_VARIABLES.len(), 4);
    for variable in TEMPLATE_VARIABLES {
        assert!(
            Template::parse(&format!("{{{{ {variable} }}}}"))
                .unwrap()
                .has_variables()
        );
    }
}

#[test]
fn missing_values_render_as_empty_text() {
    let values = TemplateValues {
        peer_username: None,
        message_text: None,
        ..ann()
    };
    assert_eq!(render("[{{ peer.username }}|{{ message.text }}]", &values), "[|]");
}

#[test]
fn an_unknown_variable_is_named() {
    let error = Template::parse("Hello {{ peer.name }}!").unwrap_err();
    assert!(error.starts_with("unknown variable `peer.name`"), "{error}");
    assert!(error.contains("peer.title, peer.username, account.displayName, message.text"));
    // Variable names are case-sensitive, as written in the documentation.
    assert!(
        Template::parse("{{ Peer.Title }}")
            .unwrap_err()
            .contains("`Peer.Title`")
    );
}

#[test]
fn an_unclosed_or_empty_placeholder_is_an_error() {
    assert_eq!(
        Template::parse("Hi {{ peer.title").unwrap_err(),
        "`{{` at character 4 is not closed with `}}`"
    );
    assert_eq!(
        Template::parse("Привет {{peer.title}} {{").unwrap_err(),
        "`{{` at character 23 is not closed with `}}`"
    );
    assert_eq!(Template::parse("{{ }}").unwrap_err(), "`{{}}` names no variable");
}

#[test]
fn text_without_placeholders_renders_as_itself() {
    for text in [
        "",
        "Thanks, we will answer soon.",
        "a } b }} c {",
        "emoji 🎉 and ünïcode",
    ] {
        let template = Template::parse(text).unwrap();
        assert!(!template.has_variables());
        assert_eq!(template.render(&ann()), text);
    }
}
