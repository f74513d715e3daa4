//! The PostgreSQL second wall: the server's role cannot bypass row-level security, and a query sees tenant
//! rows only behind a transaction-local tenant setting that never outlives its transaction.

use sea_orm::{ConnectionTrait as _, DatabaseBackend, DatabaseConnection, Statement, TransactionTrait as _};
use serde_json::json;
use tgos_tests::{TestApp, postgres_tests};

/// Every table whose rows belong to a workspace, and the filter that picks a workspace's rows in it.
const TENANT_TABLES: &[(&str, &str)] = &[
    ("workspaces", "id IS NOT NULL"),
    ("memberships", "workspace_id IS NOT NULL"),
    ("invitations", "workspace_id IS NOT NULL"),
    ("api_keys", "workspace_id IS NOT NULL"),
    ("audit_log", "workspace_id IS NOT NULL"),
    ("audit_chain_heads", "chain LIKE 'workspace:%'"),
];

async fn count(db: &impl sea_orm::ConnectionTrait, sql: &str) -> anyhow::Result<i64> {
    let row = db
        .query_one_raw(Statement::from_string(DatabaseBackend::Postgres, sql.to_owned()))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no row from {sql}"))?;
    Ok(row.try_get_by_index::<i64>(0)?)
}

async fn text(db: &impl sea_orm::ConnectionTrait, sql: &str) -> anyhow::Result<Option<String>> {
    let row = db
        .query_one_raw(Statement::from_string(DatabaseBackend::Postgres, sql.to_owned()))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no row from {sql}"))?;
    Ok(row.try_get_by_index::<Option<String>>(0)?)
}

async fn set_tenant(db: &impl sea_orm::ConnectionTrait, workspace: &str) -> anyhow::Result<()> {
    db.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "SELECT set_config('tgos.workspace_id', $1, true)",
        [workspace.into()],
    ))
    .await?;
    Ok(())
}

/// Tables with forced row-level security: the tenant tables above, billing's (exercised by the billing tests
/// through the same walls), the account pool's (below), the inbox's (exercised by the inbox tests), and the
/// payment matching records.
const WALLED_TABLES: usize = TENANT_TABLES.len()
    + [
        "top_ups",
        "ledger_transactions",
        "ledger_postings",
        "wallet_balances",
        "telegram_accounts",
        "leases",
        "inbox_dialogs",
        "inbox_dialog_tags",
        "inbox_messages",
        "inbox_sync",
        "event_sequences",
        "outbox_events",
        "account_health",
        "account_counters",
        "account_counter_peers",
        // Platform records naming a workspace: visible only behind no tenant's wall (payment matching tests).
        "payment_discrepancies",
        "payment_references",
        // Two-person approvals of staff actions: the console and the retention sweep, behind no wall.
        "staff_approvals",
        // Jobs: the workers' sweep wall and each workspace's own (the jobs tests).
        "jobs",
        // Automations: the workspace's wall, the scheduler's and the retention sweep's (the automations tests).
        "automations",
        "automation_triggers",
        "automation_executions",
        "automation_sends",
        // The lawful requests register: platform data behind no wall at all (the lawful_requests tests).
        "lawful_requests",
        "lawful_request_events",
        // Leader leases: no workspace's rows, but only the `leadership` sweep wall takes or drops one (the
        // leadership tests).
        "leader_leases",
    ]
    .len();

/// The only tables without row-level security: they hold no workspace's rows (people, their sign-in state,
/// the vault's wrapped keys, which process holds an account's connection, the migration log). A table added
/// later is walled or named here, knowingly.
const UNWALLED_TABLES: &[&str] = &[
    "seaql_migrations",
    "users",
    "sessions",
    "sign_in_challenges",
    "backup_codes",
    "auth_throttles",
    "data_keys",
    "account_connections",
    // A person's own data-subject requests (like their sessions): every query names the subject.
    "data_subject_requests",
    // The limits' counts: keys are a limit's name and a hash, no workspace's rows (migration 000030).
    "rate_windows",
];

