//! The shape of a retention class: what it covers, why it is kept, for how long, and what happens after.
//!
//! Rule: a class is data, not code. The sweep runs the classes whose action is [`Action::Purge`]; the others
//! name the job or setting that carries them out, so the table in [`super::table`] is the whole policy.

use super::windows::Window;

/// What one class covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cover {
    /// Every row of a table (and every column no column-level class takes).
    Rows(&'static str),
    /// Only these columns of a table's rows (the rows themselves belong to another class).
    Columns(&'static str, &'static [&'static str]),
    /// Files outside the database (backups, export files).
    Files(&'static str),
}

/// How long a class keeps its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// For a window configured under `[retention]` (see [`Window`]).
    Window(Window),
    /// While the parent lives: the text names the parent (the workspace, the account, the pool's account).
    WhileParentLives(&'static str),
    /// For a window configured elsewhere: the setting and its default.
    Setting { key: &'static str, default: &'static str },
    /// As long as an obligation outside the service requires; the text names it.
    Obligation(&'static str),
}

/// What happens when the retention runs out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The retention sweep deletes the rows, or nulls the columns, the [`Purge`] names.
    Purge(Purge),
    /// The sweep only reports what is due, and why it does not act.
    ReportOnly(Purge, &'static str),
    /// Another job carries it out; the text names the job (or command) and what it does.
    ByJob(&'static str),
    /// Nothing in the service removes it; the text says what keeps it so and who may read it.
    Kept(&'static str),
}

/// A purge the sweep knows how to run in batches (persistence implements each for both databases).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Purge {
    /// Sessions expired or revoked before the cutoff: deleted.
    ExpiredSessions,
    /// Sign-in challenges expired before the cutoff: deleted.
    ExpiredChallenges,
    /// Lockout counters untouched since the cutoff and not locked: deleted.
    StaleThrottles,
    /// Invitations expired, accepted or revoked before the cutoff: deleted.
    EndedInvitations,
    /// Sessions' IP address and user agent, last seen before the cutoff: set to NULL.
    SessionTelemetry,
    /// Dialogs, messages, tags and sync state of an account in a workspace with no active lease and no lease
    /// ending after the cutoff: deleted.
    InboxOfEndedLeases,
    /// Automation executions that ran (succeeded or failed) and finished before the cutoff, and automated
    /// sends' idempotency keys older than it: deleted.
    FinishedExecutions,
    /// Two-person approvals of staff actions proposed before the cutoff (the audit log keeps who did what).
    StaleApprovals,
    /// Billing rows older than the cutoff of workspaces that no longer exist: ledger transactions with their
    /// postings, payment matching and top-ups; a wallet balance once no ledger row of its workspace is left.
    OldBilling,
}

/// One retention class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionClass {
    /// Stable name (reports, the audit summary, configuration docs).
    pub name: &'static str,
    pub covers: &'static [Cover],
    /// Why it is kept as long as it is (the privacy policy's §7 or the purpose).
    pub why: &'static str,
    pub keep: Keep,
    pub action: Action,
}

impl RetentionClass {
    /// The purge the sweep runs or reports for this class, if any.
    pub fn purge(&self) -> Option<Purge> {
        match self.action {
            Action::Purge(purge) | Action::ReportOnly(purge, _) => Some(purge),
            Action::ByJob(_) | Action::Kept(_) => None,
        }
    }

    /// Whether the sweep acts (not only reports).
    pub fn acts(&self) -> bool {
        matches!(self.action, Action::Purge(_))
    }

    /// The tables whose rows it covers.
    pub fn row_tables(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.covers.iter().filter_map(|cover| match cover {
            Cover::Rows(table) => Some(*table),
            _ => None,
        })
    }

    /// The columns it covers column by column, as `(table, column)`.
    pub fn columns(&self) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
        self.covers.iter().flat_map(|cover| match cover {
            Cover::Columns(table, columns) => columns.iter().map(|c| (*table, *c)).collect::<Vec<_>>(),
            _ => Vec::new(),
        })
    }
}
