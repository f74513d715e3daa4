//! The audit log as staff read it: a search across every chain, its export, and verifying the chains.
//!
//! Rules:
//! - **Staff only**, like every compliance use case: anyone else is `FORBIDDEN` before anything is read.
//! - **Reading the log is audited** on the platform chain, after the read (so a search never lists its own
//!   entry): a search as `console.viewed` (page `audit`, its filters and how many entries it showed), an
//!   export as `console.audit_exported` (format, filters, count, and whether it stopped short), a
//!   verification as `console.audit_verified` (how many chains, how many broken, the first broken link).
//! - **Bounded.** A page holds at most [`AUDIT_PAGE_MAX`] entries. An export holds at most
//!   [`AUDIT_EXPORT_MAX`], read a page at a time; when it stops short it says where the rest starts
//!   ([`AuditExport::next`]), so nothing is dropped silently.

use serde_json::json;

use super::ComplianceService;
use super::actions::StaffContext;
use crate::audit::verify::{ChainReport, verify_chains};
use crate::audit::{AuditCursor, AuditRecord, AuditSearch};
use crate::error::DomainResult;
use crate::paging::{Page, PageRequest};

/// The most entries one page of a search holds.
pub const AUDIT_PAGE_MAX: u64 = 500;
/// The most entries one export holds.
pub const AUDIT_EXPORT_MAX: usize = 10_000;

/// The file an export is taken away as (the console writes it; the audit entry names it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditExportFormat {
    Csv,
    Json,
}

impl AuditExportFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditExportFormat::Csv => "csv",
            AuditExportFormat::Json => "json",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "csv" => Some(AuditExportFormat::Csv),
            "json" => Some(AuditExportFormat::Json),
            _ => None,
        }
    }
}

/// What an export holds: the entries, newest first, and where the rest starts when it stopped short.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditExport {
    pub entries: Vec<AuditRecord>,
    /// `Some` when more entries matched than an export holds: search again before this cursor for them.
    pub next: Option<AuditCursor>,
}

/// The first broken link of a set of chain reports, for the audit entry of a verification.
fn first_broken(reports: &[ChainReport]) -> serde_json::Value {
    reports
        .iter()
        .find_map(|report| {
            let (sequence, id) = report.verdict.as_ref().err()?.entry();
            Some(json!({ "chain": report.chain, "sequence": sequence, "id": id }))
        })
        .unwrap_or(serde_json::Value::Null)
}

impl ComplianceService {
    /// One page of the entries `search` lists (at most `limit`, capped at [`AUDIT_PAGE_MAX`]), newest first,
    /// and whether older ones follow; audited as `console.viewed` of page `audit`.
    #[tracing::instrument(skip_all)]
    pub async fn search_audit(
        &self,
        staff: StaffContext<'_>,
        search: &AuditSearch,
        limit: u64,
    ) -> DomainResult<Page<AuditRecord>> {
        staff.staff()?;
        let page = self.audit_page(search, limit).await?;
        let metadata = json!({ "page": "audit", "filter": search.describe(), "entries": page.items.len() });
        self.record_on_platform(staff, "console.viewed", None, metadata).await?;
        Ok(page)
    }

    /// Every entry `search` lists, up to [`AUDIT_EXPORT_MAX`], newest first; audited as
    /// `console.audit_exported` with `format`, the filters and the count.
    #[tracing::instrument(skip_all)]
    pub async fn export_audit(
        &self,
        staff: StaffContext<'_>,
        search: &AuditSearch,
        format: AuditExportFormat,
    ) -> DomainResult<AuditExport> {
        staff.staff()?;
        let mut entries: Vec<AuditRecord> = Vec::new();
        let mut rest = search.clone();
        let next = loop {
            let room = AUDIT_EXPORT_MAX.saturating_sub(entries.len());
            let page = self
                .audit_page(&rest, u64::try_from(room).unwrap_or(AUDIT_PAGE_MAX))
                .await?;
            entries.extend(page.items);
            let Some(last) = entries.last().map(AuditCursor::after) else {
                break None;
            };
            if !page.has_next {
                break None;
            }
            if entries.len() >= AUDIT_EXPORT_MAX {
                break Some(last);
            }
            rest = rest.older_than(last);
        };
        let metadata = json!({
            "format": format.as_str(),
            "filter": search.describe(),
            "entries": entries.len(),
            "complete": next.is_none(),
        });
        self.record_on_platform(staff, "console.audit_exported", None, metadata)
            .await?;
        Ok(AuditExport { entries, next })
    }

    /// Every chain's verdict ([`verify_chains`]): how many entries check out, or its first broken link;
    /// audited as `console.audit_verified`.
    #[tracing::instrument(skip_all)]
    pub async fn verify_audit(&self, staff: StaffContext<'_>) -> DomainResult<Vec<ChainReport>> {
        staff.staff()?;
        let reports = verify_chains(&*self.store, None).await?;
        let broken = reports.iter().filter(|r| r.verdict.is_err()).count();
        let metadata = json!({
            "chains": reports.len(),
            "broken": broken,
            "firstBroken": first_broken(&reports),
        });
        self.record_on_platform(staff, "console.audit_verified", None, metadata)
            .await?;
        Ok(reports)
    }

    /// One page of `search` (from its cursor on), without auditing it.
    async fn audit_page(&self, search: &AuditSearch, limit: u64) -> DomainResult<Page<AuditRecord>> {
        PageRequest::capped(search.before, limit, AUDIT_PAGE_MAX)
            .read(|before, rows| async move {
                let page = AuditSearch {
                    before,
                    ..search.clone()
                };
                self.store.search_audit(&page, rows).await
            })
            .await
    }
}