/// A workspace with a member, a pending invitation, an API key and audit entries: a row in every tenant table.
async fn populated_workspace(app: &TestApp, owner: &str, name: &str) -> anyhow::Result<String> {
    let workspace = app.create_workspace(owner, name).await?;
    let invited = app
        .gql(
            Some(owner),
            "mutation($w: ID!) { inviteMember(workspaceId: $w, email: \"pending@example.com\", role: VIEWER) { id } }",
            json!({ "w": workspace }),
        )
        .await?;
    assert!(invited.is_ok(), "{:?}", invited.body);
    let key = app
        .gql(
            Some(owner),
            "mutation($w: ID!) { createApiKey(workspaceId: $w, name: \"ci\", scopes: [AUDIT_READ]) { secret } }",
            json!({ "w": workspace }),
        )
        .await?;
    assert!(key.is_ok(), "{:?}", key.body);
    Ok(workspace)
}

/// Two accounts on offer; workspace "Renter" (with credit) rents one of them for a day, "Bystander" (same owner)
/// rents nothing.
struct Rented {
    renter: String,
    bystander: String,
    account: String,
    lease: String,
}

async fn rent_one_of_two(app: &TestApp) -> anyhow::Result<Rented> {
    app.stock_pool(2, 500).await?;
    let owner = app.sign_up("olive").await?;
    let renter = app.create_workspace(&owner, "Renter").await?;
    let bystander = app.create_workspace(&owner, "Bystander").await?;
    app.credit_wallet(&owner, &renter, 10_000).await?;
    let offers = app
        .gql(Some(&owner), "{ accountOffers { edges { node { id } } } }", json!({}))
        .await?;
    let account = offers.str_at("/data/accountOffers/edges/0/node/id")?;
    let rented = app
        .gql(
            Some(&owner),
            "mutation($w: ID!, $o: ID!) { rentAccount(workspaceId: $w, offerId: $o, days: 1) { id } }",
            json!({ "w": renter, "o": account }),
        )
        .await?;
    let lease = rented.str_at("/data/rentAccount/id")?;
    Ok(Rented {
        renter,
        bystander,
        account,
        lease,
    })
}

async fn pid(db: &DatabaseConnection) -> anyhow::Result<i64> {
    count(db, "SELECT pg_backend_pid()::bigint").await
}

