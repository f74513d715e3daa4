//! The filters `audit search` and `audit export` share, and printing a refusal.

use std::io::Write as _;

use clap::Args;
use serde_json::json;
use tgos_domain::DomainError;
use tgos_domain::audit::{AuditSearch, AuditSearchText};

use crate::errors::{code_of, field_of};

/// Which entries: every flag narrows the search (see `AuditSearch` for each one's meaning).
#[derive(Debug, Args)]
pub struct FilterArgs {
    /// Only this workspace's entries (its id).
    #[arg(long)]
    workspace: Option<String>,
    /// Only this chain: `platform`, `user:<id>` or `workspace:<id>`.
    #[arg(long)]
    chain: Option<String>,
    /// Only entries whose actor has this id (a user, staff member or API key).
    #[arg(long)]
    actor: Option<String>,
    /// Only entries of this action, e.g. `member.invited`.
    #[arg(long)]
    action: Option<String>,
    /// From this day (YYYY-MM-DD) or time (RFC 3339), UTC, inclusive.
    #[arg(long)]
    from: Option<String>,
    /// Up to this day (the whole day counts) or time (exclusive), UTC.
    #[arg(long)]
    to: Option<String>,
    /// Older than this cursor (printed when more entries follow).
    #[arg(long)]
    before: Option<String>,
}

impl FilterArgs {
    /// The search the flags ask for; `BAD_USER_INPUT` naming each flag that is wrong.
    pub fn search(&self) -> Result<AuditSearch, DomainError> {
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        let (workspace, chain, actor, action) = (
            text(&self.workspace),
            text(&self.chain),
            text(&self.actor),
            text(&self.action),
        );
        let (from, to, before) = (text(&self.from), text(&self.to), text(&self.before));
        AuditSearch::parse(&AuditSearchText {
            workspace: &workspace,
            chain: &chain,
            actor_id: &actor,
            action: &action,
            from: &from,
            to: &to,
            before: &before,
        })
    }
}

/// A refusal: printed as `{"error": {…}}` on stdout with `--json`, and failing the command (exit 1).
pub fn refused(json_output: bool, error: DomainError) -> anyhow::Error {
    if json_output {
        let body =
            json!({ "error": { "code": code_of(&error), "field": field_of(&error), "message": error.to_string() } });
        // The command fails either way; a closed stdout only loses the JSON copy of the refusal.
        let _ignored = writeln!(std::io::stdout().lock(), "{body}");
    }
    anyhow::Error::new(error)
}
