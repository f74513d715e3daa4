//! The retention table: every table and column of the database, each in exactly one class.
//!
//! Rule: a table belongs to exactly one class by its rows ([`Cover::Rows`]); a column-level class
//! ([`Cover::Columns`]) takes named columns out of their row class. Adding a table is one line: a
//! `Cover::Rows("table")` in the class it belongs to (the classification test fails until it is there).

use super::classes::{Action, Cover, Keep, Purge, RetentionClass};
use super::windows::Window;

/// The job that erases a closed account 30 days after closure (the account's own data; what must stay is
/// pseudonymized).
pub const ACCOUNT_ERASURE_JOB: &str = crate::erasure::ACCOUNT_ERASURE_JOB;
/// The job that erases a closed or deleted workspace (its rows, its audit chain, its data key).
pub const WORKSPACE_ERASURE_JOB: &str = crate::erasure::ERASURE_JOB;
/// The job that deletes an export's file and row 7 days after it was made.
pub const EXPORT_EXPIRY_JOB: &str = "export.expire";

/// Every class, in the order the sweep runs them.
pub const CLASSES: &[RetentionClass] = &[
    RetentionClass {
        name: "expired_sessions",
        covers: &[Cover::Rows("sessions")],
        why: "a session is the account's own data and serves sign-in; once expired or revoked it is kept a short \
              while so the owner can see recent sign-ins, then deleted",
        keep: Keep::Window(Window::ExpiredCredentials),
        action: Action::Purge(Purge::ExpiredSessions),
    },
    RetentionClass {
        name: "session_telemetry",
        covers: &[Cover::Columns("sessions", &["ip_address", "user_agent"])],
        why: "IP address and user agent serve security (new-device notices, the sessions list) for a limited \
              telemetry window, then are removed from the session",
        keep: Keep::Window(Window::Telemetry),
        action: Action::Purge(Purge::SessionTelemetry),
    },
    RetentionClass {
        name: "expired_challenges",
        covers: &[Cover::Rows("sign_in_challenges")],
        why: "a second-factor challenge lives minutes; expired ones serve nothing",
        keep: Keep::Window(Window::ExpiredCredentials),
        action: Action::Purge(Purge::ExpiredChallenges),
    },
    RetentionClass {
        name: "staff_approvals",
        covers: &[Cover::Rows("staff_approvals")],
        why: "a proposal waiting for a second staff member's approval is working state; the audit log records \
              who proposed and who approved",
        keep: Keep::Window(Window::ExpiredCredentials),
        action: Action::Purge(Purge::StaleApprovals),
    },
    RetentionClass {
        name: "stale_throttles",
        covers: &[Cover::Rows("auth_throttles")],
        why: "lockout counters protect against guessing while they count; an unlocked counter untouched for the \
              window counts nothing",
        keep: Keep::Window(Window::ExpiredCredentials),
        action: Action::Purge(Purge::StaleThrottles),
    },
    RetentionClass {
        name: "ended_invitations",
        covers: &[Cover::Rows("invitations")],
        why: "an invitation holds the invitee's email; once expired, accepted or revoked the audit log keeps the \
              fact and the row is deleted",
        keep: Keep::Window(Window::ExpiredCredentials),
        action: Action::Purge(Purge::EndedInvitations),
    },
    RetentionClass {
        name: "inbox_of_ended_leases",
        covers: &[
            Cover::Rows("inbox_dialogs"),
            Cover::Rows("inbox_messages"),
            Cover::Rows("inbox_dialog_tags"),
            Cover::Rows("inbox_sync"),
        ],
        why: "a rented account's conversations serve the workspace that rents it; 30 days after the lease \
              ended (and with no newer lease of that account in that workspace) they are deleted",
        keep: Keep::Window(Window::InboxAfterLease),
        action: Action::Purge(Purge::InboxOfEndedLeases),
    },
    RetentionClass {
        name: "automation_executions",
        covers: &[Cover::Rows("automation_executions"), Cover::Rows("automation_sends")],
        why: "executions explain what an automation did; finished ones are kept for the window (skipped ones \
              for automations.keep_skipped_days, 14, by the automations' upkeep), and automated sends' keys \
              as long",
        keep: Keep::Window(Window::Executions),
        action: Action::Purge(Purge::FinishedExecutions),
    },
    RetentionClass {
        name: "billing",
        covers: &[
            Cover::Rows("wallet_balances"),
            Cover::Rows("ledger_transactions"),
            Cover::Rows("ledger_postings"),
            Cover::Rows("top_ups"),
            Cover::Rows("payment_references"),
            Cover::Rows("payment_discrepancies"),
        ],
        why: "policy §7: billing records are retained for 7 years to satisfy tax and accounting obligations; \
              they outlive their workspace's erasure (with no person in them) and go 7 years after they were \
              written, once the workspace no longer exists: whole transactions with their postings, the \
              balance with the last of them",
        keep: Keep::Window(Window::Billing),
        action: Action::Purge(Purge::OldBilling),
    },
    RetentionClass {
        name: "audit_log",
        covers: &[Cover::Rows("audit_log"), Cover::Rows("audit_chain_heads")],
        why: "policy §7: audit logs are retained for the lifetime of the workspace (entries are hash-chained \
              and immutable; their IP address and user agent stay with them)",
        keep: Keep::WhileParentLives("the workspace (account and platform chains: the service)"),
        action: Action::ByJob(
            "erasure.workspace deletes a deleted workspace's chain; erasure.account replaces the actor of an erased \
             account's entries with a pseudonym",
        ),
    },
    RetentionClass {
        name: "account",
        covers: &[
            Cover::Rows("users"),
            Cover::Rows("backup_codes"),
            Cover::Rows("memberships"),
        ],
        why: "policy §7: account data is kept while the account is active and deleted within 30 days of closure",
        keep: Keep::WhileParentLives("the account; 30 days after closure"),
        action: Action::ByJob("erasure.account deletes the account's personal data 30 days after closure"),
    },
    RetentionClass {
        name: "workspace",
        covers: &[
            Cover::Rows("workspaces"),
            Cover::Rows("api_keys"),
            Cover::Rows("leases"),
            Cover::Rows("automations"),
            Cover::Rows("automation_triggers"),
            Cover::Rows("event_sequences"),
        ],
        why: "what a workspace configured and rents serves it while it exists",
        keep: Keep::WhileParentLives("the workspace"),
        action: Action::ByJob(
            "erasure.workspace deletes a closed or deleted workspace's data and destroys its data key",
        ),
    },
    RetentionClass {
        name: "account_pool",
        covers: &[
            Cover::Rows("telegram_accounts"),
            Cover::Rows("account_health"),
            Cover::Rows("account_counters"),
            Cover::Rows("account_counter_peers"),
            Cover::Rows("account_connections"),
        ],
        why: "the platform's rental accounts and their health; kept while the account is in the pool (retired \
              accounts stay as the record of what was rented)",
        keep: Keep::WhileParentLives("the pool's account"),
        action: Action::ByJob("staff retire accounts (tgos-console accounts retire)"),
    },
    RetentionClass {
        name: "data_keys",
        covers: &[Cover::Rows("data_keys")],
        why: "a workspace's data key opens its sealed payloads; destroying it (wrapped key NULL, tombstone kept \
              so versions are never reused) is the crypto-erasure, removed from backups by the sweep",
        keep: Keep::WhileParentLives("the key's owner (a workspace or the platform)"),
        action: Action::ByJob(
            "erasure.workspace destroys the key (Vault::destroy); the retention sweep and \
                               backup prune remove destroyed keys from every backup's keys file",
        ),
    },
    RetentionClass {
        name: "published_events",
        covers: &[Cover::Rows("outbox_events")],
        why: "published events serve afterSequence replays for a short window",
        keep: Keep::Setting {
            key: "events.replay_window_hours",
            default: "24 hours",
        },
        action: Action::ByJob("the outbox relay's prune (OutboxRelay::prune) deletes published events"),
    },
    RetentionClass {
        name: "finished_jobs",
        covers: &[Cover::Rows("jobs")],
        why: "finished jobs keep their dedupe keys and last error for diagnosis",
        keep: Keep::Setting {
            key: "jobs.keep_finished_hours",
            default: "168 hours",
        },
        action: Action::ByJob("the job loop's prune (JobWorker::prune) deletes finished jobs"),
    },
    RetentionClass {
        name: "leader_leases",
        covers: &[Cover::Rows("leader_leases")],
        why: "which process runs each leader-held piece of background work (a process id and random bits, no \
              personal data), so that work runs in one process at a time",
        keep: Keep::Setting {
            key: "workers.leader_lease_secs",
            default: "15 seconds, while the holder renews it",
        },
        action: Action::ByJob(
            "a process that stops gracefully deletes its rows (Leadership::release_all); a lapsed row is taken \
             over by the next holder",
        ),
    },
    RetentionClass {
        name: "rate_windows",
        covers: &[Cover::Rows("rate_windows")],
        why: "per-minute request and action counts shared by the replicas (keys are hashes of the caller or \
              account, never a token or an address in clear), so limits hold across processes",
        keep: Keep::Setting {
            key: "limits.store = \"database\"",
            default: "until the window ends (a minute)",
        },
        action: Action::ByJob(
            "each server process deletes ended windows at most once a minute (SqlRateCounter's prune); a caller's \
             next check past its window starts it afresh",
        ),
    },
    RetentionClass {
        name: "backups",
        covers: &[Cover::Files("backup.dir (default <data dir>/backups)")],
        why: "policy §7: backups are kept on a rolling 30-day window, then permanently purged",
        keep: Keep::Setting {
            key: "backup.keep_days",
            default: "30 days",
        },
        action: Action::ByJob("tgos-console backup prune deletes older backups"),
    },
    RetentionClass {
        name: "exports",
        covers: &[Cover::Files("the export directory (default <data dir>/exports)")],
        why: "a data export is for its requester to download; it expires after 7 days",
        keep: Keep::Setting {
            key: "exports (7 days)",
            default: "7 days",
        },
        action: Action::ByJob("export.expire deletes the file 7 days after it was made"),
    },
    RetentionClass {
        name: "data_subject_requests",
        covers: &[Cover::Rows("data_subject_requests")],
        why: "policy §8: a person's requests about their data are kept with the account, to show what was asked \
              and answered when; an erasure deletes them with the account and keeps on the platform chain that \
              and when the erasure was asked for, without the person",
        keep: Keep::WhileParentLives("the account; 30 days after closure"),
        action: Action::ByJob("erasure.account deletes them with the account's other personal data"),
    },
    RetentionClass {
        name: "lawful_requests",
        covers: &[
            Cover::Rows("lawful_requests"),
            Cover::Rows("lawful_request_events"),
            Cover::Files("the export directory's lawful/ (disclosure packages)"),
        ],
        why: "policy §6: what was disclosed to an authority, on which legal basis, approved by whom, and the \
              package's SHA-256 are the record of a legal obligation met; the register outlives the accounts \
              and workspaces it names (ids only) and is read by staff only",
        keep: Keep::Obligation("the legal obligation the request answered (kept; staff only)"),
        action: Action::Kept(
            "nothing deletes the register: it only grows (an UPDATE or DELETE is refused by a trigger); \
             delivered packages stay until staff remove them by hand",
        ),
    },
];

/// The class of a name.
pub fn class(name: &str) -> Option<&'static RetentionClass> {
    CLASSES.iter().find(|class| class.name == name)
}
