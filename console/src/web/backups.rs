//! The backups page: the backups in `backup.dir` with their age, read only. Creating, pruning and restoring
//! stay commands (`tgos-console backup create|prune|restore`): they run `pg_dump`/`pg_restore` and write
//! files an operator looks after, and the page says so. Viewing it is audited like every page.

use std::sync::Arc;

use chrono::Utc;
use poem::http::StatusCode;
use poem::web::Data;
use poem::{Request, Response, handler};
use serde_json::json;

use super::Console;
use super::auth::{csrf_of, staff};
use super::render::{status_of, text_of};

/// `GET /backups`.
#[handler]
pub async fn list(console: Data<&Arc<Console>>, req: &Request) -> Response {
    let session = match staff(&console, req).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let listed = match crate::backup::list(&console.backup_dir) {
        Ok(listed) => listed,
        Err(error) => {
            tracing::error!(error = %format!("{error:#}"), "the backups could not be listed");
            return console.pages.message(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Backups not shown",
                "the backup directory could not be read; see the console's log",
                "/",
            );
        }
    };
    if let Err(error) = console.compliance.record_view(session.context(), "backups", None).await {
        return console
            .pages
            .message(status_of(&error), "Refused", &text_of(&error), "/");
    }
    let now = Utc::now();
    let mut backups: Vec<_> = listed.iter().map(|m| crate::backup::describe(m, now)).collect();
    backups.reverse();
    let context = json!({
        "staff": session.name,
        "csrf": csrf_of(&console, &session),
        "section": "backups",
        "backups": backups,
        "dir": console.backup_dir.display().to_string(),
    });
    console.pages.page("backups.html", context, StatusCode::OK)
}
