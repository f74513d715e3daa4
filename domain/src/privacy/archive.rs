//! The archive's content: which files, in what order, and the manifest that lists them.
//!
//! Rules:
//! - The person's own data in any case: profile, sessions, memberships, the invitations addressed to their
//!   email address once it is verified, their account chain and the entries where they are the actor, the API
//!   keys they created and the invitations they sent, in every workspace they belong to. A workspace's own
//!   records (wallet and ledger, leases, automations and their executions, dialogs and messages) only for the
//!   workspaces they **own**: a member's export holds nothing of a workspace they merely belong to, and
//!   nothing of another tenant's.
//! - Their own entries on the chains of the other workspaces (those they left or were removed from, and closed
//!   ones) go to `audit/other_workspaces.json`. The workspaces are listed once, at the start: those listed
//!   get a folder, the entries of every other one go to that file, so no entry is exported twice.
//! - Each file is a JSON array written page by page ([`PAGE`] rows from the source, keyset ordered), so the
//!   archive of a workspace of any size is built in bounded memory.
//! - `manifest.json` comes last: format version, generation time, subject, and each file with its count.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::ports::{ArchiveWriter, SubjectPart, WorkspacePart};
use crate::error::{DomainError, DomainResult};
use crate::ids::{UserId, WorkspaceId};
use crate::store::Repositories;
use crate::tenancy::{Role, TenantScope};

/// The archive format's version (manifest `format_version`).
pub const FORMAT_VERSION: u32 = 1;
/// Rows read and written at a time.
pub const PAGE: u64 = 1_000;

/// One file of the manifest.
struct Listed {
    name: String,
    records: u64,
}

/// Writes the whole archive of `user` into `writer` (not finished: the caller finishes it).
pub async fn write(
    repos: &dyn Repositories,
    writer: &mut dyn ArchiveWriter,
    user: UserId,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let mut files = Vec::new();
    let workspaces = repos.list_workspaces_of(user).await?;
    let covered: Vec<WorkspaceId> = workspaces.iter().map(|(workspace, _)| workspace.id).collect();
    let subject = [
        ("profile.json", SubjectPart::Profile),
        ("sessions.json", SubjectPart::Sessions),
        ("memberships.json", SubjectPart::Memberships),
        ("invitations_received.json", SubjectPart::InvitationsTo),
        ("audit/account.json", SubjectPart::Audit),
        ("audit/other_workspaces.json", SubjectPart::AuditElsewhere(&covered)),
    ];
    for (name, part) in subject {
        let records = copy(repos, writer, name, Part::Subject(user, part)).await?;
        files.push(Listed {
            name: name.to_owned(),
            records,
        });
    }
    for (workspace, role) in workspaces {
        let scope = TenantScope::member(workspace.id, user, role);
        let mut parts = vec![
            ("audit_by_me.json", WorkspacePart::AuditBy(user)),
            ("api_keys_created.json", WorkspacePart::ApiKeysBy(user)),
            ("invitations_sent.json", WorkspacePart::InvitationsBy(user)),
        ];
        if role == Role::Owner {
            parts.extend([
                ("wallet.json", WorkspacePart::Wallet),
                ("ledger_transactions.json", WorkspacePart::LedgerTransactions),
                ("ledger_postings.json", WorkspacePart::LedgerPostings),
                ("leases.json", WorkspacePart::Leases),
                ("automations.json", WorkspacePart::Automations),
                ("automation_executions.json", WorkspacePart::AutomationExecutions),
                ("dialogs.json", WorkspacePart::Dialogs),
                ("messages.json", WorkspacePart::Messages),
            ]);
        }
        for (file, part) in parts {
            let name = format!("workspaces/{}/{file}", workspace.id);
            let records = copy(repos, writer, &name, Part::Workspace(&scope, part)).await?;
            files.push(Listed { name, records });
        }
    }
    let manifest = json!({
        "format_version": FORMAT_VERSION,
        "generated_at": now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "subject_id": user,
        "files": files
            .iter()
            .map(|file| json!({ "name": file.name, "records": file.records }))
            .collect::<Vec<_>>(),
    });
    writer
        .start_file("manifest.json")
        .await
        .map_err(DomainError::internal)?;
    let bytes = serde_json::to_vec_pretty(&manifest).map_err(DomainError::internal)?;
    writer.write(bytes).await.map_err(DomainError::internal)?;
    Ok(())
}

/// What one file holds.
#[derive(Clone, Copy)]
enum Part<'a> {
    Subject(UserId, SubjectPart<'a>),
    Workspace(&'a TenantScope, WorkspacePart),
}

/// Writes one file as a JSON array, page after page; how many rows.
async fn copy(
    repos: &dyn Repositories,
    writer: &mut dyn ArchiveWriter,
    name: &str,
    part: Part<'_>,
) -> DomainResult<u64> {
    writer.start_file(name).await.map_err(DomainError::internal)?;
    let mut count = 0_u64;
    let mut after: Option<String> = None;
    let mut bytes = b"[".to_vec();
    loop {
        let read = match part {
            Part::Subject(user, part) => repos.export_subject_page(user, part, after.as_deref(), PAGE).await?,
            Part::Workspace(scope, part) => repos.export_workspace_page(scope, part, after.as_deref(), PAGE).await?,
        };
        for row in &read.rows {
            bytes.extend_from_slice(if count == 0 { b"\n" } else { b",\n" });
            serde_json::to_writer(&mut bytes, row).map_err(DomainError::internal)?;
            count += 1;
        }
        writer
            .write(std::mem::take(&mut bytes))
            .await
            .map_err(DomainError::internal)?;
        match read.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    writer.write(b"\n]\n".to_vec()).await.map_err(DomainError::internal)?;
    Ok(count)
}
