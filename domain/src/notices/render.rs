//! What a notice says, in plain text and in HTML.
//!
//! Rule: every value from outside (names, addresses, user agents) is escaped in the HTML part; the two parts
//! say the same. Times are written in UTC, RFC 3339, so nobody has to guess a zone.

use chrono::{DateTime, SecondsFormat, Utc};

use super::catalog::Notice;

/// A written notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// A link the notice carries (verification, download).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    pub label: &'static str,
    pub url: String,
}

const SIGNATURE: &str = "Telegram OS";
const NOT_YOU: &str = "If this was not you, change your password and turn on two-factor sign-in at once.";

fn at(time: &DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// The subject and paragraphs of `notice` addressed to `name`, with `action` when it has a link.
pub fn render(notice: &Notice, name: &str, action: Option<&Action>) -> Rendered {
    let (subject, paragraphs) = words(notice);
    let mut text = format!("Hello {name},\n\n");
    let mut html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif;line-height:1.5\"><p>Hello {},</p>",
        escape_html(name)
    );
    for paragraph in &paragraphs {
        text.push_str(paragraph);
        text.push_str("\n\n");
        html.push_str(&format!("<p>{}</p>", escape_html(paragraph)));
    }
    if let Some(action) = action {
        text.push_str(&format!("{}: {}\n\n", action.label, action.url));
        html.push_str(&format!(
            "<p><a href=\"{url}\">{label}</a></p><p style=\"font-size:small\">{url}</p>",
            url = escape_html(&action.url),
            label = escape_html(action.label),
        ));
    }
    text.push_str(&format!("-- \n{SIGNATURE}\n"));
    html.push_str(&format!("<p>{SIGNATURE}</p></body></html>"));
    Rendered {
        subject: subject.to_owned(),
        text,
        html,
    }
}

