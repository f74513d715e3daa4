//! Pseudonymizing an erased person in the audit log: no trace of their id, email, username, name or
//! address on any chain or chain head, every chain still verifies, and on PostgreSQL the append-only trigger
//! still refuses every other change.

use sea_orm::{ConnectionTrait as _, DatabaseBackend, Statement};
use serde_json::json;
use tgos_domain::audit::verify::verify_chains;
use tgos_domain::audit::{ErasureSubject, pseudonymize_subject};
use tgos_domain::ids::UserId;
use tgos_tests::{TestApp, TestOptions, backend_tests};

const GRACE_IP: &str = "198.51.100.23";

fn behind_a_proxy() -> TestOptions {
    TestOptions {
        trusted_proxies: vec!["127.0.0.1/32"],
        ..TestOptions::default()
    }
}

/// Signs in as grace from [`GRACE_IP`], with `password`.
async fn sign_in_from_afar(app: &TestApp, password: &str) -> anyhow::Result<()> {
    app.http()
        .post(app.url("/graphql"))
        .header("x-forwarded-for", GRACE_IP)
        .header("user-agent", "GraceBrowser/1.0")
        .json(&json!({
            "query": "mutation($input: SignInInput!) { signIn(input: $input) { session { token } } }",
            "variables": { "input": { "login": "grace", "password": password } },
        }))
        .send()
        .await?;
    Ok(())
}

/// Every audit row and chain head as lower-case text.
async fn audit_text(app: &TestApp) -> anyhow::Result<Vec<String>> {
    let db = app.db().await?;
    let backend = db.get_database_backend();
    let mut texts = Vec::new();
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT chain, actor_id, actor_name, target_id, ip_address, user_agent, metadata FROM audit_log",
        ))
        .await?;
    for row in rows {
        let mut text = String::new();
        for column in [
            "chain",
            "actor_id",
            "actor_name",
            "target_id",
            "ip_address",
            "user_agent",
            "metadata",
        ] {
            text.push_str(&row.try_get::<Option<String>>("", column)?.unwrap_or_default());
            text.push('|');
        }
        texts.push(text.to_lowercase());
    }
    let heads = db
        .query_all_raw(Statement::from_string(backend, "SELECT chain FROM audit_chain_heads"))
        .await?;
    for head in heads {
        texts.push(head.try_get::<String>("", "chain")?.to_lowercase());
    }
    Ok(texts)
}

backend_tests!(
    a_pseudonymized_person_leaves_no_trace_in_the_audit_log_and_every_chain_verifies,
    options = behind_a_proxy(),
    |app| {
        let owner = app.sign_up("olive").await?;
        let workspace = app.create_workspace(&owner, "Shared").await?;
        let (_, grace) = app.join(&owner, &workspace, "grace", "OPERATOR").await?;
        let changed = app
            .gql(
                Some(&owner),
                "mutation($w: ID!, $u: ID!) { changeMemberRole(workspaceId: $w, userId: $u, role: VIEWER) { role } }",
                json!({ "w": workspace, "u": grace }),
            )
            .await?;
        assert!(changed.is_ok(), "{}", changed.body);
        sign_in_from_afar(&app, tgos_tests::app::PASSWORD).await?;
        sign_in_from_afar(&app, "not grace's password").await?;
        // Her full name is never logged; the rest is, and must go.
        let needles = [
            grace.clone(),
            "grace@example.com".to_owned(),
            GRACE_IP.to_owned(),
            "gracebrowser".to_owned(),
        ];
        let before = audit_text(&app).await?;
        for needle in &needles {
            assert!(
                before.iter().any(|t| t.contains(needle.as_str())),
                "{needle} is in the log before"
            );
        }

        let subject = ErasureSubject {
            user_id: UserId::from_uuid(grace.parse()?),
            email: "grace@example.com".to_owned(),
            username: "grace".to_owned(),
            full_name: "grace Example".to_owned(),
        };
        let tx = app.store.begin().await?;
        let report = pseudonymize_subject(&*tx, &subject, chrono::Utc::now()).await?;
        tx.commit().await?;
        assert!(report.entries >= 6, "{report:?}");

        let after = audit_text(&app).await?;
        for text in &after {
            // "grace" covers her username, email and full name ("grace Example").
            assert!(!text.contains("grace"), "a trace of grace: {text}");
            assert!(!text.contains(&grace), "her id: {text}");
            assert!(!text.contains(GRACE_IP), "grace's address: {text}");
        }
        let pseudonym = report.pseudonym.as_str();
        assert!(
            after.iter().any(|t| t.starts_with(&format!("user:{pseudonym}"))),
            "her chain is renamed"
        );
        assert!(
            after
                .iter()
                .any(|t| t.starts_with("workspace:") && t.contains(pseudonym)),
            "the workspace's entries about her name the pseudonym"
        );
        assert!(
            after.iter().any(|t| t.contains("127.0.0.1")),
            "other people's entries keep their address"
        );

        let reports = verify_chains(&app.console_store().await?, None).await?;
        assert!(reports.iter().all(|r| r.verdict.is_ok()), "{reports:?}");
        assert!(
            reports.iter().any(|r| r.chain == format!("user:{pseudonym}")),
            "{reports:?}"
        );

        let db = app.db().await?;
        if db.get_database_backend() == DatabaseBackend::Postgres {
            for forbidden in [
                format!("UPDATE audit_log SET action = 'forged' WHERE chain = 'workspace:{workspace}'"),
                format!("UPDATE audit_log SET action = 'forged' WHERE chain = 'user:{pseudonym}'"),
                format!("UPDATE audit_log SET hash = prev_hash WHERE chain = 'user:{pseudonym}'"),
                // A personal field changed without marking the entry redacted.
                "UPDATE audit_log SET ip_address = NULL WHERE action = 'workspace.created'".to_owned(),
                format!(
                    "UPDATE audit_log SET at = at + interval '1 day', salt = NULL, redacted_at = now() WHERE chain = 'workspace:{workspace}'"
                ),
                format!("DELETE FROM audit_log WHERE chain = 'workspace:{workspace}'"),
                format!("DELETE FROM audit_log WHERE chain = 'user:{pseudonym}'"),
            ] {
                let refused = db.execute_unprepared(&forbidden).await;
                assert!(refused.is_err(), "the trigger let through: {forbidden}");
            }
            let reports = verify_chains(&app.console_store().await?, None).await?;
            assert!(reports.iter().all(|r| r.verdict.is_ok()), "{reports:?}");
        }
        Ok(())
    }
);
