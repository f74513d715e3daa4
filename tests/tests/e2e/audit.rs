use sea_orm::{ConnectionTrait as _, DatabaseBackend};
use serde_json::json;
use tgos_domain::audit::verify::verify_chains;
use tgos_tests::backend_tests;

backend_tests!(concurrent_changes_extend_one_unforked_chain, |app| {
    let owner = app.sign_up("olive").await?;
    let workspace = app.create_workspace(&owner, "Busy").await?;
    let invite = "mutation($w: ID!, $e: String!) { inviteMember(workspaceId: $w, email: $e, role: VIEWER) { id } }";
    let calls: Vec<_> = (0..20)
        .map(|i| {
            let app = app.clone();
            let owner = owner.clone();
            let workspace = workspace.clone();
            tokio::spawn(async move {
                app.gql(
                    Some(&owner),
                    invite,
                    json!({ "w": workspace, "e": format!("guest{i}@example.com") }),
                )
                .await
            })
        })
        .collect();
    for call in calls {
        let response = call.await??;
        assert!(response.is_ok(), "{:?}", response.body);
    }
    let reports = verify_chains(&app.console_store().await?, None).await?;
    let chain = reports
        .iter()
        .find(|r| r.chain == format!("workspace:{workspace}"))
        .ok_or_else(|| anyhow::anyhow!("workspace chain missing: {reports:?}"))?;
    assert_eq!(
        chain.verdict,
        Ok(21),
        "workspace.created and twenty invitations, in one line"
    );
    assert!(reports.iter().all(|r| r.verdict.is_ok()), "{reports:?}");
    Ok(())
});

backend_tests!(audit_entries_cannot_be_rewritten_unnoticed, |app| {
    let owner = app.sign_up("olive").await?;
    app.create_workspace(&owner, "Ledger").await?;
    let db = app.db().await?;
    let update = db
        .execute_unprepared("UPDATE audit_log SET actor_name = 'someone else'")
        .await;
    if db.get_database_backend() == DatabaseBackend::Postgres {
        assert!(update.is_err(), "the append-only trigger refuses updates");
        assert!(
            db.execute_unprepared("DELETE FROM audit_log").await.is_err(),
            "and deletes"
        );
        assert!(
            verify_chains(&app.console_store().await?, None)
                .await?
                .iter()
                .all(|r| r.verdict.is_ok())
        );
    } else {
        update?;
        let reports = verify_chains(&app.console_store().await?, None).await?;
        assert!(!reports.is_empty());
        assert!(
            reports.iter().all(|r| r.verdict.is_err()),
            "every edited chain is caught: {reports:?}"
        );
    }
    Ok(())
});

backend_tests!(sign_ins_and_failures_are_audited_on_the_account_chain, |app| {
    app.sign_up("ada").await?;
    app.sign_in("ada", "wrong password!!").await?;
    app.sign_in("ada", tgos_tests::app::PASSWORD).await?;
    app.sign_in("nobody_here", "wrong password!!").await?;
    let db = app.db().await?;
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT chain, action, metadata FROM audit_log ORDER BY chain, sequence",
        ))
        .await?;
    let mut seen = Vec::new();
    for row in rows {
        let chain: String = row.try_get("", "chain")?;
        let action: String = row.try_get("", "action")?;
        let metadata: String = row.try_get("", "metadata")?;
        assert!(!metadata.contains("wrong password"), "no secret in the audit log");
        assert!(
            !metadata.contains("nobody_here"),
            "unknown logins are not recorded: they may be passwords"
        );
        seen.push((chain.split(':').next().unwrap_or_default().to_owned(), action));
    }
    let expected: Vec<(String, String)> = [
        ("platform", "auth.sign_in_failed"),
        ("user", "account.created"),
        ("user", "auth.sign_in_failed"),
        ("user", "auth.signed_in"),
    ]
    .into_iter()
    .map(|(c, a)| (c.to_owned(), a.to_owned()))
    .collect();
    assert_eq!(seen, expected);
    Ok(())
});