fn words(notice: &Notice) -> (&'static str, Vec<String>) {
    match notice {
        Notice::VerifyEmail => (
            "Confirm your email address",
            vec!["Confirm that this address is yours. The link works for 24 hours.".to_owned()],
        ),
        Notice::ConfirmEmailChange => (
            "Confirm your new email address",
            vec![
                "You asked to use this address for your Telegram OS account. The change happens when you open \
                 the link; it works for 24 hours."
                    .to_owned(),
            ],
        ),
        Notice::EmailChangeRequested { new_email } => (
            "Your email address is about to change",
            vec![
                format!(
                    "Someone signed in to your account asked to change its email address to {new_email}. This \
                     address stays in use until the new one is confirmed."
                ),
                NOT_YOU.to_owned(),
            ],
        ),
        Notice::EmailChanged { new_email } => (
            "Your email address was changed",
            vec![
                format!("Your account's email address is now {new_email}."),
                NOT_YOU.to_owned(),
            ],
        ),
        Notice::NewSignIn {
            ip_address,
            user_agent,
            at: when,
        } => (
            "New sign-in to your account",
            vec![
                format!(
                    "Your account was signed in to at {} from {} using {}.",
                    at(when),
                    ip_address.as_deref().unwrap_or("an unknown address"),
                    user_agent.as_deref().unwrap_or("an unknown client"),
                ),
                NOT_YOU.to_owned(),
            ],
        ),
        Notice::PasswordChanged => (
            "Your password was changed",
            vec![
                "Your password was changed and your other sessions were signed out.".to_owned(),
                NOT_YOU.to_owned(),
            ],
        ),
        Notice::TwoFactorEnabled => (
            "Two-factor sign-in is on",
            vec!["Signing in now needs a code from your authenticator or a backup code.".to_owned()],
        ),
        Notice::TwoFactorDisabled => (
            "Two-factor sign-in is off",
            vec![
                "Two-factor sign-in was turned off: your password alone now signs in.".to_owned(),
                NOT_YOU.to_owned(),
            ],
        ),
        Notice::BackupCodesRegenerated => (
            "New backup codes",
            vec![
                "New backup codes were made for your account; the earlier ones no longer work.".to_owned(),
                NOT_YOU.to_owned(),
            ],
        ),
        Notice::ApiKeyCreated { workspace, key_name } => (
            "An API key was created",
            vec![
                format!("You created the API key \"{key_name}\" in the workspace {workspace}."),
                NOT_YOU.to_owned(),
            ],
        ),
        Notice::TopUpCredited { workspace, amount } => (
            "Your top-up arrived",
            vec![format!("{amount} was credited to the wallet of {workspace}.")],
        ),
        Notice::LowBalance {
            workspace,
            balance,
            threshold,
        } => (
            "Your wallet is running low",
            vec![format!(
                "The wallet of {workspace} holds {balance}, below {threshold}. Rentals and renewals need credit."
            )],
        ),
        Notice::LeaseEnding { workspace, ends_at, .. } => (
            "A rented account's lease ends tomorrow",
            vec![format!(
                "A lease of {workspace} ends at {}. Renew it before then to keep the account.",
                at(ends_at)
            )],
        ),
        Notice::LeaseEnded { workspace, ended_at } => (
            "A rented account's lease ended",
            vec![format!(
                "A lease of {workspace} ended at {}; the account went back to the pool.",
                at(ended_at)
            )],
        ),
        Notice::ExportReady { expires_at, .. } => (
            "Your data export is ready",
            vec![format!(
                "The archive of your data is ready. Download it from your account's data page while signed in; it \
                 is deleted at {}.",
                at(expires_at)
            )],
        ),
        Notice::DeletionScheduled { erase_at } => (
            "Your account is closed and will be deleted",
            vec![
                format!(
                    "Your account is closed. Its personal data will be erased at {}. Until then you can sign in \
                     and cancel the deletion, which restores everything.",
                    at(erase_at)
                ),
                NOT_YOU.to_owned(),
            ],
        ),
        Notice::DeletionCancelled => (
            "Your account deletion was cancelled",
            vec!["Your account is open again, with everything as it was.".to_owned()],
        ),
        Notice::AccountSuspended { reason } => (
            "Your account is suspended",
            vec![
                format!("Staff suspended your account and signed it out everywhere. The reason: {reason}"),
                "Reply to this email if you think this is a mistake.".to_owned(),
            ],
        ),
        Notice::AccountUnsuspended => (
            "Your account is active again",
            vec!["Staff lifted the suspension of your account. You can sign in again.".to_owned()],
        ),
        Notice::DeletionDone => (
            "Your account was deleted",
            vec![
                "Your account's personal data was erased. Billing records are kept for seven years without your \
                 name, as the law requires; backups roll over within 30 days."
                    .to_owned(),
            ],
        ),
        Notice::RequestStatus {
            kind,
            status,
            resolution,
            answer_by,
        } => {
            let kind = kind.to_lowercase();
            let status = status.replace('_', " ").to_lowercase();
            let mut lines = vec![match resolution {
                Some(resolution) => format!("Your {kind} request is now {status}: {resolution}"),
                None => format!("Your {kind} request is now {status}."),
            }];
            if let Some(answer_by) = answer_by {
                lines.push(format!("We will answer it by {}.", at(answer_by)));
            }
            ("Your data request was updated", lines)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_values_are_escaped_in_html_and_both_parts_say_the_same() {
        let notice = Notice::NewSignIn {
            ip_address: Some("203.0.113.9".to_owned()),
            user_agent: Some("<script>alert(1)</script>".to_owned()),
            at: DateTime::UNIX_EPOCH,
        };
        let action = Action {
            label: "Review your sessions",
            url: "https://app.example/s?a=1&b=\"2\"".to_owned(),
        };
        let rendered = render(&notice, "Ada <Lovelace>", Some(&action));
        assert_eq!(rendered.subject, "New sign-in to your account");
        assert!(rendered.text.contains("<script>alert(1)</script>"));
        assert!(rendered.text.contains("Hello Ada <Lovelace>,"));
        assert!(rendered.text.contains("https://app.example/s?a=1&b=\"2\""));
        assert!(!rendered.html.contains("<script>"));
        assert!(rendered.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(rendered.html.contains("Hello Ada &lt;Lovelace&gt;,"));
        assert!(
            rendered
                .html
                .contains("href=\"https://app.example/s?a=1&amp;b=&quot;2&quot;\"")
        );
        assert!(rendered.text.contains("1970-01-01T00:00:00Z") && rendered.html.contains("1970-01-01T00:00:00Z"));
    }
}
