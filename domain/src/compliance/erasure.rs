//! The two-person erasure of a verified `DELETION` request: one staff member proposes it, a second one
//! approves it, and only then does the account close and its erasure run.

use serde_json::json;

use super::ComplianceService;
use super::actions::{StaffContext, write_change};
use crate::error::{DomainError, DomainResult};
use crate::ids::DataSubjectRequestId;
use crate::privacy::records::{DataSubjectRequest, RequestKind, RequestStatus};

fn erasable(request: &DataSubjectRequest) -> DomainResult<()> {
    if request.kind != RequestKind::Deletion {
        return Err(DomainError::conflict(
            "kind",
            "only a DELETION request erases an account",
        ));
    }
    if request.status != RequestStatus::InProgress {
        return Err(DomainError::conflict(
            "status",
            format!(
                "an erasure is proposed for a verified request IN_PROGRESS; this one is {}",
                request.status.as_str()
            ),
        ));
    }
    if request.handling.erasure_approved.is_some() {
        return Err(DomainError::conflict("request", "the erasure was approved already"));
    }
    Ok(())
}

impl ComplianceService {
    /// Proposes the erasure of the subject's account; it waits for a second staff member's approval.
    #[tracing::instrument(skip_all)]
    pub async fn propose_erasure(
        &self,
        staff: StaffContext<'_>,
        id: DataSubjectRequestId,
    ) -> DomainResult<DataSubjectRequest> {
        let (mut request, read_at) = self.for_change(staff, id).await?;
        erasable(&request)?;
        if request.handling.erasure_proposed.is_some() {
            return Err(DomainError::conflict("request", "the erasure is proposed already"));
        }
        request.updated_at = self.now();
        request.handling.erasure_proposed = Some((staff.staff()?, request.updated_at));
        request.resolution = Some("erasure proposed; waiting for a second staff member's approval".to_owned());
        self.commit(staff, &request, read_at, "console.erasure_proposed", json!({}))
            .await?;
        Ok(request)
    }

    /// Approves a proposed erasure as a second staff member (`FORBIDDEN` for the proposer): the account
    /// closes now, every session signed out, and the erasure job runs at once; it completes the request.
    #[tracing::instrument(skip_all)]
    pub async fn approve_erasure(
        &self,
        staff: StaffContext<'_>,
        id: DataSubjectRequestId,
    ) -> DomainResult<DataSubjectRequest> {
        let (mut request, read_at) = self.for_change(staff, id).await?;
        erasable(&request)?;
        let approver = staff.staff()?;
        let Some((proposer, _)) = request.handling.erasure_proposed else {
            return Err(DomainError::conflict("request", "propose the erasure first"));
        };
        if proposer == approver {
            return Err(DomainError::Forbidden(
                "a second staff member approves an erasure, not the one who proposed it".to_owned(),
            ));
        }
        request.updated_at = self.now();
        request.handling.erasure_approved = Some((approver, request.updated_at));
        request.resolution = Some("erasure approved; the account is closed and its data is being erased".to_owned());
        let metadata = json!({ "proposedBy": proposer.to_string() });
        let tx = self.store.begin().await?;
        write_change(&*tx, staff, &request, read_at, "console.erasure_approved", metadata).await?;
        let (closures, _signals) = self
            .erasure
            .close_account_for_request(&*tx, &request, staff.actor()?, staff.client)
            .await?;
        tx.commit().await?;
        for closure in closures {
            self.erasure.closed(closure).await;
        }
        self.jobs.enqueued();
        Ok(request)
    }
}