postgres_tests!(the_server_runs_as_a_role_that_cannot_bypass_row_level_security, |app| {
    let server = app.server_pool().await?;
    let role = text(&server, "SELECT current_user::text").await?;
    assert_eq!(role.as_deref(), Some("tgos_app"));
    let privileged = count(
        &server,
        "SELECT count(*) FROM pg_roles WHERE rolname = current_user AND (rolsuper OR rolbypassrls)",
    )
    .await?;
    assert_eq!(
        privileged, 0,
        "the server's role must not be able to bypass row-level security"
    );
    // The console's check tells the two apart: the owner reads across tenants, the server does not.
    assert!(app.console_store().await?.reads_across_tenants().await?);
    let server_store = tgos_persistence::SeaStore::new(server.clone());
    assert!(!server_store.reads_across_tenants().await?);
    // RESET ROLE returns to the start-up role, not to the login role of the URL.
    server.execute_unprepared("RESET ROLE").await?;
    assert_eq!(
        text(&server, "SELECT current_user::text").await?.as_deref(),
        Some("tgos_app")
    );
    assert!(!server_store.login_role_is_privileged().await?);
    // Every table but the few that hold no workspace's rows has forced row-level security, so a table added
    // later without its policy fails here.
    let owner = app.db().await?;
    let known = UNWALLED_TABLES
        .iter()
        .map(|table| format!("'{table}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let unwalled = text(
        &owner,
        &format!(
            "SELECT string_agg(c.relname, ', ') FROM pg_class c
             WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace
               AND c.relname NOT IN ({known})
               AND NOT (c.relrowsecurity AND c.relforcerowsecurity)"
        ),
    )
    .await?;
    assert_eq!(unwalled, None, "tables without forced row-level security");
    let walled = count(
        &owner,
        "SELECT count(*) FROM pg_class WHERE relrowsecurity AND relforcerowsecurity
         AND relnamespace = current_schema()::regnamespace",
    )
    .await?;
    assert_eq!(walled, WALLED_TABLES as i64);
    // The audit log is append-only for the server: it may update (redaction) and delete (an erased
    // workspace's chain) only what the trigger allows, and an edit of an entry of its own sight is refused.
    app.sign_up("olive").await?;
    let Err(denied) = server
        .execute_unprepared("UPDATE audit_log SET action = 'x' WHERE workspace_id IS NULL")
        .await
    else {
        anyhow::bail!("the server edited the audit log");
    };
    assert!(denied.to_string().contains("append-only"), "{denied}");
    let Err(denied) = server
        .execute_unprepared("DELETE FROM audit_log WHERE workspace_id IS NULL")
        .await
    else {
        anyhow::bail!("the server deleted from the audit log");
    };
    assert!(denied.to_string().contains("append-only"), "{denied}");
    Ok(())
});

postgres_tests!(a_query_with_no_tenant_set_sees_no_tenant_rows, |app| {
    let owner_token = app.sign_up("olive").await?;
    populated_workspace(&app, &owner_token, "Growth").await?;
    let owner = app.db().await?;
    let server = app.server_pool().await?;
    for (table, filter) in TENANT_TABLES {
        let sql = format!("SELECT count(*) FROM {table} WHERE {filter}");
        assert!(count(&owner, &sql).await? > 0, "{table} has rows to hide");
        assert_eq!(count(&server, &sql).await?, 0, "{table} leaked rows with no tenant set");
    }
    // Rows of no tenant stay visible: the account chain of the sign-up.
    assert!(count(&server, "SELECT count(*) FROM audit_log WHERE workspace_id IS NULL").await? > 0);
    Ok(())
});

postgres_tests!(the_tenant_setting_does_not_leak_between_pooled_transactions, |app| {
    let owner_token = app.sign_up("olive").await?;
    let workspace = populated_workspace(&app, &owner_token, "Growth").await?;
    let server = app.server_pool().await?;
    let connection = pid(&server).await?;

    let tx = server.begin().await?;
    set_tenant(&tx, &workspace).await?;
    for (table, filter) in TENANT_TABLES {
        let sql = format!("SELECT count(*) FROM {table} WHERE {filter}");
        assert!(
            count(&tx, &sql).await? > 0,
            "{table} is visible behind its tenant's wall"
        );
    }
    tx.commit().await?;

    // The pool has one connection, so this is the same session the transaction ran on.
    assert_eq!(pid(&server).await?, connection);
    let setting = text(&server, "SELECT nullif(current_setting('tgos.workspace_id', true), '')").await?;
    assert_eq!(setting, None, "the tenant setting outlived its transaction");
    for (table, filter) in TENANT_TABLES {
        let sql = format!("SELECT count(*) FROM {table} WHERE {filter}");
        assert_eq!(
            count(&server, &sql).await?,
            0,
            "{table} is visible after the transaction ended"
        );
    }

    // A rolled-back transaction leaves nothing behind either.
    let tx = server.begin().await?;
    set_tenant(&tx, &workspace).await?;
    tx.rollback().await?;
    assert_eq!(pid(&server).await?, connection);
    assert_eq!(count(&server, "SELECT count(*) FROM memberships").await?, 0);
    Ok(())
});

postgres_tests!(
    a_tenant_wall_shows_one_workspace_and_refuses_writes_into_another,
    |app| {
        let olive = app.sign_up("olive").await?;
        let ours = populated_workspace(&app, &olive, "Ours").await?;
        let oscar = app.sign_up("oscar").await?;
        let theirs = populated_workspace(&app, &oscar, "Theirs").await?;
        let server = app.server_pool().await?;

        let tx = server.begin().await?;
        set_tenant(&tx, &ours).await?;
        assert_eq!(count(&tx, "SELECT count(*) FROM workspaces").await?, 1);
        assert_eq!(count(&tx, "SELECT count(*) FROM memberships").await?, 1);
        assert_eq!(count(&tx, "SELECT count(*) FROM api_keys").await?, 1);
        let foreign = format!("SELECT count(*) FROM audit_log WHERE workspace_id = '{theirs}'");
        assert_eq!(count(&tx, &foreign).await?, 0);
        let renamed = tx
            .execute_unprepared(&format!("UPDATE workspaces SET name = 'Taken' WHERE id = '{theirs}'"))
            .await?;
        assert_eq!(renamed.rows_affected(), 0, "another tenant's row cannot be updated");
        let Err(planted) = tx
            .execute_unprepared(&format!(
                "INSERT INTO memberships (workspace_id, user_id, role, joined_at)
             SELECT '{theirs}', user_id, 'ADMIN', now() FROM memberships WHERE workspace_id = '{ours}'"
            ))
            .await
        else {
            anyhow::bail!("a row was written into another tenant");
        };
        assert!(planted.to_string().contains("row-level security"), "{planted}");
        drop(tx);

        let owner = app.db().await?;
        let name = text(&owner, &format!("SELECT name FROM workspaces WHERE id = '{theirs}'")).await?;
        assert_eq!(name.as_deref(), Some("Theirs"));
        Ok(())
    }
);

postgres_tests!(
    a_leased_account_is_walled_off_and_offers_change_only_by_renting,
    |app| {
        let Rented {
            renter,
            bystander,
            lease,
            ..
        } = rent_one_of_two(&app).await?;
        let server = app.server_pool().await?;
        let accounts = "SELECT count(*) FROM telegram_accounts";
        let leases = "SELECT count(*) FROM leases";

        assert_eq!(
            count(&server, accounts).await?,
            1,
            "no tenant: only the account on offer"
        );
        assert_eq!(count(&server, leases).await?, 0);
        for (tenant, expected_accounts, expected_leases) in [(&bystander, 1, 0), (&renter, 2, 1)] {
            let tx = server.begin().await?;
            set_tenant(&tx, tenant).await?;
            assert_eq!(count(&tx, accounts).await?, expected_accounts);
            assert_eq!(count(&tx, leases).await?, expected_leases);
            tx.commit().await?;
        }
        // The bystander can neither extend nor take the renter's account, nor change the offered one other than
        // by renting it properly.
        let tx = server.begin().await?;
        set_tenant(&tx, &bystander).await?;
        let touched = tx
            .execute_unprepared("UPDATE telegram_accounts SET leased_until = now() WHERE status = 'LEASED'")
            .await?;
        assert_eq!(touched.rows_affected(), 0);
        tx.commit().await?;
        for attack in [
            "UPDATE telegram_accounts SET price_per_day_minor = 1 WHERE status = 'AVAILABLE'".to_owned(),
            "UPDATE telegram_accounts SET sealed_session = '\\x00' WHERE status = 'AVAILABLE'".to_owned(),
            format!("UPDATE telegram_accounts SET leased_to = '{bystander}' WHERE status = 'AVAILABLE'"),
            format!(
                "UPDATE telegram_accounts SET status = 'LEASED', leased_to = '{bystander}', price_per_day_minor = 1 \
             WHERE status = 'AVAILABLE'"
            ),
            format!(
                "INSERT INTO telegram_accounts (id, status, sandbox, premium, dc_id, key_fingerprint, key_owner, \
             key_version, sealed_session, price_per_day_minor, currency, leased_to, created_at, updated_at) \
             VALUES (gen_random_uuid(), 'LEASED', true, false, 2, '\\x01', 'platform', 1, '\\x00', 1, 'USD', \
             '{bystander}', now(), now())"
            ),
        ] {
            let tx = server.begin().await?;
            set_tenant(&tx, &bystander).await?;
            let refused = tx.execute_unprepared(&attack).await;
            assert!(refused.is_err(), "the wall let through: {attack}");
            tx.rollback().await?;
        }
        let unchanged = count(
            &app.db().await?,
            "SELECT count(*) FROM telegram_accounts WHERE status = 'AVAILABLE' AND price_per_day_minor = 500 \
         AND leased_to IS NULL",
        )
        .await?;
        assert_eq!(unchanged, 1, "the offered account is as staff stocked it");

        // The sweep's wall shows active leases, and nothing else (no account, no ended lease).
        let sweep = "SELECT set_config('tgos.sweep', 'lease_expiry', true)";
        let tx = server.begin().await?;
        tx.execute_unprepared(sweep).await?;
        assert_eq!(count(&tx, leases).await?, 1);
        assert_eq!(
            count(&tx, accounts).await?,
            1,
            "the sweep's wall shows no leased account"
        );
        tx.commit().await?;
        app.db()
            .await?
            .execute_unprepared(&format!("UPDATE leases SET status = 'RELEASED' WHERE id = '{lease}'"))
            .await?;
        let tx = server.begin().await?;
        tx.execute_unprepared(sweep).await?;
        assert_eq!(count(&tx, leases).await?, 0, "an ended lease is not the sweep's");
        tx.commit().await?;
        Ok(())
    }
);

postgres_tests!(
    a_workspaces_events_are_walled_off_and_only_the_relay_reads_across,
    |app| {
        use tgos_domain::events::{self, EventDraft, InboxEvent};
        use tgos_domain::ids::{AccountId, DialogId, MessageId};

        let olive = app.sign_up("olive").await?;
        let ours = app.create_workspace(&olive, "Ours").await?;
        let oscar = app.sign_up("oscar").await?;
        let theirs = app.create_workspace(&oscar, "Theirs").await?;
        for (token, workspace) in [(&olive, &ours), (&oscar, &theirs)] {
            let scope = app.scope_of(token, workspace).await?;
            let tx = app.store.begin().await?;
            let event = InboxEvent::MessageDeleted {
                message_id: MessageId::generate(),
                dialog_id: DialogId::generate(),
            };
            events::append(
                &*tx,
                &scope,
                EventDraft::new(AccountId::generate(), event),
                chrono::Utc::now(),
            )
            .await?;
            tx.commit().await?;
        }
        let server = app.server_pool().await?;

        let tx = server.begin().await?;
        set_tenant(&tx, &ours).await?;
        assert_eq!(count(&tx, "SELECT count(*) FROM outbox_events").await?, 1);
        assert_eq!(count(&tx, "SELECT count(*) FROM event_sequences").await?, 1);
        let stolen = tx
            .execute_unprepared(&format!(
                "UPDATE event_sequences SET last_sequence = 0 WHERE workspace_id = '{theirs}'"
            ))
            .await?;
        assert_eq!(stolen.rows_affected(), 0, "another tenant's counter cannot be moved");
        let erased = tx.execute_unprepared("DELETE FROM outbox_events").await?;
        assert_eq!(erased.rows_affected(), 0, "a tenant cannot delete events");
        let rewritten = tx
            .execute_unprepared("UPDATE outbox_events SET payload = '{}', published_at = now()")
            .await?;
        assert_eq!(
            rewritten.rows_affected(),
            0,
            "a tenant cannot rewrite or mark its events"
        );
        let Err(planted) = tx
            .execute_unprepared(&format!(
                "INSERT INTO outbox_events (workspace_id, sequence, account_id, kind, payload, occurred_at)
                 VALUES ('{theirs}', 99, gen_random_uuid(), 'MessageDeleted', '{{}}', now())"
            ))
            .await
        else {
            anyhow::bail!("an event was written into another tenant");
        };
        assert!(planted.to_string().contains("row-level security"), "{planted}");
        drop(tx);

        // The relay's wall reads every workspace's events, and prunes only published ones.
        let tx = server.begin().await?;
        tx.execute_unprepared("SELECT set_config('tgos.sweep', 'outbox_relay', true)")
            .await?;
        let relayed = count(&tx, "SELECT count(*) FROM outbox_events").await?;
        assert!(relayed >= 2, "{relayed}");
        // (Unpublished again within this transaction, whatever the running relay did meanwhile.)
        tx.execute_unprepared("UPDATE outbox_events SET published_at = NULL")
            .await?;
        let pruned = tx.execute_unprepared("DELETE FROM outbox_events").await?;
        assert_eq!(pruned.rows_affected(), 0, "unpublished events are never deleted");
        assert_eq!(count(&tx, "SELECT count(*) FROM outbox_events").await?, relayed);
        Ok(())
    }
);

postgres_tests!(stepping_out_of_the_application_role_gains_nothing, |app| {
    let olive = app.sign_up("olive").await?;
    populated_workspace(&app, &olive, "Growth").await?;
    app.stock_pool(1, 500).await?;
    let server = app.server_pool().await?;
    // A statement that steps out of the application role lands on the server's login role: not the owner of
    // anything, not a superuser, behind the same policies.
    server.execute_unprepared("SET ROLE NONE").await?;
    assert_eq!(
        text(&server, "SELECT current_user::text").await?.as_deref(),
        Some(tgos_tests::app::SERVER_LOGIN_ROLE)
    );
    for (table, filter) in TENANT_TABLES {
        let sql = format!("SELECT count(*) FROM {table} WHERE {filter}");
        assert_eq!(
            count(&server, &sql).await?,
            0,
            "{table} leaked rows outside the application role"
        );
    }
    let Err(refused) = server
        .execute_unprepared("ALTER TABLE memberships DISABLE ROW LEVEL SECURITY")
        .await
    else {
        anyhow::bail!("the server's login role switched a tenant wall off");
    };
    assert!(refused.to_string().contains("must be owner"), "{refused}");
    // The account-transition trigger still applies: the description of an offered account is not the server's.
    let tx = server.begin().await?;
    set_tenant(&tx, "00000000-0000-0000-0000-000000000001").await?;
    let repriced = tx
        .execute_unprepared("UPDATE telegram_accounts SET price_per_day_minor = 1 WHERE status = 'AVAILABLE'")
        .await;
    assert!(repriced.is_err(), "the trigger let the login role reprice an account");
    tx.rollback().await?;
    Ok(())
});

postgres_tests!(account_health_and_counters_are_walled_by_holder, |app| {
    use tgos_domain::accounts::gateway::PeerKey;
    use tgos_domain::accounts::health::{DailyCounters, HealthObservation, HealthSignal};
    use tgos_domain::ids::{AccountId, WorkspaceId};

    let Rented {
        renter,
        bystander,
        account,
        ..
    } = rent_one_of_two(&app).await?;
    let account_id = AccountId::from_uuid(account.parse()?);
    app.accounts
        .record_health(
            Some(WorkspaceId::from_uuid(renter.parse()?)),
            account_id,
            HealthObservation::new(HealthSignal::PeerFlood, chrono::Utc::now()),
        )
        .await?;
    let mut day = DailyCounters::new(chrono::Utc::now().date_naive());
    day.record_received(PeerKey::user(42)?);
    app.store
        .bump_counters(
            account_id,
            tgos_domain::accounts::health::CounterHolder::Workspace(WorkspaceId::from_uuid(renter.parse()?)),
            &day,
        )
        .await?;

    let owner_db = app.db().await?;
    for table in ["account_health", "account_counters", "account_counter_peers"] {
        let sql = format!("SELECT count(*) FROM {table}");
        assert!(count(&owner_db, &sql).await? > 0, "{table} has rows to hide");
    }
    let server = app.server_pool().await?;
    for (tenant, expected) in [(None, 0), (Some(&bystander), 0), (Some(&renter), 1)] {
        let tx = server.begin().await?;
        if let Some(tenant) = tenant {
            set_tenant(&tx, tenant).await?;
        }
        for table in ["account_health", "account_counters", "account_counter_peers"] {
            let seen = count(&tx, &format!("SELECT count(*) FROM {table}")).await?;
            assert_eq!(seen, expected, "{table} behind {tenant:?}");
        }
        tx.commit().await?;
    }
    // The bystander can neither plant counters on the renter's account nor overwrite its health.
    let tx = server.begin().await?;
    set_tenant(&tx, &bystander).await?;
    let planted = tx
        .execute_unprepared(&format!(
            "INSERT INTO account_counters (account_id, holder, day, sent, received, replies)
             VALUES ('{account}', '{renter}', current_date, 100, 0, 0)"
        ))
        .await;
    assert!(planted.is_err(), "a bystander planted counters in the renter's name");
    tx.rollback().await?;
    let tx = server.begin().await?;
    set_tenant(&tx, &bystander).await?;
    let cleared = tx
        .execute_unprepared("UPDATE account_health SET state = 'HEALTHY', version = version + 1")
        .await?;
    assert_eq!(
        cleared.rows_affected(),
        0,
        "a bystander rewrote another tenant's account health"
    );
    tx.rollback().await?;
    Ok(())
});
