//! The staff console's Audit page over HTTP, on both databases: only signed-in staff reach it; a search by
//! workspace, action or actor lists exactly the entries that match; the CSV export reads back into the same
//! rows as the JSON one; each search and export leaves its own entry on the platform chain; a chain broken
//! on purpose is reported with its first broken link; and pages follow each other without a gap or a repeat,
//! even between entries of the same microsecond.

use sea_orm::{ConnectionTrait as _, DatabaseBackend, Statement, TransactionTrait as _, Value as DbValue};
use serde_json::{Value, json};
use tgos_tests::console::{ConsoleBrowser, Page};
use tgos_tests::{TestApp, backend_tests};

/// The columns of an export, in order.
const COLUMNS: [&str; 15] = [
    "at",
    "chain",
    "sequence",
    "id",
    "workspace_id",
    "actor_kind",
    "actor_id",
    "actor_name",
    "action",
    "target_type",
    "target_id",
    "ip_address",
    "user_agent",
    "metadata",
    "redacted_at",
];

async fn invite(app: &TestApp, token: &str, workspace: &str, email: &str) -> anyhow::Result<()> {
    let invited = app
        .gql(
            Some(token),
            "mutation($w: ID!, $e: String!) { inviteMember(workspaceId: $w, email: $e, role: VIEWER) { id } }",
            json!({ "w": workspace, "e": email }),
        )
        .await?;
    anyhow::ensure!(invited.is_ok(), "{:?}", invited.body);
    Ok(())
}

