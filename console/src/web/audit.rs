//! The Audit page: searching the log across every chain, exporting what a search lists, and verifying the
//! chains.
//!
//! Rules:
//! - **Staff only** (the [`staff`] check first), and each use case audits itself on the platform chain: a
//!   search as `console.viewed` (page `audit`), an export as `console.audit_exported`, a verification as
//!   `console.audit_verified`.
//! - **Filters live in the query string**, so a search, its older pages and its exports are plain links. A
//!   filter that does not parse is shown on the page, with nothing listed and nothing audited (`400`).
//! - **Verifying is a form** (`POST` with the session's token): it changes nothing, but it reads every chain,
//!   so neither a prefetch nor a link from elsewhere may start it. Its answer is the page with each chain's
//!   verdict, broken chains first, and the first broken link named (chain, entry number, entry id).

use std::sync::Arc;

use chrono::Utc;
use poem::http::{StatusCode, header};
use poem::web::{Data, Form, Query};
use poem::{Request, Response, handler};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tgos_domain::DomainError;
use tgos_domain::audit::verify::ChainReport;
use tgos_domain::audit::{AuditCursor, AuditRecord, AuditSearch, AuditSearchText};
use tgos_domain::compliance::{AUDIT_EXPORT_MAX, AuditExportFormat};

use super::Console;
use super::auth::{StaffSession, staff, staff_form};
use super::render::{frame, merge, status_of, text_of};
use crate::audit::{render_export, table};

/// How many entries one page shows.
const PAGE: u64 = 100;

/// The search form's fields, as the query string carries them (each empty when not given).
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct AuditQuery {
    workspace: String,
    chain: String,
    actor: String,
    action: String,
    from: String,
    to: String,
    before: String,
    /// Exports only: `csv` or `json`.
    #[serde(skip_serializing)]
    format: String,
}

impl AuditQuery {
    fn search(&self) -> Result<AuditSearch, DomainError> {
        AuditSearch::parse(&AuditSearchText {
            workspace: &self.workspace,
            chain: &self.chain,
            actor_id: &self.actor,
            action: &self.action,
            from: &self.from,
            to: &self.to,
            before: &self.before,
        })
    }

    /// `path` with the filters given (and `extra`), as a link.
    fn link(&self, path: &str, extra: &[(&str, &str)]) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("workspace", &self.workspace),
            ("chain", &self.chain),
            ("actor", &self.actor),
            ("action", &self.action),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if !value.trim().is_empty() {
                query.append_pair(name, value.trim());
            }
        }
        query.extend_pairs(extra.iter().copied());
        let query = query.finish();
        if query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{query}")
        }
    }
}

/// An entry as the page's table shows it.
fn row(entry: &AuditRecord) -> Value {
    let target = match (&entry.target_type, &entry.target_id) {
        (Some(kind), Some(id)) => format!("{kind} {id}"),
        (Some(kind), None) => kind.clone(),
        (None, Some(id)) => id.clone(),
        (None, None) => String::new(),
    };
    json!({
        "at": entry.at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        "at_exact": table::instant(entry.at),
        "chain": entry.chain,
        "sequence": entry.sequence,
        "id": entry.id.to_string(),
        "actor_kind": entry.actor.kind.as_str(),
        "actor_name": entry.actor.display_name,
        "actor_id": entry.actor.id,
        "action": entry.action,
        "target": target,
        "ip": entry.ip_address,
        "user_agent": entry.user_agent,
        "metadata": entry.metadata,
        "redacted": entry.seal.redacted_at().is_some(),
    })
}

/// The page, with `extra` (the results, or a verification) and `error`.
fn audit_page(
    console: &Console,
    session: &StaffSession,
    query: &AuditQuery,
    extra: Value,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let context = merge(
        frame(console, session, "audit"),
        merge(
            json!({
                "filter": query,
                "export_csv": query.link("/audit/export", &[("format", "csv")]),
                "export_json": query.link("/audit/export", &[("format", "json")]),
                "export_max": AUDIT_EXPORT_MAX,
                "error": error,
            }),
            extra,
        ),
    );
    console.pages.page("audit.html", context, status)
}

