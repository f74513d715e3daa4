//! GraphQL views of data-subject requests. The download link is shown to its owner only while the archive
//! can be downloaded; the token's hash and the file's place stay behind.

use async_graphql::{Context, Enum, ID, Object};
use chrono::{DateTime, Utc};
use tgos_domain::privacy::PrivacyService;
use tgos_domain::privacy::records::{DataSubjectRequest as Record, RequestKind, RequestStatus};

use crate::graphql::errors::ApiResult;
use crate::graphql::service;

/// The right a request exercises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(name = "DataSubjectRequestKind")]
pub enum Kind {
    Access,
    Export,
    Deletion,
    Rectification,
    Restriction,
    Objection,
}

/// The kinds `submitDataSubjectRequest` takes: those staff handle by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum SubmittableRequestKind {
    Rectification,
    Restriction,
    Objection,
    Access,
}

impl From<SubmittableRequestKind> for RequestKind {
    fn from(kind: SubmittableRequestKind) -> Self {
        match kind {
            SubmittableRequestKind::Rectification => Self::Rectification,
            SubmittableRequestKind::Restriction => Self::Restriction,
            SubmittableRequestKind::Objection => Self::Objection,
            SubmittableRequestKind::Access => Self::Access,
        }
    }
}

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(name = "DataSubjectRequestStatus")]
pub enum Status {
    Received,
    Verifying,
    InProgress,
    Completed,
    Rejected,
}

fn kind(kind: RequestKind) -> Kind {
    match kind {
        RequestKind::Access => Kind::Access,
        RequestKind::Export => Kind::Export,
        RequestKind::Deletion => Kind::Deletion,
        RequestKind::Rectification => Kind::Rectification,
        RequestKind::Restriction => Kind::Restriction,
        RequestKind::Objection => Kind::Objection,
    }
}

fn status(status: RequestStatus) -> Status {
    match status {
        RequestStatus::Received => Status::Received,
        RequestStatus::Verifying => Status::Verifying,
        RequestStatus::InProgress => Status::InProgress,
        RequestStatus::Completed => Status::Completed,
        RequestStatus::Rejected => Status::Rejected,
    }
}

/// One exercise of a right of the policy (§8): answered within 30 days (`dueAt`), extended once at most.
#[derive(Debug)]
pub struct DataSubjectRequest(pub Record);

#[Object]
impl DataSubjectRequest {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn kind(&self) -> Kind {
        kind(self.0.kind)
    }

    async fn status(&self) -> Status {
        status(self.0.status)
    }

    async fn received_at(&self) -> DateTime<Utc> {
        self.0.received_at
    }

    async fn due_at(&self) -> DateTime<Utc> {
        self.0.due_at
    }

    async fn extended_until(&self) -> Option<DateTime<Utc>> {
        self.0.extended_until
    }

    async fn extension_reason(&self) -> Option<&str> {
        self.0.extension_reason.as_deref()
    }

    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.0.completed_at
    }

    async fn resolution(&self) -> Option<&str> {
        self.0.resolution.as_deref()
    }

    /// `/exports/<token>` while the archive of an export can be downloaded (7 days), with the requester's
    /// bearer token; `null` before it is ready and after it expired.
    async fn download_url(&self, ctx: &Context<'_>) -> ApiResult<Option<String>> {
        Ok(service::<PrivacyService>(ctx)?.download_path(&self.0))
    }
}