/// The ids of the entries a page lists, in order.
fn listed(page: &Page) -> Vec<String> {
    page.body
        .split("data-entry=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect()
}

/// Searches with `query` on the page and exports the same search as JSON; checks both list the same entries
/// and returns the export's.
async fn search(browser: &mut ConsoleBrowser, query: &str) -> anyhow::Result<Vec<Value>> {
    let page = browser.get(&format!("/audit?{query}")).await?;
    anyhow::ensure!(page.status == 200, "{} {}", page.status, page.body);
    let export = browser.get(&format!("/audit/export?format=json&{query}")).await?;
    anyhow::ensure!(export.status == 200, "{} {}", export.status, export.body);
    let body: Value = serde_json::from_str(&export.body)?;
    assert_eq!(body["complete"], true);
    let entries = body["entries"].as_array().cloned().unwrap_or_default();
    let exported: Vec<String> = entries
        .iter()
        .map(|e| e["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(listed(&page), exported, "the page and the export list the same entries");
    Ok(entries)
}

fn actions(entries: &[Value]) -> Vec<&str> {
    entries
        .iter()
        .map(|e| e["action"].as_str().unwrap_or_default())
        .collect()
}

/// A statement with `$1`-style parameters on either database.
fn statement(backend: DatabaseBackend, sql: &str, values: Vec<DbValue>) -> Statement {
    let sql = if backend == DatabaseBackend::Postgres {
        sql.to_owned()
    } else {
        sql.replace("$1", "?")
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// How many entries have `column` = `value`, read straight from the table.
async fn count(app: &TestApp, column: &str, value: &str) -> anyhow::Result<usize> {
    let db = app.db().await?;
    let sql = format!("SELECT COUNT(*) AS n FROM audit_log WHERE {column} = $1");
    let row = db
        .query_one_raw(statement(db.get_database_backend(), &sql, vec![value.into()]))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no count"))?;
    Ok(usize::try_from(row.try_get::<i64>("", "n")?)?)
}

/// The platform chain's entries of `action`: (actor kind, IP address, user agent, metadata).
async fn platform_entries(app: &TestApp, action: &str) -> anyhow::Result<Vec<(String, String, String, Value)>> {
    let db = app.db().await?;
    let sql = "SELECT actor_kind, COALESCE(ip_address, '') AS ip, COALESCE(user_agent, '') AS agent, metadata \
               FROM audit_log WHERE chain = 'platform' AND action = $1 ORDER BY sequence";
    let rows = db
        .query_all_raw(statement(db.get_database_backend(), sql, vec![action.into()]))
        .await?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get::<String>("", "actor_kind")?,
                row.try_get::<String>("", "ip")?,
                row.try_get::<String>("", "agent")?,
                serde_json::from_str(&row.try_get::<String>("", "metadata")?)?,
            ))
        })
        .collect()
}

/// RFC 4180 records read back (the test's own small reader: quoted fields, doubled quotes, CRLF).
fn read_csv(text: &str) -> Vec<Vec<String>> {
    let (mut records, mut record, mut field, mut quoted) = (Vec::new(), Vec::new(), String::new(), false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    records
}

/// An exported JSON entry as its CSV record should read.
fn as_record(entry: &Value) -> Vec<String> {
    COLUMNS
        .iter()
        .map(|column| match &entry[*column] {
            Value::Null => String::new(),
            Value::String(text) => text.clone(),
            other => other.to_string(),
        })
        .collect()
}

/// Rewrites an entry's metadata behind the service's back. On PostgreSQL the append-only trigger refuses
/// that; a superuser can switch triggers off for one transaction, as whoever holds the database could.
async fn tamper(app: &TestApp, chain: &str, sequence: i64) -> anyhow::Result<()> {
    let db = app.db().await?;
    let backend = db.get_database_backend();
    let tx = db.begin().await?;
    if backend == DatabaseBackend::Postgres {
        tx.execute_unprepared("SET LOCAL session_replication_role = replica")
            .await?;
    }
    let sql = format!(
        "UPDATE audit_log SET metadata = '{{\"email\":\"someone-else@example.com\"}}' WHERE chain = '{chain}' \
         AND sequence = {sequence}"
    );
    let changed = tx.execute_unprepared(&sql).await?;
    assert_eq!(changed.rows_affected(), 1);
    tx.commit().await?;
    Ok(())
}

backend_tests!(staff_search_lists_exactly_the_entries_its_filters_match, |app| {
    let console = app.start_console().await?;
    let mut root = app.create_staff("root", None).await?;
    let olive = app.sign_up("olive").await?;
    let bob = app.sign_up("bob").await?;
    let olive_id = app
        .gql(Some(&olive), "{ me { user { id } } }", json!({}))
        .await?
        .str_at("/data/me/user/id")?;
    let acme = app.create_workspace(&olive, "Acme, \"Ltd\"").await?;
    let other = app.create_workspace(&bob, "Other").await?;
    invite(&app, &olive, &acme, "guest1@example.com").await?;
    invite(&app, &bob, &other, "guest2@example.com").await?;

    // No session: the page, an export and the verification all send to sign in.
    let mut stranger = ConsoleBrowser::new(&console)?;
    for path in ["/audit", "/audit/export?format=csv", "/audit?action=invitation.created"] {
        let page = stranger.get(path).await?;
        assert_eq!((page.status, page.location.as_deref()), (303, Some("/login")), "{path}");
    }
    let page = stranger.post("/audit/verify", &[("csrf", "0000")]).await?;
    assert_eq!((page.status, page.location.as_deref()), (303, Some("/login")));

    let mut browser = ConsoleBrowser::new(&console)?;
    browser.sign_in(&mut root).await?;

    // By workspace: that workspace's chain, newest first.
    let found = search(&mut browser, &format!("workspace={acme}")).await?;
    assert_eq!(actions(&found), ["invitation.created", "workspace.created"]);
    let chain = format!("workspace:{acme}");
    assert!(
        found
            .iter()
            .all(|e| e["workspace_id"] == acme.as_str() && e["chain"] == chain.as_str())
    );
    assert_eq!(found.len(), count(&app, "chain", &chain).await?);
    assert_eq!(found[1]["metadata"], json!({ "name": "Acme, \"Ltd\"" }));

    // By action: both workspaces' invitations; with the workspace too, only that one's.
    let found = search(&mut browser, "action=invitation.created").await?;
    assert_eq!(found.len(), 2);
    assert_eq!(found.len(), count(&app, "action", "invitation.created").await?);
    let workspaces: Vec<&str> = found.iter().filter_map(|e| e["workspace_id"].as_str()).collect();
    assert_eq!(workspaces, [other.as_str(), acme.as_str()], "newest first");
    let found = search(&mut browser, &format!("action=invitation.created&workspace={other}")).await?;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["workspace_id"], other.as_str());

    // By actor: what olive did, on every chain.
    let found = search(&mut browser, &format!("actor={olive_id}")).await?;
    assert_eq!(
        actions(&found),
        ["invitation.created", "workspace.created", "account.created"]
    );
    assert!(found.iter().all(|e| e["actor_id"] == olive_id.as_str()));
    assert_eq!(found.len(), count(&app, "actor_id", &olive_id).await?);

    // A filter that does not parse is named, and nothing is listed.
    let refused = browser.get("/audit?workspace=not-a-workspace&from=someday").await?;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused.body.contains("workspace") && refused.body.contains("from"),
        "{}",
        refused.body
    );
    assert!(listed(&refused).is_empty());

    // The CSV export reads back into exactly the JSON export's rows.
    let query = format!("workspace={acme}");
    let csv = browser.get(&format!("/audit/export?format=csv&{query}")).await?;
    assert_eq!(csv.status, 200, "{}", csv.body);
    let header = |name: &str| {
        csv.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(header("content-type"), "text/csv; charset=utf-8");
    assert!(header("content-disposition").starts_with("attachment; filename=\"audit-"));
    assert!(
        csv.body.contains(r#""{""name"":""Acme, \""Ltd\""""}""#),
        "a value with commas and quotes is quoted: {}",
        csv.body
    );
    let records = read_csv(&csv.body);
    let json_export: Value =
        serde_json::from_str(&browser.get(&format!("/audit/export?format=json&{query}")).await?.body)?;
    let mut expected = vec![COLUMNS.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>()];
    for entry in json_export["entries"].as_array().into_iter().flatten() {
        let mut record = as_record(entry);
        // The JSON export carries the metadata as JSON; the CSV as the stored text.
        record[13] = serde_json::to_string(&entry["metadata"])?;
        expected.push(record);
    }
    assert_eq!(records.len(), 3, "a header and two entries");
    for (got, want) in records.iter().zip(&expected) {
        assert_eq!(got.len(), COLUMNS.len());
        for (column, (a, b)) in COLUMNS.iter().zip(got.iter().zip(want)) {
            if *column == "metadata" && a != "metadata" {
                assert_eq!(serde_json::from_str::<Value>(a)?, serde_json::from_str::<Value>(b)?);
            } else {
                assert_eq!(a, b, "{column}");
            }
        }
    }

    // Each search left `console.viewed` (page `audit`) and each export `console.audit_exported`, as the staff
    // member, from the browser's address and user agent.
    let viewed = platform_entries(&app, "console.viewed").await?;
    let searches: Vec<&Value> = viewed
        .iter()
        .filter(|(kind, ip, agent, metadata)| {
            kind == "STAFF" && ip == "127.0.0.1" && agent == "console-test/1.0" && metadata["page"] == "audit"
        })
        .map(|(_, _, _, metadata)| metadata)
        .collect();
    assert_eq!(searches.len(), 4, "one per search that ran: {viewed:?}");
    assert_eq!(searches[0]["filter"], json!({ "workspace": acme }));
    assert_eq!(searches[0]["entries"], 2);
    let exports = platform_entries(&app, "console.audit_exported").await?;
    assert_eq!(exports.len(), 6, "four searches' exports, the CSV and its JSON twin");
    let (kind, ip, agent, csv_entry) = &exports[4];
    assert_eq!(
        (kind.as_str(), ip.as_str(), agent.as_str()),
        ("STAFF", "127.0.0.1", "console-test/1.0")
    );
    assert_eq!(
        csv_entry,
        &json!({ "format": "csv", "filter": { "workspace": acme }, "entries": 2, "complete": true })
    );

    // The page lists those entries too.
    let found = search(&mut browser, "action=console.audit_exported").await?;
    assert_eq!(found.len(), 6);
    Ok(())
});

backend_tests!(a_chain_broken_on_purpose_is_reported_at_its_first_broken_link, |app| {
    let console = app.start_console().await?;
    let mut root = app.create_staff("root", None).await?;
    let olive = app.sign_up("olive").await?;
    let ledger = app.create_workspace(&olive, "Ledger").await?;
    invite(&app, &olive, &ledger, "guest1@example.com").await?;
    invite(&app, &olive, &ledger, "guest2@example.com").await?;
    let mut browser = ConsoleBrowser::new(&console)?;
    browser.sign_in(&mut root).await?;

    // Intact: every chain verifies. A form without the session's token verifies nothing.
    let page = browser.get("/audit").await?;
    assert_eq!(page.status, 200, "{}", page.body);
    let forged = browser.post("/audit/verify", &[("csrf", "0000")]).await?;
    assert_eq!(forged.status, 403, "{}", forged.body);
    let verified = browser.post("/audit/verify", &[("csrf", &page.csrf()?)]).await?;
    assert_eq!(verified.status, 200, "{}", verified.body);
    assert!(verified.body.contains("chains verified."), "{}", verified.body);
    assert!(!verified.body.contains("chains are broken"), "{}", verified.body);

    // The second invitation's entry rewritten behind the service's back.
    let chain = format!("workspace:{ledger}");
    let entries = search(&mut browser, &format!("chain={chain}")).await?;
    assert_eq!(
        actions(&entries),
        ["invitation.created", "invitation.created", "workspace.created"]
    );
    let second = entries[1]["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(entries[1]["sequence"], 2);
    tamper(&app, &chain, 2).await?;

    let verified = browser.post("/audit/verify", &[("csrf", &page.csrf()?)]).await?;
    assert_eq!(verified.status, 200, "{}", verified.body);
    let body = &verified.body;
    assert!(body.contains("chains are broken. First broken link"), "{body}");
    let first = format!(
        "chain <strong>{chain}</strong>, entry <strong>2</strong> (<code>{second}</code>): entry 2 ({second}) was altered"
    );
    assert!(body.contains(&first), "the first broken link is named: {body}");
    assert_eq!(
        body.matches("<span class=\"badge overdue\">broken</span>").count(),
        1,
        "{body}"
    );
    assert!(body.contains("ok ("), "the intact chains say so: {body}");

    // The verification is audited with what it found.
    let verifications = platform_entries(&app, "console.audit_verified").await?;
    assert_eq!(verifications.len(), 2);
    let (kind, _, _, metadata) = &verifications[1];
    assert_eq!(kind, "STAFF");
    assert_eq!(metadata["broken"], 1);
    assert_eq!(
        metadata["firstBroken"],
        json!({ "chain": chain, "sequence": 2, "id": second })
    );
    Ok(())
});

backend_tests!(
    pages_of_a_search_neither_repeat_nor_skip_entries_of_the_same_microsecond,
    |app| {
        use tgos_domain::audit::ports::AuditRepository as _;
        use tgos_domain::audit::{Actor, AuditCursor, AuditDraft, AuditSearch, ChainId, append};
        use tgos_domain::store::Store as _;

        // Five entries at one instant, and two a second earlier: only the id orders the first five.
        let store = app.console_store().await?;
        let instant = chrono::Utc::now();
        let mut written = Vec::new();
        let tx = store.begin().await?;
        for at in [
            instant,
            instant,
            instant,
            instant,
            instant,
            instant - chrono::Duration::seconds(1),
            instant - chrono::Duration::seconds(1),
        ] {
            let draft = AuditDraft {
                chain: ChainId::Platform,
                actor: Actor::system(),
                action: "test.tick",
                target_type: None,
                target_id: None,
                client: tgos_domain::request::ClientInfo::default(),
                metadata: json!({}),
            };
            written.push(append(&*tx, draft, at).await?);
        }
        tx.commit().await?;
        written.sort_by_key(|entry| std::cmp::Reverse((entry.at, entry.id.as_uuid())));
        let expected: Vec<String> = written.iter().map(|entry| entry.id.to_string()).collect();

        let mut search = AuditSearch {
            action: Some("test.tick".to_owned()),
            ..AuditSearch::everything()
        };
        let mut paged = Vec::new();
        loop {
            let page = store.search_audit(&search, 2).await?;
            paged.extend(page.iter().map(|entry| entry.id.to_string()));
            let Some(last) = page.last().filter(|_| page.len() == 2) else {
                break;
            };
            search = search.older_than(AuditCursor::after(last));
        }
        assert_eq!(paged, expected, "newest first, the id deciding within one microsecond");
        Ok(())
    }
);
