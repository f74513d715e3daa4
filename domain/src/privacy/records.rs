//! What a data-subject request is: its kind, where it stands, how it came in, and the record as stored.

use chrono::{DateTime, Utc};

use crate::ids::{DataSubjectRequestId, UserId};

/// Which right the person exercises (policy §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestKind {
    /// A question about the data held (answered by staff); the archive itself is [`RequestKind::Export`].
    Access,
    /// The machine-readable archive (access and portability), built by a job.
    Export,
    Deletion,
    Rectification,
    Restriction,
    Objection,
}

/// Where a request stands. Moves only as [`super::rules::can_move`] allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestStatus {
    Received,
    /// Staff check the requester is the data subject (emailed requests).
    Verifying,
    InProgress,
    Completed,
    Rejected,
}

/// How the request reached the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestChannel {
    /// Through the API, by the signed-in data subject.
    Api,
    /// By email, registered by staff.
    Email,
}

macro_rules! text_codes {
    ($type:ident { $($variant:ident => $text:literal),* $(,)? }) => {
        impl $type {
            pub const ALL: &'static [$type] = &[$($type::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $($type::$variant => $text),* }
            }

            pub fn parse(text: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|value| value.as_str() == text)
            }
        }
    };
}

text_codes!(RequestKind {
    Access => "ACCESS",
    Export => "EXPORT",
    Deletion => "DELETION",
    Rectification => "RECTIFICATION",
    Restriction => "RESTRICTION",
    Objection => "OBJECTION",
});

text_codes!(RequestStatus {
    Received => "RECEIVED",
    Verifying => "VERIFYING",
    InProgress => "IN_PROGRESS",
    Completed => "COMPLETED",
    Rejected => "REJECTED",
});

text_codes!(RequestChannel {
    Api => "API",
    Email => "EMAIL",
});

impl RequestStatus {
    /// Completed or rejected: nothing moves it again.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Completed | Self::Rejected)
    }
}

/// An objection's outcome (policy §8: the person may object; staff decide and say why).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectionDecision {
    /// The processing objected to stops.
    Upheld,
    /// It continues, for the reason recorded in the resolution.
    Dismissed,
}

text_codes!(ObjectionDecision {
    Upheld => "UPHELD",
    Dismissed => "DISMISSED",
});

/// What staff did with a request beyond its status: how the requester's identity was verified, the
/// two-person erasure, and an objection's decision.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StaffHandling {
    /// How the requester was verified to be the data subject (e.g. "replied from the account's address").
    pub verification_method: Option<String>,
    pub verified_at: Option<DateTime<Utc>>,
    pub verified_by: Option<UserId>,
    /// The staff member who asked for the erasure, and when.
    pub erasure_proposed: Option<(UserId, DateTime<Utc>)>,
    /// The second staff member who approved it (never the proposer), and when.
    pub erasure_approved: Option<(UserId, DateTime<Utc>)>,
    pub decision: Option<ObjectionDecision>,
}

/// The archive of an `EXPORT` request, once built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportArchive {
    /// SHA-256 of the download token (the token itself is only in the link).
    pub token_hash: Vec<u8>,
    pub ready_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// When the file was deleted (at expiry); the request keeps its history.
    pub expired_at: Option<DateTime<Utc>>,
    /// Its size in bytes.
    pub bytes: u64,
}

/// A data-subject request as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataSubjectRequest {
    pub id: DataSubjectRequestId,
    pub user_id: UserId,
    pub kind: RequestKind,
    pub status: RequestStatus,
    pub channel: RequestChannel,
    /// The person's own words, for the kinds staff handle.
    pub details: Option<String>,
    pub received_at: DateTime<Utc>,
    /// Received + 30 days (policy §8).
    pub due_at: DateTime<Utc>,
    pub extended_until: Option<DateTime<Utc>>,
    pub extension_reason: Option<String>,
    pub completed_at: Option<DateTime<Utc>>,
    pub resolution: Option<String>,
    pub archive: Option<ExportArchive>,
    pub handling: StaffHandling,
    pub updated_at: DateTime<Utc>,
}

impl DataSubjectRequest {
    /// A request received through the API at `now` in `status`, due 30 days later (`rules::due_at`).
    pub fn received_now(
        user_id: UserId,
        kind: RequestKind,
        status: RequestStatus,
        details: Option<String>,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id: DataSubjectRequestId::generate(),
            user_id,
            kind,
            status,
            channel: RequestChannel::Api,
            details,
            received_at: now,
            due_at: super::rules::due_at(now),
            extended_until: None,
            extension_reason: None,
            completed_at: None,
            resolution: None,
            archive: None,
            handling: StaffHandling::default(),
            updated_at: now,
        }
    }

    /// When it must be answered: the extended date once extended, else the due date.
    pub fn answer_by(&self) -> DateTime<Utc> {
        self.extended_until.unwrap_or(self.due_at)
    }

    /// Not answered and past [`Self::answer_by`].
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        !self.status.is_final() && self.answer_by() < now
    }

    /// The download path of its archive while it can be downloaded (`None` before it is ready and once it
    /// expired). The token is not stored, so the link is given once, in the mail; this is the path's shape.
    pub fn is_downloadable(&self, now: DateTime<Utc>) -> bool {
        self.archive
            .as_ref()
            .is_some_and(|archive| archive.expired_at.is_none() && archive.expires_at > now)
    }
}
