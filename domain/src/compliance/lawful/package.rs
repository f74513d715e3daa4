//! The disclosure package's content: exactly the scope of its request, and a manifest that says what is in it.
//!
//! Rules:
//! - For each user of the scope, `users/<id>/<file>.json` for each file of each category named that applies to
//!   a person ([`Category::user_files`]); for each workspace, `workspaces/<id>/<file>.json` likewise
//!   ([`Category::workspace_files`]), read behind that workspace's wall. No other file: a category not named,
//!   a subject not named, has none, and a file holds only the rows its [`super::ports::DisclosureSource`] read
//!   selects for the period.
//! - Each file is a JSON array written page by page ([`PAGE`] rows at a time, keyset ordered), and its SHA-256
//!   is computed as it is written: the package of a scope of any size is built in bounded memory.
//! - `manifest.json` comes last: format version, generation time, the request (id, authority, reference, legal
//!   basis, dates), the scope (users, workspaces, categories, period) and each file (its path names its
//!   subject) with its category, record count and SHA-256. It names no staff member.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use super::records::LawfulRequest;
use super::scope::{Category, UserFile, WorkspaceFile};
use crate::error::{DomainError, DomainResult};
use crate::ids::UserId;
use crate::privacy::ports::ArchiveWriter;
use crate::store::Repositories;
use crate::tenancy::TenantScope;

/// The package format's version (manifest `format_version`).
pub const FORMAT_VERSION: u32 = 1;
/// Rows read and written at a time.
pub const PAGE: u64 = 1_000;
/// The manifest's name in the package.
pub const MANIFEST: &str = "manifest.json";

/// One file of the package, as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackagedFile {
    pub name: String,
    pub category: Category,
    pub records: u64,
    /// Lower-case hex.
    pub sha256: String,
}

/// Where one file's rows come from.
#[derive(Clone, Copy)]
enum Source<'a> {
    User(UserId, UserFile),
    Workspace(&'a TenantScope, WorkspaceFile),
}

/// Writes the package of `request` into `writer` (not finished: the caller finishes it); the files written,
/// manifest excluded.
pub async fn write(
    repos: &dyn Repositories,
    writer: &mut dyn ArchiveWriter,
    request: &LawfulRequest,
    now: DateTime<Utc>,
) -> DomainResult<Vec<PackagedFile>> {
    let scope = &request.scope;
    let mut files = Vec::new();
    for user in scope.users() {
        for category in scope.categories() {
            for file in category.user_files() {
                let name = format!("users/{user}/{}", file.name());
                let source = Source::User(*user, *file);
                files.push(copy(repos, writer, request, name, *category, source).await?);
            }
        }
    }
    for workspace in scope.workspaces() {
        let tenant = TenantScope::system(*workspace);
        for category in scope.categories() {
            for file in category.workspace_files() {
                let name = format!("workspaces/{workspace}/{}", file.name());
                let source = Source::Workspace(&tenant, *file);
                files.push(copy(repos, writer, request, name, *category, source).await?);
            }
        }
    }
    let manifest = manifest(request, &files, now);
    writer.start_file(MANIFEST).await.map_err(DomainError::internal)?;
    let bytes = serde_json::to_vec_pretty(&manifest).map_err(DomainError::internal)?;
    writer.write(bytes).await.map_err(DomainError::internal)?;
    Ok(files)
}

/// The manifest of a package of `request` holding `files`.
pub fn manifest(request: &LawfulRequest, files: &[PackagedFile], now: DateTime<Utc>) -> Value {
    let scope = &request.scope;
    let at = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Micros, true);
    json!({
        "format_version": FORMAT_VERSION,
        "generated_at": at(now),
        "request": {
            "id": request.id,
            "authority": request.authority,
            "reference": request.reference,
            "legal_basis": request.legal_basis,
            "received_on": request.received_on.to_string(),
            "due_on": request.due_on.to_string(),
        },
        "scope": {
            "users": scope.users(),
            "workspaces": scope.workspaces(),
            "categories": scope.categories().iter().map(|c| c.as_str()).collect::<Vec<_>>(),
            "period": { "from": at(scope.period().from()), "to": at(scope.period().to()) },
        },
        "files": files
            .iter()
            .map(|file| json!({
                "name": file.name,
                "category": file.category.as_str(),
                "records": file.records,
                "sha256": file.sha256,
            }))
            .collect::<Vec<_>>(),
    })
}

/// Writes one file as a JSON array, page after page, hashing what it writes.
async fn copy(
    repos: &dyn Repositories,
    writer: &mut dyn ArchiveWriter,
    request: &LawfulRequest,
    name: String,
    category: Category,
    source: Source<'_>,
) -> DomainResult<PackagedFile> {
    let period = request.scope.period();
    writer.start_file(&name).await.map_err(DomainError::internal)?;
    let mut hasher = Sha256::new();
    let mut records = 0_u64;
    let mut after: Option<String> = None;
    let mut bytes = b"[".to_vec();
    loop {
        let page = match source {
            Source::User(user, file) => {
                repos
                    .disclose_user_page(user, file, &period, after.as_deref(), PAGE)
                    .await?
            }
            Source::Workspace(scope, file) => {
                repos
                    .disclose_workspace_page(scope, file, &period, after.as_deref(), PAGE)
                    .await?
            }
        };
        for row in &page.rows {
            bytes.extend_from_slice(if records == 0 { b"\n" } else { b",\n" });
            serde_json::to_writer(&mut bytes, row).map_err(DomainError::internal)?;
            records += 1;
        }
        hasher.update(&bytes);
        writer
            .write(std::mem::take(&mut bytes))
            .await
            .map_err(DomainError::internal)?;
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let end = b"\n]\n".to_vec();
    hasher.update(&end);
    writer.write(end).await.map_err(DomainError::internal)?;
    Ok(PackagedFile {
        name,
        category,
        records,
        sha256: hex::encode(hasher.finalize()),
    })
}
