//! The register's rows: a registration checked and each reference registered once; nothing changed or
//! deleted even by hand, on both databases (the triggers); the order and the two people held against
//! hand-written rows too; on PostgreSQL, the register seen and written only behind no wall.

use chrono::Utc;
use sea_orm::{ConnectionTrait as _, DatabaseBackend, Statement, TransactionTrait as _};
use tgos_domain::DomainError;
use tgos_domain::compliance::lawful::{Category, LawfulRequest, LawfulRequests};
use tgos_domain::ids::UserId;
use tgos_domain::paging::PageRequest;
use tgos_tests::{TestApp, backend_tests, postgres_tests};

use super::{console, execute, register, registration, staff, user_id};

backend_tests!(a_registration_is_checked_and_each_reference_registered_once, |app| {
    let lawful = register(&app)?;
    let registrar = staff("registrar");
    let ada = user_id(&app, &app.sign_up("ada").await?).await?;
    let workspace_only = registration(vec![ada], vec![], vec![Category::Messages]);
    let refused = lawful.register(&registrar, &console("desk"), workspace_only).await;
    assert!(
        matches!(&refused, Err(DomainError::Invalid(fields)) if fields[0].field == "categories"),
        "{refused:?}"
    );
    let request = registration(vec![ada], vec![], vec![Category::Profile]);
    lawful.register(&registrar, &console("desk"), request.clone()).await?;
    let again = lawful.register(&registrar, &console("desk"), request).await;
    assert!(
        matches!(&again, Err(DomainError::Conflict { field: Some(field), .. }) if field == "reference"),
        "{again:?}"
    );
    assert_eq!(lawful.list(&registrar, PageRequest::first(10)).await?.items.len(), 1);
    Ok(())
});

/// Registers, approves and packages a request naming `user`; the request as stored.
async fn packaged(app: &TestApp, user: UserId) -> anyhow::Result<(LawfulRequests, LawfulRequest)> {
    let lawful = register(app)?;
    let (registrar, approver) = (staff("registrar"), staff("approver"));
    let request = registration(vec![user], vec![], vec![Category::Profile]);
    let registered = lawful.register(&registrar, &console("desk"), request).await?;
    lawful.approve(&approver, &console("desk"), registered.id).await?;
    let packaged = lawful
        .build_package(&registrar, &console("desk"), registered.id)
        .await?;
    Ok((lawful, packaged))
}

backend_tests!(the_register_cannot_be_changed_or_deleted_even_by_hand, |app| {
    let ada = user_id(&app, &app.sign_up("ada").await?).await?;
    let (lawful, before) = packaged(&app, ada).await?;
    let id = before.id.as_uuid();
    let registrar = before.registered_by.as_uuid();
    let db = app.db().await?;
    let backend = db.get_database_backend();
    let mut edits = vec![
        "UPDATE lawful_requests SET reference = 'changed'".to_owned(),
        "UPDATE lawful_requests SET scope_users = '[]'".to_owned(),
        "DELETE FROM lawful_requests".to_owned(),
        "UPDATE lawful_request_events SET package_sha256 = 'forged'".to_owned(),
        "DELETE FROM lawful_request_events WHERE step = 'PACKAGED'".to_owned(),
    ];
    if backend == DatabaseBackend::Postgres {
        edits.push("TRUNCATE lawful_request_events".to_owned());
        edits.push("TRUNCATE lawful_requests CASCADE".to_owned());
    }
    for edit in &edits {
        let Err(refused) = db.execute_unprepared(edit).await else {
            anyhow::bail!("the register accepted: {edit}");
        };
        assert!(refused.to_string().contains("append-only"), "{edit}: {refused}");
    }

    // The order and the two people hold against hand-written rows too.
    let fresh = uuid::Uuid::now_v7();
    execute(
        &app,
        "INSERT INTO lawful_requests (id, authority, reference, legal_basis, received_on, due_on, scope_users, \
         scope_workspaces, scope_categories, period_from, period_to, registered_by, registered_at) \
         SELECT $1, authority, 'by hand', legal_basis, received_on, due_on, scope_users, scope_workspaces, \
         scope_categories, period_from, period_to, registered_by, registered_at FROM lawful_requests WHERE id = $2",
        vec![fresh.into(), id.into()],
    )
    .await?;
    let step = |kind: &str, staff: uuid::Uuid| {
        let extra = if kind == "PACKAGED" {
            "'x.zip', 1, 'ab'"
        } else {
            "NULL, NULL, NULL"
        };
        (
            format!(
                "INSERT INTO lawful_request_events (id, request_id, step, staff_id, at, package_file, package_bytes, \
                 package_sha256) VALUES ($1, $2, '{kind}', $3, $4, {extra})"
            ),
            vec![
                uuid::Uuid::now_v7().into(),
                fresh.into(),
                staff.into(),
                Utc::now().into(),
            ],
        )
    };
    for (kind, staff, refusal) in [
        ("APPROVED", registrar, "never its registrar"),
        ("PACKAGED", uuid::Uuid::now_v7(), "only after its approval"),
        ("DELIVERED", uuid::Uuid::now_v7(), "only after its package"),
    ] {
        let (sql, values) = step(kind, staff);
        let Err(refused) = execute(&app, &sql, values).await else {
            anyhow::bail!("a {kind} step out of order was stored");
        };
        assert!(format!("{refused:#}").contains(refusal), "{kind}: {refused:#}");
    }
    let approver = uuid::Uuid::now_v7();
    let (sql, values) = step("APPROVED", approver);
    execute(&app, &sql, values).await?;
    let (sql, values) = step("APPROVED", uuid::Uuid::now_v7());
    assert!(execute(&app, &sql, values).await.is_err(), "a second approval");

    assert_eq!(
        lawful.get(&staff("reader"), before.id).await?,
        before,
        "nothing changed"
    );
    Ok(())
});

