//! What the register holds: a lawful request as registered, and the steps appended to it afterwards.
//!
//! Rule: nothing here is ever changed once stored. A [`LawfulRequest`] is the registration row with the steps
//! appended since ([`LawfulStep`], at most one of each kind), folded together when read: its approval, its
//! package and its delivery are each `None` until their step is appended, and never change after.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};

use super::scope::{Category, DisclosureScope};
use crate::ids::{LawfulRequestId, LawfulStepId, UserId, WorkspaceId};

/// A lawful request as registered, with the steps taken since.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LawfulRequest {
    pub id: LawfulRequestId,
    /// Who asks (a court, a police force, a regulator), as they name themselves.
    pub authority: String,
    /// The authority's own reference; unique per authority.
    pub reference: String,
    /// The law or order that compels the disclosure.
    pub legal_basis: String,
    pub received_on: NaiveDate,
    pub due_on: NaiveDate,
    pub scope: DisclosureScope,
    pub notes: Option<String>,
    /// The staff member who registered it.
    pub registered_by: UserId,
    pub registered_at: DateTime<Utc>,
    pub approval: Option<Approval>,
    pub package: Option<PackageRecord>,
    pub delivery: Option<Delivery>,
}

/// A second staff member's approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    pub by: UserId,
    pub at: DateTime<Utc>,
}

/// The disclosure package as built: its file, its size and its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageRecord {
    pub file: PackageName,
    pub bytes: u64,
    /// Lower-case hex of the file's SHA-256.
    pub sha256: String,
    pub built_by: UserId,
    pub built_at: DateTime<Utc>,
}

/// The package handed over to the authority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub by: UserId,
    pub at: DateTime<Utc>,
    /// How it was handed over (registered post, the authority's portal, …).
    pub note: Option<String>,
}

/// Where a request stands, from its steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    Registered,
    Approved,
    Packaged,
    Delivered,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Registered => "REGISTERED",
            Stage::Approved => "APPROVED",
            Stage::Packaged => "PACKAGED",
            Stage::Delivered => "DELIVERED",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl LawfulRequest {
    /// The furthest step taken.
    pub fn stage(&self) -> Stage {
        if self.delivery.is_some() {
            Stage::Delivered
        } else if self.package.is_some() {
            Stage::Packaged
        } else if self.approval.is_some() {
            Stage::Approved
        } else {
            Stage::Registered
        }
    }

    /// The request with `step` folded in (a step of another request, or a second step of a kind already
    /// folded, is ignored: storage keeps one of each).
    pub fn with_step(mut self, step: LawfulStep) -> Self {
        if step.request != self.id {
            return self;
        }
        match step.kind {
            StepKind::Approved if self.approval.is_none() => {
                self.approval = Some(Approval {
                    by: step.staff,
                    at: step.at,
                });
            }
            StepKind::Packaged { file, bytes, sha256 } if self.package.is_none() => {
                self.package = Some(PackageRecord {
                    file,
                    bytes,
                    sha256,
                    built_by: step.staff,
                    built_at: step.at,
                });
            }
            StepKind::Delivered { note } if self.delivery.is_none() => {
                self.delivery = Some(Delivery {
                    by: step.staff,
                    at: step.at,
                    note,
                });
            }
            _ => {}
        }
        self
    }
}

/// One step appended to the register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LawfulStep {
    pub id: LawfulStepId,
    pub request: LawfulRequestId,
    /// The staff member who took it.
    pub staff: UserId,
    pub at: DateTime<Utc>,
    pub kind: StepKind,
}

/// What a step records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepKind {
    Approved,
    Packaged {
        file: PackageName,
        bytes: u64,
        sha256: String,
    },
    Delivered {
        note: Option<String>,
    },
}

impl StepKind {
    /// The stored name of the step.
    pub fn as_str(&self) -> &'static str {
        match self {
            StepKind::Approved => "APPROVED",
            StepKind::Packaged { .. } => "PACKAGED",
            StepKind::Delivered { .. } => "DELIVERED",
        }
    }
}

/// The file name of a package: `<request id>-<step id>.zip`, made only from ids, so it names no other path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PackageName(String);

impl PackageName {
    /// The name of the package `step` builds for `request`.
    pub fn new(request: LawfulRequestId, step: LawfulStepId) -> Self {
        Self(format!("{request}-{step}.zip"))
    }

    /// A stored name, when it has the shape [`Self::new`] gives.
    pub fn parse(text: &str) -> Option<Self> {
        let stem = text.strip_suffix(".zip")?;
        let (request, step) = stem.split_at_checked(36)?;
        let step = step.strip_prefix('-')?;
        (request.parse::<LawfulRequestId>().is_ok() && step.parse::<LawfulStepId>().is_ok())
            .then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PackageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A registration as staff enter it; [`super::LawfulRequests::register`] checks every field.
#[derive(Debug, Clone)]
pub struct NewLawfulRequest {
    pub authority: String,
    pub reference: String,
    pub legal_basis: String,
    pub received_on: NaiveDate,
    pub due_on: NaiveDate,
    pub users: Vec<UserId>,
    pub workspaces: Vec<WorkspaceId>,
    pub categories: Vec<Category>,
    /// The period's first instant (inclusive).
    pub period_from: DateTime<Utc>,
    /// The period's end (exclusive).
    pub period_to: DateTime<Utc>,
    pub notes: Option<String>,
}
