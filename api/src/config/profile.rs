//! The deployment profile (`profile`, `TGOS_PROFILE`): `development` (the default) or `production`.
//!
//! Rules:
//! - In production, GraphiQL (`graphql.graphiql`) and introspection (`graphql.introspection`) default to off;
//!   setting either explicitly turns it on.
//! - In production, the server refuses to start with: the sandbox Telegram gateway, no master key, a master
//!   key from the configuration file rather than the environment (`TGOS_MASTER_KEY`), and
//!   `mail.allow_plaintext_smtp = true`, `automations.allow_private_webhooks = true`. The one error lists every
//!   refused setting by name.
//! - `/metrics` is served on the main listener in development only; `server.metrics_addr` serves it on its
//!   own listener in any profile (`server.rs`).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{ConfigError, Settings};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    #[default]
    Development,
    Production,
}

impl Profile {
    /// The defaults this profile changes, layered over the built-in ones and under everything configured.
    pub(super) fn defaults(self) -> Value {
        match self {
            Self::Development => json!({}),
            Self::Production => json!({ "graphql": { "graphiql": false, "introspection": false } }),
        }
    }
}

/// Facts about where settings came from, which the settings themselves no longer show.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sources {
    /// `master_key` was written in the configuration file.
    pub master_key_in_file: bool,
    /// `mail.allow_plaintext_smtp` is set to `true`.
    pub allow_plaintext_smtp: bool,
}

/// Refuses the combinations the settings' profile does not allow, naming each refused setting.
pub fn check(settings: &Settings, sources: Sources) -> Result<(), ConfigError> {
    if settings.profile != Profile::Production {
        return Ok(());
    }
    let mut refused = Vec::new();
    if settings.telegram.gateway == "sandbox" {
        refused.push(
            "telegram.gateway = \"sandbox\" (a simulated network; configure the real gateway explicitly)".to_owned(),
        );
    }
    if settings.master_key.is_none() {
        refused.push("master_key unset (set TGOS_MASTER_KEY; no key file is created or read)".to_owned());
    } else if sources.master_key_in_file {
        refused.push("master_key in the configuration file (give it in the environment as TGOS_MASTER_KEY)".to_owned());
    }
    if sources.allow_plaintext_smtp {
        refused.push("mail.allow_plaintext_smtp = true (mail is sent over TLS only)".to_owned());
    }
    if settings.automations.allow_private_webhooks {
        refused
            .push("automations.allow_private_webhooks = true (webhooks reach public https addresses only)".to_owned());
    }
    if refused.is_empty() {
        Ok(())
    } else {
        Err(ConfigError::Invalid(format!(
            "the production profile refuses {}",
            refused.join("; ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::super::Overrides;
    use super::*;

    const KEY: &str = "dGdvcy1jb25maWctdGVzdHMtbWFzdGVyLWtleS0zMmI=";

    /// `Settings::load` in a jail with these variables and this `tgos.toml`: the settings, or the error text.
    #[expect(clippy::result_large_err, reason = "figment::Jail fixes the closure's error type")]
    fn load(env: &[(&str, &str)], toml: &str) -> Result<Settings, String> {
        let mut outcome = Err("the jail did not run".to_owned());
        figment::Jail::expect_with(|jail| {
            jail.create_file("tgos.toml", toml)?;
            for (name, value) in env {
                jail.set_env(name, value);
            }
            outcome = Settings::load(&Overrides::default()).map_err(|e| e.to_string());
            Ok(())
        });
        outcome
    }

    fn refusal(env: &[(&str, &str)], toml: &str) -> String {
        match load(env, toml) {
            Ok(settings) => format!("accepted: {settings:?}"),
            Err(error) => error,
        }
    }

    const PRODUCTION_OK: &[(&str, &str)] = &[
        ("TGOS_PROFILE", "production"),
        ("TGOS_MASTER_KEY", KEY),
        ("TGOS_TELEGRAM__GATEWAY", "mtproto"),
    ];

    #[test]
    fn production_refuses_the_sandbox_gateway() {
        let env = [("TGOS_PROFILE", "production"), ("TGOS_MASTER_KEY", KEY)];
        let error = refusal(&env, "");
        assert!(error.contains("production profile refuses"), "{error}");
        assert!(error.contains("telegram.gateway = \"sandbox\""), "{error}");
        assert!(!error.contains("master_key"), "only what is wrong is named: {error}");
    }

    #[test]
    fn production_requires_a_master_key_and_never_a_key_file() {
        let env = [("TGOS_PROFILE", "production"), ("TGOS_TELEGRAM__GATEWAY", "mtproto")];
        let error = refusal(&env, "");
        assert!(error.contains("master_key unset"), "{error}");
        assert!(error.contains("TGOS_MASTER_KEY"), "{error}");
    }

    #[test]
    fn production_refuses_a_master_key_in_the_configuration_file_and_never_prints_it() {
        let error = refusal(PRODUCTION_OK, &format!("master_key = \"{KEY}\"\n"));
        assert!(error.contains("master_key in the configuration file"), "{error}");
        assert!(!error.contains(KEY), "the key is not echoed: {error}");
    }

    #[test]
    fn production_refuses_plaintext_smtp() {
        let mut env = PRODUCTION_OK.to_vec();
        env.push(("TGOS_MAIL__ALLOW_PLAINTEXT_SMTP", "true"));
        let error = refusal(&env, "");
        assert!(error.contains("mail.allow_plaintext_smtp = true"), "{error}");
        let from_file = refusal(PRODUCTION_OK, "[mail]\nallow_plaintext_smtp = true\n");
        assert!(from_file.contains("mail.allow_plaintext_smtp = true"), "{from_file}");
    }

    #[test]
    fn production_names_every_refused_setting_in_one_message() {
        let error = refusal(
            &[
                ("TGOS_PROFILE", "production"),
                ("TGOS_MAIL__ALLOW_PLAINTEXT_SMTP", "true"),
            ],
            "",
        );
        for setting in ["telegram.gateway", "master_key", "mail.allow_plaintext_smtp"] {
            assert!(error.contains(setting), "{setting} missing from: {error}");
        }
    }

    #[test]
    fn production_turns_graphiql_and_introspection_off_unless_enabled() -> Result<(), String> {
        let settings = load(PRODUCTION_OK, "")?;
        assert_eq!(settings.profile, Profile::Production);
        assert!(!settings.graphql.graphiql);
        assert!(!settings.graphql.introspection);
        let mut env = PRODUCTION_OK.to_vec();
        env.push(("TGOS_GRAPHQL__INTROSPECTION", "true"));
        let enabled = load(&env, "[graphql]\ngraphiql = true\n")?;
        assert!(enabled.graphql.graphiql, "enabled in the file");
        assert!(enabled.graphql.introspection, "enabled in the environment");
        Ok(())
    }

    #[test]
    fn development_allows_the_sandbox_a_key_file_and_plaintext_smtp() -> Result<(), String> {
        let settings = load(
            &[("TGOS_MAIL__ALLOW_PLAINTEXT_SMTP", "true")],
            &format!("master_key = \"{KEY}\"\n"),
        )?;
        assert_eq!(settings.profile, Profile::Development);
        assert!(settings.graphql.graphiql && settings.graphql.introspection);
        let no_key = load(&[], "")?;
        assert!(no_key.master_key.is_none());
        Ok(())
    }

    #[test]
    fn an_unknown_profile_is_named() {
        let error = refusal(&[("TGOS_PROFILE", "staging")], "");
        assert!(
            error.contains("staging") && error.to_lowercase().contains("profile"),
            "{error}"
        );
    }
}
