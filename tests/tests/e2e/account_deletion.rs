//! Closing an account, taking it back, and the erasure 30 days on that leaves nothing of the person in any
//! table, while the ledger still balances and every audit chain still verifies.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ConnectionTrait as _, DatabaseBackend, Statement};
use serde_json::{Value, json};
use tgos_domain::erasure::{AccountErasureJob, WorkspaceErasureJob};
use tgos_domain::jobs::JobWorker;
use tgos_tests::clock::ManualClock;
use tgos_tests::gql::GqlResponse;
use tgos_tests::live::{Frame, INBOX_EVENTS, Subscriber};
use tgos_tests::{TestApp, TestOptions, backend_tests};

const DELETE: &str = "mutation { requestAccountDeletion { id kind status dueAt } }";
const CANCEL: &str = "mutation { cancelAccountDeletion { kind status resolution } }";
const ME: &str =
    "{ me { user { username } pendingDeletion { closedAt erasedAt } dataSubjectRequests { kind status } } }";
const REMOVE: &str = "mutation($w: ID!, $u: ID!) { removeMember(workspaceId: $w, userId: $u) }";
const WORKSPACE: &str = "query($w: ID!) { workspace(id: $w) { name } }";
/// The address the erased person's requests come from (through a trusted proxy).
const ADDRESS: &str = "198.51.100.77";

async fn user_id(app: &TestApp, token: &str) -> anyhow::Result<String> {
    app.gql(Some(token), "{ me { user { id } } }", json!({}))
        .await?
        .str_at("/data/me/user/id")
}

backend_tests!(
    closing_an_account_signs_out_everywhere_restricts_the_session_and_cancelling_restores_it,
    |app| {
        let ada = app.sign_up("ada").await?;
        let elsewhere = app
            .sign_in("ada", tgos_tests::app::PASSWORD)
            .await?
            .str_at("/data/signIn/session/token")?;
        let solo = app.create_workspace(&ada, "Solo").await?;
        let team = app.create_workspace(&ada, "Team").await?;
        let (_, bob) = app.join(&ada, &team, "bob", "VIEWER").await?;
        let key = app.create_audit_key(&ada, &solo).await?;

        let unconfirmed = app.gql(Some(&ada), DELETE, json!({})).await?;
        assert_eq!(unconfirmed.code().as_deref(), Some("REAUTHENTICATION_REQUIRED"));
        app.reauthenticate(&ada, None).await?;
        let shared = app.gql(Some(&ada), DELETE, json!({})).await?;
        assert_eq!(shared.code().as_deref(), Some("CONFLICT"), "{:?}", shared.body);
        assert_eq!(shared.str_at("/errors/0/extensions/field")?, "account");
        assert!(
            shared.str_at("/errors/0/message")?.contains("Team"),
            "names the workspace"
        );

        assert!(
            app.gql(Some(&ada), REMOVE, json!({ "w": team, "u": bob }))
                .await?
                .is_ok()
        );
        let closed = app.gql(Some(&ada), DELETE, json!({})).await?;
        assert_eq!(
            closed.str_at("/data/requestAccountDeletion/kind")?,
            "DELETION",
            "{:?}",
            closed.body
        );
        assert_eq!(closed.str_at("/data/requestAccountDeletion/status")?, "IN_PROGRESS");

        // Other sessions and the keys are gone at once; this session sees and cancels, nothing more.
        let other = app.gql(Some(&elsewhere), ME, json!({})).await?;
        assert_eq!(other.code().as_deref(), Some("UNAUTHENTICATED"));
        let by_key = app.gql(Some(&key), WORKSPACE, json!({ "w": solo })).await?;
        assert_eq!(by_key.code().as_deref(), Some("UNAUTHENTICATED"));
        let me = app.gql(Some(&ada), ME, json!({})).await?;
        let closed_at: chrono::DateTime<chrono::Utc> = me.str_at("/data/me/pendingDeletion/closedAt")?.parse()?;
        let erased_at: chrono::DateTime<chrono::Utc> = me.str_at("/data/me/pendingDeletion/erasedAt")?.parse()?;
        assert_eq!(erased_at - closed_at, chrono::Duration::days(30));
        let refused = app
            .gql(
                Some(&ada),
                "mutation { createWorkspace(name: \"x\") { id } }",
                json!({}),
            )
            .await?;
        assert_eq!(refused.code().as_deref(), Some("FORBIDDEN"), "{:?}", refused.body);
        let solo_refused = app.gql(Some(&ada), WORKSPACE, json!({ "w": solo })).await?;
        assert_eq!(solo_refused.code().as_deref(), Some("FORBIDDEN"));
        let again = app
            .sign_in("ada", tgos_tests::app::PASSWORD)
            .await?
            .str_at("/data/signIn/session/token")?;
        let restricted = app.gql(Some(&again), WORKSPACE, json!({ "w": team })).await?;
        assert_eq!(
            restricted.code().as_deref(),
            Some("FORBIDDEN"),
            "a new sign-in is restricted too"
        );

        let cancelled = app.gql(Some(&again), CANCEL, json!({})).await?;
        assert_eq!(
            cancelled.str_at("/data/cancelAccountDeletion/status")?,
            "REJECTED",
            "{:?}",
            cancelled.body
        );
        assert!(
            cancelled
                .str_at("/data/cancelAccountDeletion/resolution")?
                .contains("withdrawn")
        );
        let me = app.gql(Some(&ada), ME, json!({})).await?;
        assert_eq!(me.body.pointer("/data/me/pendingDeletion"), Some(&Value::Null));
        let back = app.gql(Some(&ada), WORKSPACE, json!({ "w": solo })).await?;
        assert_eq!(
            back.str_at("/data/workspace/name")?,
            "Solo",
            "the workspace that closed with it is back"
        );
        let twice = app.gql(Some(&ada), CANCEL, json!({})).await?;
        assert_eq!(twice.code().as_deref(), Some("CONFLICT"));
        Ok(())
    }
);

