//! What a lawful request may disclose: whose data (users and workspaces by id), which categories, and which
//! period. A [`DisclosureScope`] that exists is a valid one.
//!
//! Rules:
//! - The scope names at least one user or workspace, at most [`MAX_SUBJECTS`] of each, each once.
//! - It names at least one [`Category`], from the fixed set; each category named must apply to something named:
//!   a person's own records (`SESSIONS`) need a user, a workspace's records (`BILLING`, `LEASES`, `MESSAGES`)
//!   need a workspace. A workspace's data is disclosed only for workspaces named in the scope, never because a
//!   named user belongs to it.
//! - The period is half-open, `from` inclusive and `to` exclusive, and `from < to`.
//! - Which files a category puts in the package, per kind of subject, is this module's table
//!   ([`Category::user_files`], [`Category::workspace_files`]); each file belongs to exactly one category.

use chrono::{DateTime, Utc};

use crate::error::FieldError;
use crate::ids::{UserId, WorkspaceId};

/// The most users, and the most workspaces, one request may name.
pub const MAX_SUBJECTS: usize = 100;

/// A category of data a request may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// A user's account (no password hash or second-factor secret); a workspace's name and dates.
    Profile,
    /// A user's sign-ins: sessions with IP address and user agent.
    Sessions,
    /// A user's memberships; a workspace's members.
    Memberships,
    /// A user's account chain and the platform entries where they act; a workspace's chain.
    Audit,
    /// A workspace's ledger transactions, postings and top-ups.
    Billing,
    /// A workspace's rentals of Telegram accounts.
    Leases,
    /// A workspace's inbox messages, and the dialogs they belong to.
    Messages,
}

impl Category {
    pub const ALL: &'static [Category] = &[
        Category::Profile,
        Category::Sessions,
        Category::Memberships,
        Category::Audit,
        Category::Billing,
        Category::Leases,
        Category::Messages,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Profile => "PROFILE",
            Category::Sessions => "SESSIONS",
            Category::Memberships => "MEMBERSHIPS",
            Category::Audit => "AUDIT",
            Category::Billing => "BILLING",
            Category::Leases => "LEASES",
            Category::Messages => "MESSAGES",
        }
    }

    /// The category of its name, ignoring ASCII case.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|category| category.as_str().eq_ignore_ascii_case(text.trim()))
    }

    /// The files this category adds for each user in scope (none: it is not a person's own record).
    pub fn user_files(self) -> &'static [UserFile] {
        match self {
            Category::Profile => &[UserFile::Profile],
            Category::Sessions => &[UserFile::Sessions],
            Category::Memberships => &[UserFile::Memberships],
            Category::Audit => &[UserFile::Audit],
            Category::Billing | Category::Leases | Category::Messages => &[],
        }
    }

    /// The files this category adds for each workspace in scope (none: it is not a workspace's record).
    pub fn workspace_files(self) -> &'static [WorkspaceFile] {
        match self {
            Category::Profile => &[WorkspaceFile::Workspace],
            Category::Sessions => &[],
            Category::Memberships => &[WorkspaceFile::Members],
            Category::Audit => &[WorkspaceFile::Audit],
            Category::Billing => &[
                WorkspaceFile::LedgerTransactions,
                WorkspaceFile::LedgerPostings,
                WorkspaceFile::TopUps,
            ],
            Category::Leases => &[WorkspaceFile::Leases],
            Category::Messages => &[WorkspaceFile::Dialogs, WorkspaceFile::Messages],
        }
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One file of a user's part of a package. The rows each holds are in [`super::ports::DisclosureSource`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UserFile {
    Profile,
    Sessions,
    Memberships,
    Audit,
}

impl UserFile {
    pub fn name(self) -> &'static str {
        match self {
            UserFile::Profile => "profile.json",
            UserFile::Sessions => "sessions.json",
            UserFile::Memberships => "memberships.json",
            UserFile::Audit => "audit.json",
        }
    }
}

/// One file of a workspace's part of a package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WorkspaceFile {
    Workspace,
    Members,
    Audit,
    LedgerTransactions,
    LedgerPostings,
    TopUps,
    Leases,
    Dialogs,
    Messages,
}

