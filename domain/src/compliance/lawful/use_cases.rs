//! The register's use cases: register, list, read, approve, build the package, mark it delivered.
//!
//! Rules: staff only (`Principal::require_staff`: a staff account with two-factor on); every step is checked
//! by [`super::rules`] against the request as stored in the transaction that appends it, and audited on the
//! platform chain (`ChainId::Platform`, actor kind `STAFF`, with the staff member's IP address and user agent)
//! in that same transaction. Reading the register changes nothing and is not audited.

use serde_json::{Value, json};

use super::LawfulRequests;
use super::package;
use super::ports::{EACH_STEP_ONCE, ONE_REGISTRATION_PER_REFERENCE};
use super::records::{LawfulRequest, LawfulStep, NewLawfulRequest, PackageName, StepKind};
use super::rules;
use crate::audit::{self, Actor, AuditDraft, ChainId};
use crate::error::{DomainError, DomainResult};
use crate::identity::Principal;
use crate::ids::{LawfulRequestId, LawfulStepId, UserId};
use crate::paging::{Page, PageRequest};
use crate::request::ClientInfo;
use crate::store::StoreError;

const NOT_FOUND: &str = "lawful request";

impl LawfulRequests {
    /// Registers a lawful request received by the service (`lawful.registered`).
    #[tracing::instrument(skip_all)]
    pub async fn register(
        &self,
        principal: &Principal,
        client: &ClientInfo,
        input: NewLawfulRequest,
    ) -> DomainResult<LawfulRequest> {
        let staff = principal.require_staff()?;
        let now = self.clock.now();
        let request = rules::registration(LawfulRequestId::generate(), input, staff, now)?;
        let tx = self.store.begin().await?;
        match tx.insert_lawful_request(&request).await {
            Err(StoreError::UniqueViolation(ONE_REGISTRATION_PER_REFERENCE)) => {
                return Err(DomainError::conflict(
                    "reference",
                    format!("{} {} is registered already", request.authority, request.reference),
                ));
            }
            other => other?,
        }
        let scope = &request.scope;
        let metadata = json!({
            "request": request.id,
            "authority": request.authority,
            "reference": request.reference,
            "categories": scope.categories().iter().map(|c| c.as_str()).collect::<Vec<_>>(),
            "users": scope.users().len(),
            "workspaces": scope.workspaces().len(),
            "due_on": request.due_on.to_string(),
        });
        audit::append(
            &*tx,
            draft(principal, staff, client, &request, "lawful.registered", metadata),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(request)
    }

    /// The register, newest first.
    pub async fn list(
        &self,
        principal: &Principal,
        page: PageRequest<LawfulRequestId>,
    ) -> DomainResult<Page<LawfulRequest>> {
        principal.require_staff()?;
        page.read(|after, rows| self.store.lawful_requests(after, rows)).await
    }

    /// One request with its steps.
    pub async fn get(&self, principal: &Principal, id: LawfulRequestId) -> DomainResult<LawfulRequest> {
        principal.require_staff()?;
        self.store
            .lawful_request(id)
            .await?
            .ok_or(DomainError::NotFound(NOT_FOUND))
    }

    /// A second staff member approves the request (`lawful.approved`); its registrar cannot.
    #[tracing::instrument(skip_all, fields(request = %id))]
    pub async fn approve(
        &self,
        principal: &Principal,
        client: &ClientInfo,
        id: LawfulRequestId,
    ) -> DomainResult<LawfulRequest> {
        principal.require_staff()?;
        self.append(principal, client, id, StepKind::Approved, |request| {
            rules::check_approval(request, principal).map(|_| ())
        })
        .await
    }

    /// Builds the disclosure package of an approved request (`lawful.packaged`): the file is written and
    /// hashed first, then its step is appended; a build that cannot be recorded deletes its file.
    #[tracing::instrument(skip_all, fields(request = %id))]
    pub async fn build_package(
        &self,
        principal: &Principal,
        client: &ClientInfo,
        id: LawfulRequestId,
    ) -> DomainResult<LawfulRequest> {
        principal.require_staff()?;
        let request = self
            .store
            .lawful_request(id)
            .await?
            .ok_or(DomainError::NotFound(NOT_FOUND))?;
        rules::check_package(&request)?;
        let name = PackageName::new(request.id, LawfulStepId::generate());
        let mut writer = self.files.create(&name).map_err(DomainError::internal)?;
        // A writer dropped before it finishes removes its partial file.
        package::write(&*self.store, writer.as_mut(), &request, self.clock.now()).await?;
        let bytes = writer.finish().await.map_err(DomainError::internal)?;
        let recorded = async {
            let sha256 = hex::encode(self.files.sha256(&name).await.map_err(DomainError::internal)?);
            let kind = StepKind::Packaged {
                file: name.clone(),
                bytes,
                sha256,
            };
            self.append(principal, client, id, kind, rules::check_package).await
        }
        .await;
        if recorded.is_err()
            && let Err(error) = self.files.delete(&name)
        {
            tracing::warn!(%error, file = %name, "a package that was not recorded could not be deleted");
        }
        recorded
    }

    /// Records that the package was handed to the authority (`lawful.delivered`), with how.
    #[tracing::instrument(skip_all, fields(request = %id))]
    pub async fn mark_delivered(
        &self,
        principal: &Principal,
        client: &ClientInfo,
        id: LawfulRequestId,
        note: Option<&str>,
    ) -> DomainResult<LawfulRequest> {
        principal.require_staff()?;
        let note = rules::delivery_note(note).map_err(|error| DomainError::Invalid(vec![error]))?;
        self.append(
            principal,
            client,
            id,
            StepKind::Delivered { note },
            rules::check_delivery,
        )
        .await
    }

    /// Where the request's package is, once built.
    pub fn package_path(&self, request: &LawfulRequest) -> Option<std::path::PathBuf> {
        request.package.as_ref().map(|package| self.files.locate(&package.file))
    }

    /// Appends the step `kind` of `principal` to request `id` if `check` passes on the request as stored in
    /// the transaction, and audits it there.
    async fn append(
        &self,
        principal: &Principal,
        client: &ClientInfo,
        id: LawfulRequestId,
        kind: StepKind,
        check: impl FnOnce(&LawfulRequest) -> DomainResult<()>,
    ) -> DomainResult<LawfulRequest> {
        let staff = principal.require_staff()?;
        let now = self.clock.now();
        let tx = self.store.begin().await?;
        let request = tx.lawful_request(id).await?.ok_or(DomainError::NotFound(NOT_FOUND))?;
        check(&request)?;
        let step = LawfulStep {
            id: LawfulStepId::generate(),
            request: id,
            staff,
            at: now,
            kind,
        };
        match tx.append_lawful_step(&step).await {
            Err(StoreError::UniqueViolation(EACH_STEP_ONCE)) => {
                return Err(DomainError::conflict(
                    "request",
                    format!("request {id} has this step already ({})", step.kind.as_str()),
                ));
            }
            other => other?,
        }
        let (action, metadata) = described(&request, &step);
        let request = request.with_step(step);
        audit::append(&*tx, draft(principal, staff, client, &request, action, metadata), now).await?;
        tx.commit().await?;
        Ok(request)
    }
}

/// The audit action and details of `step` of `request`.
fn described(request: &LawfulRequest, step: &LawfulStep) -> (&'static str, Value) {
    let base = |extra: Value| {
        let mut metadata = json!({ "request": request.id, "reference": request.reference });
        if let (Some(map), Value::Object(extra)) = (metadata.as_object_mut(), extra) {
            map.extend(extra);
        }
        metadata
    };
    match &step.kind {
        StepKind::Approved => (
            "lawful.approved",
            base(json!({ "registered_by": request.registered_by })),
        ),
        StepKind::Packaged { file, bytes, sha256 } => (
            "lawful.packaged",
            base(json!({ "file": file.as_str(), "bytes": bytes, "sha256": sha256 })),
        ),
        StepKind::Delivered { .. } => (
            "lawful.delivered",
            base(json!({
                "sha256": request.package.as_ref().map(|package| package.sha256.clone()),
            })),
        ),
    }
}

fn draft(
    principal: &Principal,
    staff: UserId,
    client: &ClientInfo,
    request: &LawfulRequest,
    action: &'static str,
    metadata: Value,
) -> AuditDraft {
    AuditDraft {
        chain: ChainId::Platform,
        actor: Actor::staff(staff, principal.display_name()),
        action,
        target_type: Some("lawful_request"),
        target_id: Some(request.id.to_string()),
        client: client.clone(),
        metadata,
    }
}
