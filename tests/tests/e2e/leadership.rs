//! Work that runs once across replicas, on both databases: two servers on one database expire each of 100
//! due leases once (counted in the audit log); the leader-held work moves at once when its holder stops
//! gracefully, and after the lease when it is killed; a server started with `--workers=false` leads nothing.

use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait as _, DatabaseBackend, Statement};
use serde_json::json;
use tgos_api::config::Settings;
use tgos_domain::leadership::names;
use tgos_tests::replicas::TgosProcess;
use tgos_tests::{TestApp, TestOptions, backend_tests};

use super::accounts::{RENT, funded};

const TGOS: &str = env!("CARGO_BIN_EXE_tgos-under-test");

/// A replica that runs the background work, sweeping expired leases every second, on leases of 3 s.
fn working(settings: &mut Settings) {
    settings.server.workers = true;
    settings.accounts.expiry_sweep_secs = 1;
    settings.workers.leader_lease_secs = 3;
}

fn serving_only() -> TestOptions {
    TestOptions {
        workers: false,
        ..TestOptions::default()
    }
}

/// Moves the end of every active lease into the past, as days passing would.
async fn make_every_lease_due(app: &TestApp) -> anyhow::Result<u64> {
    let db = app.db().await?;
    let sql = if db.get_database_backend() == DatabaseBackend::Postgres {
        "UPDATE leases SET ends_at = now() - interval '1 minute' WHERE status = 'ACTIVE'"
    } else {
        "UPDATE leases SET ends_at = '2020-01-01T00:00:00+00:00' WHERE status = 'ACTIVE'"
    };
    let done = db
        .execute_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    db.close().await?;
    Ok(done.rows_affected())
}

async fn active_leases(app: &TestApp) -> anyhow::Result<i64> {
    let db = app.db().await?;
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM leases WHERE status = 'ACTIVE'",
        ))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no count"))?;
    db.close().await?;
    Ok(row.try_get("", "n")?)
}

