//! The export: requested, built by a job, downloaded by its owner, expired by a job.

use std::path::PathBuf;

use chrono::{Duration, SubsecRound as _};
use serde_json::json;

use crate::audit::Actor;
use crate::error::{DomainError, DomainResult};
use crate::identity::Principal;
use crate::ids::DataSubjectRequestId;
use crate::jobs::{self, NewJob};
use crate::notices::Notice;
use crate::privacy::archive;
use crate::privacy::jobs::{EXPORT_BUILD, EXPORT_EXPIRE};
use crate::privacy::ports::ONE_EXPORT_AT_A_TIME;
use crate::privacy::records::{DataSubjectRequest, ExportArchive, RequestKind, RequestStatus};
use crate::privacy::{PrivacyService, rules};
use crate::request::ClientInfo;
use crate::store::StoreError;

impl PrivacyService {
    /// An `EXPORT` request, IN_PROGRESS, with its build job enqueued in the same transaction. `CONFLICT`
    /// naming the export already building; `RATE_LIMITED` past [`rules::EXPORTS_PER_DAY`] a day.
    #[tracing::instrument(skip_all)]
    pub async fn request_export(&self, principal: &Principal, client: &ClientInfo) -> DomainResult<DataSubjectRequest> {
        let user = principal.require_user()?;
        let tx = self.store.begin().await?;
        // The person's lock before the count: a simultaneous request waits here until this one commits, then
        // counts it.
        tx.lock_requests_of(user).await?;
        let now = self.clock.now();
        rules::check_new_export(&tx.list_requests(user).await?, now)?;
        let request = DataSubjectRequest::received_now(user, RequestKind::Export, RequestStatus::InProgress, None, now);
        let job = NewJob::now(EXPORT_BUILD, None, json!({ "request": request.id }), now)
            .with_dedupe_key(format!("{EXPORT_BUILD}:{}", request.id));
        match tx.insert_request(&request).await {
            // The index stays the last word, for a writer that does not take the lock.
            Err(StoreError::UniqueViolation(ONE_EXPORT_AT_A_TIME)) => {
                return Err(DomainError::conflict("kind", "an export is already being built"));
            }
            other => other?,
        }
        super::transitions::audit_request(
            &*tx,
            &request,
            Actor::of(principal),
            "privacy.request_received",
            client,
            now,
        )
        .await?;
        jobs::enqueue(&*tx, &job, now).await?;
        tx.commit().await?;
        self.jobs.enqueued();
        Ok(request)
    }

    /// The download path of the request's archive (`/exports/<token>`) while it can be downloaded.
    pub fn download_path(&self, request: &DataSubjectRequest) -> Option<String> {
        let archive = request.archive.as_ref()?;
        request
            .is_downloadable(self.clock.now())
            .then(|| format!("/exports/{}", self.token(request.id, archive.ready_at)))
    }

    /// The archive behind `token` for its owner: the request and the file. `NOT_FOUND` for anyone else, an
    /// API key, an unknown token or an expired archive alike. Each download is audited on the owner's chain.
    #[tracing::instrument(skip_all)]
    pub async fn open_download(
        &self,
        principal: &Principal,
        client: &ClientInfo,
        token: &str,
    ) -> DomainResult<(DataSubjectRequest, PathBuf)> {
        let not_found = || DomainError::NotFound("export");
        let user = principal.user_id().ok_or_else(not_found)?;
        let request = self
            .store
            .request_by_token(&crate::crypto::token::hash(token))
            .await?
            .ok_or_else(not_found)?;
        if request.user_id != user || !request.is_downloadable(self.clock.now()) {
            return Err(not_found());
        }
        let tx = self.store.begin().await?;
        super::transitions::audit_request(
            &*tx,
            &request,
            Actor::of(principal),
            "privacy.export_downloaded",
            client,
            self.clock.now(),
        )
        .await?;
        tx.commit().await?;
        let path = self.files.locate(request.id);
        Ok((request, path))
    }

    /// Builds the archive of an IN_PROGRESS export and completes the request (job `export.build`). Running it
    /// again rebuilds; a request no longer in progress is left alone.
    #[tracing::instrument(skip_all, fields(request = %id))]
    pub async fn build_export(&self, id: DataSubjectRequestId) -> DomainResult<()> {
        let Some(mut request) = self.store.request_by_id(id).await? else {
            return Ok(());
        };
        // An ACCESS request is answered with the same archive when staff generate it (`compliance`).
        if !matches!(request.kind, RequestKind::Export | RequestKind::Access)
            || request.status != RequestStatus::InProgress
        {
            return Ok(());
        }
        let mut writer = self.files.create(id).map_err(DomainError::internal)?;
        archive::write(&*self.store, &mut *writer, request.user_id, self.clock.now()).await?;
        let bytes = writer.finish().await.map_err(DomainError::internal)?;
        let now = self.clock.now().trunc_subsecs(6);
        let expires_at = now + Duration::days(rules::EXPORT_VALID_DAYS);
        request.archive = Some(ExportArchive {
            token_hash: crate::crypto::token::hash(&self.token(id, now)),
            ready_at: now,
            expires_at,
            expired_at: None,
            bytes,
        });
        let expire = NewJob::now(EXPORT_EXPIRE, None, json!({ "request": id }), now)
            .at(expires_at)
            .with_dedupe_key(format!("{EXPORT_EXPIRE}:{id}"));
        let tx = self.store.begin().await?;
        let resolution = Some("archive ready for download".to_owned());
        super::transitions::move_request(
            &*tx,
            &mut request,
            RequestStatus::Completed,
            resolution,
            Actor::system(),
            &ClientInfo::default(),
            now,
        )
        .await?;
        jobs::enqueue(&*tx, &expire, now).await?;
        crate::notices::queue(&*tx, request.user_id, Notice::ExportReady { expires_at }, now).await?;
        tx.commit().await?;
        self.jobs.enqueued();
        Ok(())
    }

    /// Deletes an archive whose time is up and marks it expired (job `export.expire`); `false` when it is not
    /// due yet (the job retries then).
    #[tracing::instrument(skip_all, fields(request = %id))]
    pub async fn expire_export(&self, id: DataSubjectRequestId) -> DomainResult<bool> {
        let now = self.clock.now();
        let Some(mut request) = self.store.request_by_id(id).await? else {
            return Ok(true);
        };
        let Some(archive) = request.archive.as_mut() else {
            return Ok(true);
        };
        if archive.expired_at.is_some() {
            return Ok(true);
        }
        if archive.expires_at > now {
            return Ok(false);
        }
        self.files.delete(id).map_err(DomainError::internal)?;
        archive.expired_at = Some(now);
        request.updated_at = now;
        let tx = self.store.begin().await?;
        if !tx.update_request(&request, request.status).await? {
            return Err(DomainError::conflict("status", "the request changed meanwhile"));
        }
        super::transitions::audit_request(
            &*tx,
            &request,
            Actor::system(),
            "privacy.export_expired",
            &ClientInfo::default(),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The download token of request `id`'s archive made ready at `ready_at`.
    fn token(&self, id: DataSubjectRequestId, ready_at: chrono::DateTime<chrono::Utc>) -> String {
        let at = ready_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let mac = self.links.mac(&[id.as_uuid().as_bytes(), at.as_bytes()]);
        format!("tgx_{}", hex::encode(mac))
    }
}