postgres_tests!(the_register_is_seen_and_written_only_behind_no_wall, |app| {
    let ada = user_id(&app, &app.sign_up("ada").await?).await?;
    let (_, request) = packaged(&app, ada).await?;
    let server = app.server_pool().await?;
    let count = async |sql: &str| -> anyhow::Result<i64> {
        let row = server
            .query_one_raw(Statement::from_string(DatabaseBackend::Postgres, sql.to_owned()))
            .await?
            .ok_or_else(|| anyhow::anyhow!("no row"))?;
        Ok(row.try_get_by_index::<i64>(0)?)
    };
    let insert = |reference: &str| {
        format!(
            "INSERT INTO lawful_requests (id, authority, reference, legal_basis, received_on, due_on, scope_users, \
             scope_workspaces, scope_categories, period_from, period_to, registered_by, registered_at) VALUES \
             ('{}', 'Court', '{reference}', 'order', '2026-01-01', '2026-01-02', '[]', '[]', '[\"AUDIT\"]', \
             '2025-01-01T00:00:00Z', '2026-01-01T00:00:00Z', '{}', now())",
            uuid::Uuid::now_v7(),
            request.registered_by
        )
    };
    let seen = "SELECT (SELECT count(*) FROM lawful_requests) + (SELECT count(*) FROM lawful_request_events)";
    assert_eq!(count(seen).await?, 3, "the registration, its approval and its package");
    for wall in ["workspace_id", "user_id", "sweep"] {
        let value = if wall == "sweep" {
            "retention".to_owned()
        } else {
            ada.to_string()
        };
        let tx = server.begin().await?;
        tx.execute_unprepared(&format!("SELECT set_config('tgos.{wall}', '{value}', true)"))
            .await?;
        let row = tx
            .query_one_raw(Statement::from_string(DatabaseBackend::Postgres, seen.to_owned()))
            .await?
            .ok_or_else(|| anyhow::anyhow!("no row"))?;
        assert_eq!(row.try_get_by_index::<i64>(0)?, 0, "rows seen behind {wall}");
        // A registration of its own (a new reference): only the policy stands in the way.
        let Err(refused) = tx.execute_unprepared(&insert(wall)).await else {
            anyhow::bail!("a registration was written behind {wall}");
        };
        assert!(refused.to_string().contains("row-level security"), "{wall}: {refused}");
        tx.rollback().await?;
    }
    let tx = server.begin().await?;
    tx.execute_unprepared(&insert("behind no wall")).await?;
    tx.rollback().await?;
    Ok(())
});