backend_tests!(
    two_replicas_expire_each_of_a_hundred_due_leases_once,
    options = serving_only(),
    |app| {
        let accounts = app.stock_pool(100, 100).await?;
        let (owner, workspace) = funded(&app, "hundred", 1_000_000).await?;
        for account in &accounts {
            let rented = app
                .gql(
                    Some(&owner),
                    RENT,
                    json!({ "w": workspace, "o": account.to_string(), "d": 1 }),
                )
                .await?;
            anyhow::ensure!(rented.is_ok(), "renting failed: {}", rented.body);
        }
        assert_eq!(make_every_lease_due(&app).await?, 100);

        let a = app.replica(working).await?;
        let b = app.replica(working).await?;
        let holders = [a.leader_holder(), b.leader_holder()].map(|holder| holder.map(str::to_owned));
        let deadline = Instant::now() + Duration::from_secs(60);
        while app.audit_count("lease.expired").await? < 100 {
            anyhow::ensure!(
                Instant::now() < deadline,
                "the leases did not all expire within a minute"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Both replicas sweep every second: give them a few more rounds to expire anything twice.
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(app.audit_count("lease.expired").await?, 100, "each lease expired once");
        assert_eq!(active_leases(&app).await?, 0);
        let leader = app.leader_of(names::LEASE_EXPIRY).await?;
        assert!(
            holders.iter().any(|holder| holder.is_some() && *holder == leader),
            "the sweep's leader {leader:?} is one of the replicas {holders:?}"
        );
        a.stop().await?;
        b.stop().await?;
        Ok(())
    }
);

backend_tests!(
    a_graceful_stop_hands_the_leader_held_work_over_at_once,
    options = serving_only(),
    |app| {
        let a = app.replica(working).await?;
        let b = app.replica(working).await?;
        let a_holder = a.leader_holder().map(str::to_owned);
        let b_holder = b.leader_holder().map(str::to_owned);
        let first = app
            .wait_for_leader(names::LEASE_EXPIRY, Duration::from_secs(10), |holder| {
                holder.is_some() && (holder == a_holder.as_deref() || holder == b_holder.as_deref())
            })
            .await?;
        // Every name is held by one of them, and the same one renews them while it runs.
        tokio::time::sleep(Duration::from_secs(2)).await;
        for name in [
            names::OUTBOX_RELAY,
            names::LEASE_EXPIRY,
            names::INBOX_SYNC,
            names::AUTOMATION_UPKEEP,
        ] {
            let holder = app.leader_of(name).await?;
            assert!(
                holder.is_some() && (holder == a_holder || holder == b_holder),
                "{name} held by {holder:?}"
            );
        }
        assert_eq!(app.leader_of(names::LEASE_EXPIRY).await?, first, "renewed, not moved");

        let (leader, other, other_holder) = if first == a_holder {
            (a, b, b_holder)
        } else {
            (b, a, a_holder)
        };
        leader.stop().await?;
        // Released in the stop itself: nothing waits for a lease to lapse.
        let after_stop = app.leader_of(names::LEASE_EXPIRY).await?;
        assert!(
            after_stop.is_none() || after_stop == other_holder,
            "released on stop, found {after_stop:?}"
        );
        let taken = Instant::now();
        app.wait_for_leader(names::LEASE_EXPIRY, Duration::from_secs(10), |holder| {
            holder.is_some() && holder == other_holder.as_deref()
        })
        .await?;
        // The release itself is asserted above; the other takes the name at its next round (every second).
        assert!(
            taken.elapsed() < Duration::from_secs(5),
            "taken at the other's next round: {:?}",
            taken.elapsed()
        );
        other.stop().await?;
        assert_eq!(app.leaders().await?, Vec::new(), "the last one released everything too");
        Ok(())
    }
);

backend_tests!(
    a_killed_worker_process_is_replaced_once_its_lease_lapsed,
    options = serving_only(),
    |app| {
        let mut killed = TgosProcess::start(TGOS, &["worker"], &app.process_env())?;
        let prefix = format!("pid{}:", killed.pid());
        let held_by_killed = app
            .wait_for_leader(names::LEASE_EXPIRY, Duration::from_secs(30), |holder| {
                holder.is_some_and(|holder| holder.starts_with(&prefix))
            })
            .await?;
        let survivor = app.replica(working).await?;
        let survivor_holder = survivor.leader_holder().map(str::to_owned);
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(
            app.leader_of(names::LEASE_EXPIRY).await?,
            held_by_killed,
            "the running worker keeps its lead"
        );

        killed.kill()?;
        let status = killed.wait(Duration::from_secs(10))?;
        assert!(!status.success(), "killed, not stopped");
        assert_eq!(
            app.leader_of(names::LEASE_EXPIRY).await?,
            held_by_killed,
            "a killed process releases nothing"
        );
        let lapsing = Instant::now();
        app.wait_for_leader(names::LEASE_EXPIRY, Duration::from_secs(15), |holder| {
            holder.is_some() && holder == survivor_holder.as_deref()
        })
        .await?;
        assert!(
            lapsing.elapsed() < Duration::from_secs(8),
            "taken over within one lease (3 s) and a round: {:?}",
            lapsing.elapsed()
        );
        survivor.stop().await?;
        Ok(())
    }
);

backend_tests!(
    a_server_started_with_workers_false_leads_nothing,
    options = serving_only(),
    |app| {
        let mut server = TgosProcess::start(TGOS, &["serve", "--workers=false"], &app.process_env())?;
        let health = app.http().get(format!("http://{}/healthz", server.addr)).send().await?;
        assert_eq!(health.status(), 200);
        let signed_up = app
            .http()
            .post(format!("http://{}/graphql", server.addr))
            .json(&json!({ "query": "{ __typename }" }))
            .send()
            .await?;
        assert_eq!(signed_up.status(), 200, "it serves the API");
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(app.leaders().await?, Vec::new(), "no campaign without workers");
        assert!(
            server
                .output()
                .iter()
                .any(|line| line.contains("background work is off")),
            "it says so in its log"
        );
        server.terminate()?;
        assert!(server.wait(Duration::from_secs(15))?.success());
        Ok(())
    }
);

async fn count_on(db: &sea_orm::DatabaseConnection, sql: &str) -> anyhow::Result<i64> {
    let row = db
        .query_one_raw(Statement::from_string(DatabaseBackend::Postgres, sql))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no count"))?;
    Ok(row.try_get("", "n")?)
}

tgos_tests::postgres_tests!(only_the_leadership_wall_sees_takes_or_drops_a_leader_lease, |app| {
    use sea_orm::TransactionTrait as _;
    app.wait_for_leader(names::OUTBOX_RELAY, Duration::from_secs(10), |holder| holder.is_some())
        .await?;
    let stored = i64::try_from(app.leaders().await?.len())?;
    assert!(stored >= 4);
    let server = app.server_pool().await?;
    assert_eq!(
        count_on(&server, "SELECT count(*) AS n FROM leader_leases").await?,
        0,
        "behind no wall, the application role sees none"
    );
    let dropped = server.execute_unprepared("DELETE FROM leader_leases").await?;
    assert_eq!(dropped.rows_affected(), 0, "nor drops one");
    let taken = server
        .execute_unprepared(
            "INSERT INTO leader_leases (name, holder, lease_until, acquired_at) VALUES ('x', 'y', now(), now())",
        )
        .await;
    assert!(taken.is_err(), "nor takes one");
    let tx = server.begin().await?;
    tx.execute_unprepared("SELECT set_config('tgos.workspace_id', '00000000-0000-0000-0000-000000000001', true)")
        .await?;
    let row = tx
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            "SELECT count(*) AS n FROM leader_leases",
        ))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no count"))?;
    assert_eq!(row.try_get::<i64>("", "n")?, 0, "nor a workspace's wall");
    tx.execute_unprepared("SELECT set_config('tgos.sweep', 'leadership', true)")
        .await?;
    let row = tx
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            "SELECT count(*) AS n FROM leader_leases",
        ))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no count"))?;
    assert_eq!(
        row.try_get::<i64>("", "n")?,
        stored,
        "the leadership wall sees them all"
    );
    tx.rollback().await?;
    Ok(())
});