/// A request as the erased person's client sends it: from [`ADDRESS`], with its own user agent.
async fn as_person(app: &TestApp, token: Option<&str>, query: &str, variables: Value) -> anyhow::Result<GqlResponse> {
    let mut request = app
        .http()
        .post(app.url("/graphql"))
        .header("x-forwarded-for", ADDRESS)
        .header("user-agent", "ErasedBrowser/9.9")
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    GqlResponse::read(request.send().await?).await
}

/// Every row of every table as lower-case text (PostgreSQL: the row's text form; SQLite: each column
/// quoted, blobs as hex).
async fn every_row(app: &TestApp) -> anyhow::Result<Vec<(String, String)>> {
    let db = app.db().await?;
    let backend = db.get_database_backend();
    let tables_sql = match backend {
        DatabaseBackend::Postgres => {
            "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = current_schema() \
             AND table_type = 'BASE TABLE'"
        }
        _ => "SELECT name AS t FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    };
    let tables: Vec<String> = db
        .query_all_raw(Statement::from_string(backend, tables_sql))
        .await?
        .iter()
        .map(|row| row.try_get::<String>("", "t"))
        .collect::<Result<_, _>>()?;
    let mut rows = Vec::new();
    for table in tables {
        let sql = match backend {
            DatabaseBackend::Postgres => format!("SELECT lower(x::text) AS r FROM \"{table}\" x"),
            _ => {
                let columns: Vec<String> = db
                    .query_all_raw(Statement::from_string(
                        backend,
                        format!("SELECT name AS c FROM pragma_table_info('{table}')"),
                    ))
                    .await?
                    .iter()
                    .map(|row| row.try_get::<String>("", "c"))
                    .collect::<Result<_, _>>()?;
                let quoted: Vec<String> = columns.iter().map(|c| format!("quote(\"{c}\")")).collect();
                format!("SELECT lower({}) AS r FROM \"{table}\"", quoted.join(" || '|' || "))
            }
        };
        for row in db.query_all_raw(Statement::from_string(backend, sql)).await? {
            rows.push((table.clone(), row.try_get::<String>("", "r")?));
        }
    }
    Ok(rows)
}

/// The erasure jobs on a clock the test moves.
fn erasure_on(app: &TestApp, clock: Arc<ManualClock>) -> JobWorker {
    let erasure = app.erasure_on(clock.clone());
    JobWorker::new(Arc::clone(&app.store), clock, "erasure")
        .with_handler(Arc::new(WorkspaceErasureJob::new(erasure.clone())))
        .with_handler(Arc::new(AccountErasureJob::new(erasure)))
}

backend_tests!(
    an_erased_account_leaves_nothing_of_the_person_in_any_table_and_the_ledger_and_audit_still_hold,
    options = TestOptions {
        trusted_proxies: vec!["127.0.0.1/32", "::1/128"],
        ..TestOptions::default()
    },
    |app| {
        // The person, with a footprint in every corner: their own workspace (a top-up, a key, an invitation),
        // a membership of someone else's, an export asked for, sessions from their own address.
        app.sign_up("zelda").await?;
        app.verify_email_of("zelda").await?;
        let zelda = as_person(
            &app,
            None,
            "mutation { signIn(input: { login: \"zelda\", password: \"correct horse battery staple\" }) { session { token } } }",
            json!({}),
        )
        .await?
        .str_at("/data/signIn/session/token")?;
        let id = user_id(&app, &zelda).await?;
        let own = as_person(
            &app,
            Some(&zelda),
            "mutation { createWorkspace(name: \"Zelda's\") { id } }",
            json!({}),
        )
        .await?
        .str_at("/data/createWorkspace/id")?;
        crate::stripe::start_stripe_top_up(&app, &zelda, &own, 1500).await?;
        as_person(
            &app,
            Some(&zelda),
            "mutation($w: ID!) { createApiKey(workspaceId: $w, name: \"zelda-key\", scopes: [AUDIT_READ]) { id } }",
            json!({ "w": own }),
        )
        .await?;
        as_person(
            &app,
            Some(&zelda),
            "mutation($w: ID!) { inviteMember(workspaceId: $w, email: \"friend@example.com\", role: VIEWER) { id } }",
            json!({ "w": own }),
        )
        .await?;
        let kept = app.sign_up("keeper").await?;
        let shared = app.create_workspace(&kept, "Keeper's").await?;
        let invited = app
            .gql(
                Some(&kept),
                "mutation($w: ID!) { inviteMember(workspaceId: $w, email: \"zelda@example.com\", role: OPERATOR) { id } }",
                json!({ "w": shared }),
            )
            .await?;
        assert!(invited.is_ok(), "{:?}", invited.body);
        let token = app.invitation_token_for("zelda@example.com")?;
        let joined = as_person(
            &app,
            Some(&zelda),
            "mutation($t: String!) { acceptInvitation(token: $t) { id } }",
            json!({ "t": token }),
        )
        .await?;
        assert!(joined.is_ok(), "{:?}", joined.body);
        as_person(&app, Some(&zelda), "mutation { requestDataExport { id } }", json!({})).await?;
        let reauth = as_person(
            &app,
            Some(&zelda),
            "mutation { reauthenticate(password: \"correct horse battery staple\") }",
            json!({}),
        )
        .await?;
        assert!(reauth.is_ok(), "{:?}", reauth.body);
        // Ownership of a workspace with members goes first; Keeper's is someone else's, so this closes.
        let closed = as_person(&app, Some(&zelda), DELETE, json!({})).await?;
        assert!(closed.is_ok(), "{:?}", closed.body);
        app.send_notices_now().await?;

        let needles = [
            id.clone(),
            id.replace('-', ""),
            "zelda@example.com".to_owned(),
            "zelda".to_owned(),
            "zelda example".to_owned(),
            ADDRESS.to_owned(),
            "erasedbrowser".to_owned(),
        ];
        let before: Vec<_> = every_row(&app).await?;
        assert!(
            before
                .iter()
                .any(|(_, row)| row.contains(&needles[0]) || row.contains(&needles[1])),
            "the walk finds the person before the erasure (or it could find nothing after)"
        );

        let clock = ManualClock::starting_now();
        let worker = erasure_on(&app, clock.clone());
        clock.advance(chrono::Duration::days(29));
        while worker.run_once().await? > 0 {}
        assert!(
            every_row(&app)
                .await?
                .iter()
                .any(|(_, row)| row.contains("zelda@example.com")),
            "nothing is erased before 30 days"
        );
        clock.advance(chrono::Duration::days(2));
        while worker.run_once().await? > 0 {}

        let left: Vec<_> = every_row(&app)
            .await?
            .into_iter()
            .filter(|(_, row)| needles.iter().any(|needle| row.contains(needle.as_str())))
            .collect();
        assert!(left.is_empty(), "the person is still in: {left:#?}");

        let reports = tgos_domain::audit::verify::verify_chains(&app.console_store().await?, None).await?;
        assert!(reports.iter().all(|report| report.verdict.is_ok()), "{reports:?}");
        assert!(
            reports.iter().any(|report| report.chain.starts_with("user:erased-")),
            "{reports:?}"
        );
        let workspace = tgos_domain::ids::WorkspaceId::from_uuid(shared.parse()?);
        let ledger = app.billing_check(workspace).await?;
        assert_eq!(ledger.postings_sum, 0, "{ledger:?}");
        assert_eq!(ledger.wallet_postings_sum, ledger.wallet_balance, "{ledger:?}");
        let signed_in = app.sign_in("zelda", tgos_tests::app::PASSWORD).await?;
        assert!(!signed_in.is_ok(), "the account is gone");
        Ok(())
    }
);

backend_tests!(a_closed_account_follows_nothing_live, |app| {
    let bob = app.sign_up("bob").await?;
    let team = app.create_workspace(&bob, "Bob's").await?;
    let (ada, _) = app.join(&bob, &team, "ada", "VIEWER").await?;
    let mut open = Subscriber::start(app.addr, &ada, INBOX_EVENTS, json!({ "w": team, "after": 0 }), None).await?;
    open.expect_nothing(Duration::from_millis(300)).await?;
    app.reauthenticate(&ada, None).await?;
    let closed = app.gql(Some(&ada), DELETE, json!({})).await?;
    assert!(closed.is_ok(), "{:?}", closed.body);
    let mut refused = Subscriber::start(app.addr, &ada, INBOX_EVENTS, json!({ "w": team, "after": 0 }), None).await?;
    match refused.frame(Duration::from_secs(5)).await? {
        Frame::Errors(errors) => {
            assert_eq!(errors[0]["extensions"]["code"], json!("FORBIDDEN"), "{errors:?}");
        }
        other => anyhow::bail!("a closed account subscribed: {other:?}"),
    }
    Ok(())
});
