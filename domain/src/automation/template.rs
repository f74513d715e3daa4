//! Message templates: text with `{{ variable }}` placeholders filled in when a run sends it.
//!
//! Rules:
//! - A placeholder is `{{`, optional spaces, one of [`TEMPLATE_VARIABLES`], optional spaces, `}}`.
//! - An unknown variable, an empty `{{}}` and a `{{` that is never closed are errors naming what is wrong,
//!   so a typo is caught when the automation is saved, not when it sends `{{peer.tilte}}` to a customer.
//! - There is no escape: text cannot hold a literal `{{`. A lone `}}` is ordinary text.
//! - A value the run does not have (a peer without a username, a run without a message) renders as empty
//!   text.

/// The variables a template may use.
pub const TEMPLATE_VARIABLES: &[&str] = &["peer.title", "peer.username", "account.displayName", "message.text"];

/// A parsed template, ready to render many times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Text(String),
    Variable(Variable),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variable {
    PeerTitle,
    PeerUsername,
    AccountDisplayName,
    MessageText,
}

impl Variable {
    fn parse(name: &str) -> Option<Self> {
        match name {
            "peer.title" => Some(Variable::PeerTitle),
            "peer.username" => Some(Variable::PeerUsername),
            "account.displayName" => Some(Variable::AccountDisplayName),
            "message.text" => Some(Variable::MessageText),
            _ => None,
        }
    }
}

/// What a run knows to fill a template with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateValues {
    pub peer_title: String,
    /// Without the `@`.
    pub peer_username: Option<String>,
    pub account_display_name: String,
    /// The message that triggered the run, if one did.
    pub message_text: Option<String>,
}

impl Template {
    /// Parses `text`, or says which placeholder is wrong.
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut segments = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                segments.push(Segment::Text(rest[..open].to_owned()));
            }
            let after_open = &rest[open + 2..];
            let Some(close) = after_open.find("}}") else {
                let start = text.len() - rest.len() + open;
                return Err(format!(
                    "`{{{{` at character {} is not closed with `}}}}`",
                    text[..start].chars().count() + 1
                ));
            };
            let name = after_open[..close].trim();
            if name.is_empty() {
                return Err("`{{}}` names no variable".to_owned());
            }
            let variable = Variable::parse(name).ok_or_else(|| {
                format!(
                    "unknown variable `{name}`; the variables are {}",
                    TEMPLATE_VARIABLES.join(", ")
                )
            })?;
            segments.push(Segment::Variable(variable));
            rest = &after_open[close + 2..];
        }
        if !rest.is_empty() {
            segments.push(Segment::Text(rest.to_owned()));
        }
        Ok(Template { segments })
    }

    /// The text with every placeholder replaced by its value (empty when the value is missing).
    pub fn render(&self, values: &TemplateValues) -> String {
        let mut out = String::new();
        for segment in &self.segments {
            match segment {
                Segment::Text(text) => out.push_str(text),
                Segment::Variable(variable) => out.push_str(match variable {
                    Variable::PeerTitle => &values.peer_title,
                    Variable::PeerUsername => values.peer_username.as_deref().unwrap_or(""),
                    Variable::AccountDisplayName => &values.account_display_name,
                    Variable::MessageText => values.message_text.as_deref().unwrap_or(""),
                }),
            }
        }
        out
    }

    /// Whether the template has placeholders at all.
    pub fn has_variables(&self) -> bool {
        self.segments
            .iter()
            .any(|segment| matches!(segment, Segment::Variable(_)))
    }
}