/// `GET /audit`: the newest entries the filters list (every chain's when none), a page at a time.
#[handler]
pub async fn search(console: Data<&Arc<Console>>, req: &Request, Query(query): Query<AuditQuery>) -> Response {
    let session = match staff(&console, req).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let searched = match query.search() {
        Ok(filter) => console.compliance.search_audit(session.context(), &filter, PAGE).await,
        Err(error) => Err(error),
    };
    let page = match searched {
        Ok(page) => page,
        Err(error) => {
            return audit_page(
                &console,
                &session,
                &query,
                json!({}),
                Some(text_of(&error)),
                status_of(&error),
            );
        }
    };
    let older = page
        .items
        .last()
        .filter(|_| page.has_next)
        .map(|last| query.link("/audit", &[("before", &AuditCursor::after(last).to_string())]));
    let extra = json!({
        "searched": true,
        "entries": page.items.iter().map(row).collect::<Vec<_>>(),
        "older": older,
        "newest": (!query.before.is_empty()).then(|| query.link("/audit", &[])),
    });
    audit_page(&console, &session, &query, extra, None, StatusCode::OK)
}

/// `GET /audit/export?format=csv|json&…`: the entries the filters list, as a file to save.
#[handler]
pub async fn export(console: Data<&Arc<Console>>, req: &Request, Query(query): Query<AuditQuery>) -> Response {
    let session = match staff(&console, req).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let exported = async {
        let format =
            AuditExportFormat::parse(&query.format).ok_or_else(|| DomainError::invalid("format", "csv or json"))?;
        let filter = query.search()?;
        let export = console
            .compliance
            .export_audit(session.context(), &filter, format)
            .await?;
        Ok::<_, DomainError>((format, export))
    }
    .await;
    let (format, export) = match exported {
        Ok(done) => done,
        Err(error) => {
            return audit_page(
                &console,
                &session,
                &query,
                json!({}),
                Some(text_of(&error)),
                status_of(&error),
            );
        }
    };
    let content_type = match format {
        AuditExportFormat::Csv => "text/csv; charset=utf-8",
        AuditExportFormat::Json => "application/json",
    };
    let name = format!("audit-{}.{}", Utc::now().format("%Y%m%dT%H%M%SZ"), format.as_str());
    let mut response = Response::builder()
        .status(StatusCode::OK)
        .content_type(content_type)
        .header(header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\""));
    if let Some(next) = export.next {
        response = response.header("x-audit-export-next", next.to_string());
    }
    response.body(render_export(&export, format))
}

/// A chain's verdict as the page shows it.
fn verdict(report: &ChainReport) -> Value {
    let chain_link = AuditQuery {
        chain: report.chain.clone(),
        ..AuditQuery::default()
    }
    .link("/audit", &[]);
    match &report.verdict {
        Ok(entries) => json!({ "chain": report.chain, "ok": true, "entries": entries, "link": chain_link }),
        Err(broken) => {
            let (sequence, id) = broken.entry();
            json!({
                "chain": report.chain,
                "ok": false,
                "sequence": sequence,
                "id": id,
                "problem": broken.to_string(),
                "link": chain_link,
            })
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct VerifyForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /audit/verify`: every chain's verdict, broken ones first.
#[handler]
pub async fn verify(console: Data<&Arc<Console>>, req: &Request, Form(form): Form<VerifyForm>) -> Response {
    let session = match staff_form(&console, req, &form.csrf).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let query = AuditQuery::default();
    let reports = match console.compliance.verify_audit(session.context()).await {
        Ok(reports) => reports,
        Err(error) => {
            return audit_page(
                &console,
                &session,
                &query,
                json!({}),
                Some(text_of(&error)),
                status_of(&error),
            );
        }
    };
    let mut verdicts: Vec<Value> = reports.iter().map(verdict).collect();
    // Broken chains first (stable: each group stays in chain order).
    verdicts.sort_by_key(|v| v["ok"].as_bool().unwrap_or(false));
    let broken = verdicts.iter().filter(|v| v["ok"] == false).count();
    let extra = json!({
        "verification": {
            "chains": verdicts.len(),
            "broken": broken,
            "first_broken": verdicts.first().filter(|v| v["ok"] == false),
            "verdicts": verdicts,
        },
    });
    audit_page(&console, &session, &query, extra, None, StatusCode::OK)
}
