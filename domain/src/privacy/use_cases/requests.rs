//! Submitting and listing a person's own requests.

use crate::audit::Actor;
use crate::error::{DomainError, DomainResult};
use crate::identity::Principal;
use crate::privacy::PrivacyService;
use crate::privacy::records::{DataSubjectRequest, RequestKind, RequestStatus};
use crate::privacy::rules;
use crate::request::ClientInfo;

impl PrivacyService {
    /// A request for staff to handle (`RECTIFICATION`, `RESTRICTION`, `OBJECTION`, `ACCESS`), RECEIVED and
    /// due in 30 days. `BAD_USER_INPUT` on `details` or `kind`; `RATE_LIMITED` with
    /// [`rules::MAX_OPEN_REQUESTS`] already open.
    #[tracing::instrument(skip_all)]
    pub async fn submit_request(
        &self,
        principal: &Principal,
        client: &ClientInfo,
        kind: RequestKind,
        details: &str,
    ) -> DomainResult<DataSubjectRequest> {
        let user = principal.require_user()?;
        if !rules::is_submittable(kind) {
            return Err(DomainError::invalid("kind", "this kind has a mutation of its own"));
        }
        let details = rules::parse_details(details)?;
        let tx = self.store.begin().await?;
        // The person's lock before the count: a simultaneous submission waits here until this one commits,
        // then counts it.
        tx.lock_requests_of(user).await?;
        let open = tx
            .list_requests(user)
            .await?
            .iter()
            .filter(|request| !request.status.is_final())
            .count();
        if open >= rules::MAX_OPEN_REQUESTS {
            return Err(DomainError::RateLimited {
                retry_after_secs: 24 * 60 * 60,
            });
        }
        let now = self.clock.now();
        let request = DataSubjectRequest::received_now(user, kind, RequestStatus::Received, Some(details), now);
        tx.insert_request(&request).await?;
        super::transitions::audit_request(
            &*tx,
            &request,
            Actor::of(principal),
            "privacy.request_received",
            client,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(request)
    }

    /// The person's requests, newest first.
    #[tracing::instrument(skip_all)]
    pub async fn my_requests(&self, principal: &Principal) -> DomainResult<Vec<DataSubjectRequest>> {
        Ok(self.store.list_requests(principal.require_user()?).await?)
    }
}