impl WorkspaceFile {
    pub fn name(self) -> &'static str {
        match self {
            WorkspaceFile::Workspace => "workspace.json",
            WorkspaceFile::Members => "members.json",
            WorkspaceFile::Audit => "audit.json",
            WorkspaceFile::LedgerTransactions => "ledger_transactions.json",
            WorkspaceFile::LedgerPostings => "ledger_postings.json",
            WorkspaceFile::TopUps => "top_ups.json",
            WorkspaceFile::Leases => "leases.json",
            WorkspaceFile::Dialogs => "dialogs.json",
            WorkspaceFile::Messages => "messages.json",
        }
    }
}

/// A half-open period `[from, to)`, `from < to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

impl Period {
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Self, FieldError> {
        if from < to {
            Ok(Self { from, to })
        } else {
            Err(FieldError::new("period", "the period must start before it ends"))
        }
    }

    /// The first instant inside.
    pub fn from(&self) -> DateTime<Utc> {
        self.from
    }

    /// The first instant after.
    pub fn to(&self) -> DateTime<Utc> {
        self.to
    }

    /// Whether `at` falls inside.
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.from <= at && at < self.to
    }
}

/// Whose data, which categories, which period: checked once, when built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisclosureScope {
    users: Vec<UserId>,
    workspaces: Vec<WorkspaceId>,
    categories: Vec<Category>,
    period: Period,
}

impl DisclosureScope {
    /// The scope, or every rule it breaks (fields `users`, `workspaces`, `categories`, `period`). Repeated ids
    /// and categories count once; categories are kept in [`Category::ALL`]'s order.
    pub fn new(
        users: Vec<UserId>,
        workspaces: Vec<WorkspaceId>,
        categories: Vec<Category>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Self, Vec<FieldError>> {
        let users = once_each(users);
        let workspaces = once_each(workspaces);
        let mut categories = categories;
        categories.sort_unstable();
        categories.dedup();
        let mut errors = Vec::new();
        if users.is_empty() && workspaces.is_empty() {
            errors.push(FieldError::new("users", "name at least one user or workspace"));
        }
        for (field, count) in [("users", users.len()), ("workspaces", workspaces.len())] {
            if count > MAX_SUBJECTS {
                errors.push(FieldError::new(field, format!("at most {MAX_SUBJECTS} per request")));
            }
        }
        if categories.is_empty() {
            errors.push(FieldError::new("categories", "name at least one category"));
        }
        for category in &categories {
            if let Some(problem) = unanchored(*category, !users.is_empty(), !workspaces.is_empty()) {
                errors.push(FieldError::new("categories", problem));
            }
        }
        match Period::new(from, to) {
            Ok(period) if errors.is_empty() => Ok(Self {
                users,
                workspaces,
                categories,
                period,
            }),
            Ok(_) => Err(errors),
            Err(error) => {
                errors.push(error);
                Err(errors)
            }
        }
    }

    pub fn users(&self) -> &[UserId] {
        &self.users
    }

    pub fn workspaces(&self) -> &[WorkspaceId] {
        &self.workspaces
    }

    pub fn categories(&self) -> &[Category] {
        &self.categories
    }

    pub fn period(&self) -> Period {
        self.period
    }

    /// Whether the scope asks for `category`.
    pub fn includes(&self, category: Category) -> bool {
        self.categories.contains(&category)
    }
}

/// Why `category` names nothing in a scope with (or without) users and workspaces.
fn unanchored(category: Category, has_users: bool, has_workspaces: bool) -> Option<String> {
    let for_users = !category.user_files().is_empty();
    let for_workspaces = !category.workspace_files().is_empty();
    if (for_users && has_users) || (for_workspaces && has_workspaces) {
        return None;
    }
    Some(if for_workspaces && !for_users {
        format!("{category} is a workspace's record: name the workspace")
    } else if for_users && !for_workspaces {
        format!("{category} is a person's record: name the user")
    } else {
        format!("{category} names nothing in this scope")
    })
}

/// `ids` without repeats, in their first order.
fn once_each<T: PartialEq + Copy>(ids: Vec<T>) -> Vec<T> {
    let mut kept: Vec<T> = Vec::with_capacity(ids.len());
    for id in ids {
        if !kept.contains(&id) {
            kept.push(id);
        }
    }
    kept
}
