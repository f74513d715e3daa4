//! The console's pool page over HTTP, on both databases: it lists every account with its holder; a new price
//! is for new rentals and never a running lease's; retiring takes an account off the offers at once, or at
//! its lease's end (no renewal) when it is leased; a form without its token changes nothing; sandbox stock
//! from the page. Every view and action is audited on the platform chain with the staff member, IP address and
//! user agent. On PostgreSQL the server's own role can neither set nor clear a retirement, nor put a retiring
//! account back on offer. (The retention and backups pages: `console_upkeep`.)

use sea_orm::{ConnectionTrait as _, DatabaseBackend, Statement, Value as DbValue};
use serde_json::json;
use tgos_tests::console::ConsoleBrowser;
use tgos_tests::{TestApp, TestOptions, backend_tests, postgres_tests};

use super::accounts::{RENEW, RENT, funded, offer_ids};
use super::billing::balance;

pub(crate) fn quiet() -> TestOptions {
    TestOptions {
        workers: false,
        ..TestOptions::default()
    }
}

/// `sql` with `$n` placeholders as the test's backend spells them.
pub(crate) fn statement(backend: DatabaseBackend, sql: &str, values: Vec<DbValue>) -> Statement {
    let sql = if backend == DatabaseBackend::Postgres {
        sql.to_owned()
    } else {
        sql.replace("$1", "?")
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// The platform chain's entries of `action` by staff from the test browser: their metadata, oldest first.
pub(crate) async fn staff_entries(app: &TestApp, action: &str) -> anyhow::Result<Vec<serde_json::Value>> {
    let db = app.db().await?;
    let sql = "SELECT metadata FROM audit_log WHERE chain = 'platform' AND action = $1 AND actor_kind = 'STAFF' \
               AND ip_address = '127.0.0.1' AND user_agent = 'console-test/1.0' ORDER BY sequence";
    let rows = db
        .query_all_raw(statement(db.get_database_backend(), sql, vec![action.into()]))
        .await?;
    rows.iter()
        .map(|row| Ok(serde_json::from_str(&row.try_get::<String>("", "metadata")?)?))
        .collect()
}

async fn account_status(app: &TestApp, account: &str) -> anyhow::Result<String> {
    let db = app.db().await?;
    let backend = db.get_database_backend();
    let id: uuid::Uuid = account.parse()?;
    let (sql, value): (&str, DbValue) = if backend == DatabaseBackend::Postgres {
        (
            "SELECT status FROM telegram_accounts WHERE id = $1::uuid",
            id.to_string().into(),
        )
    } else {
        ("SELECT status FROM telegram_accounts WHERE id = $1", id.into())
    };
    let row = db
        .query_one_raw(statement(backend, sql, vec![value]))
        .await?
        .ok_or_else(|| anyhow::anyhow!("account {account} not stored"))?;
    Ok(row.try_get::<String>("", "status")?)
}

/// Moves a lease's end into the past, as time passing would, and runs the expiry sweep.
async fn run_out(app: &TestApp, lease: &str) -> anyhow::Result<()> {
    let db = app.db().await?;
    let backend = db.get_database_backend();
    let id: uuid::Uuid = lease.parse()?;
    let (sql, value): (&str, DbValue) = if backend == DatabaseBackend::Postgres {
        (
            "UPDATE leases SET ends_at = now() - interval '1 minute' WHERE id = $1::uuid",
            id.to_string().into(),
        )
    } else {
        (
            "UPDATE leases SET ends_at = '2020-01-01T00:00:00+00:00' WHERE id = $1",
            id.into(),
        )
    };
    db.execute_raw(statement(backend, sql, vec![value])).await?;
    assert_eq!(app.accounts.expire_due_leases().await?, 1);
    Ok(())
}

backend_tests!(
    staff_see_the_pool_with_holders_reprice_for_new_rentals_and_retire_accounts,
    options = quiet(),
    |app| {
        let stocked: Vec<String> = app.stock_pool(3, 500).await?.iter().map(ToString::to_string).collect();
        let (leased, offered, spare) = (&stocked[0], &stocked[1], &stocked[2]);
        let (olive, agency) = funded(&app, "olive", 10_000).await?;
        let rented = app
            .gql(Some(&olive), RENT, json!({ "w": agency, "o": leased, "d": 2 }))
            .await?;
        let lease = rented.str_at("/data/rentAccount/id")?;
        assert_eq!(balance(&app, &olive, &agency).await?, 9_000, "2 days at 5.00");

        let console = app.start_console().await?;
        let mut root = app.create_staff("root", None).await?;
        let mut browser = ConsoleBrowser::new(&console)?;
        let anonymous = browser.get("/pool").await?;
        assert_eq!(anonymous.location.as_deref(), Some("/login"), "staff only");
        browser.sign_in(&mut root).await?;

        // Every account, with the holder of the leased one and when its lease ends.
        let page = browser.get("/pool").await?;
        assert_eq!(page.status, 200, "{}", page.body);
        for id in &stocked {
            assert!(page.body.contains(id.as_str()), "{id} listed: {}", page.body);
        }
        assert!(
            page.body.contains("Agency") && page.body.contains(&agency),
            "the holder: {}",
            page.body
        );
        assert!(
            page.body.contains("lease ends") && page.body.contains("ACTIVE"),
            "{}",
            page.body
        );
        assert!(
            page.body.contains("tgos-console accounts import --format"),
            "the import note"
        );
        let only_leased = browser.get("/pool?status=LEASED").await?;
        assert!(only_leased.body.contains(leased.as_str()) && !only_leased.body.contains(offered.as_str()));

        // A form without this session's token changes nothing.
        let forged = browser
            .post(&format!("/pool/{spare}/retire"), &[("csrf", "0000")])
            .await?;
        assert_eq!(forged.status, 403, "{}", forged.body);
        let forged = browser
            .post(&format!("/pool/{offered}/reprice"), &[("price_per_day", "1")])
            .await?;
        assert_eq!(forged.status, 403, "{}", forged.body);
        assert_eq!(offer_ids(&app, &olive).await?.len(), 2);

        // A new price is for the next rental; the running lease renews at its own.
        let csrf = page.csrf()?;
        for (id, price) in [(offered, "700"), (leased, "800")] {
            let repriced = browser
                .post(
                    &format!("/pool/{id}/reprice"),
                    &[("csrf", &csrf), ("price_per_day", price), ("currency", "USD")],
                )
                .await?;
            assert_eq!(repriced.status, 303, "{}", repriced.body);
        }
        let zero = browser
            .post(
                &format!("/pool/{offered}/reprice"),
                &[("csrf", &csrf), ("price_per_day", "0")],
            )
            .await?;
        assert_eq!(zero.status, 400, "{}", zero.body);
        let renewed = app.gql(Some(&olive), RENEW, json!({ "l": lease, "d": 1 })).await?;
        assert!(renewed.is_ok(), "{:?}", renewed.body);
        assert_eq!(
            balance(&app, &olive, &agency).await?,
            8_500,
            "renewed at the lease's 5.00"
        );
        let (peter, elsewhere) = funded(&app, "peter", 5_000).await?;
        let second = app
            .gql(Some(&peter), RENT, json!({ "w": elsewhere, "o": offered, "d": 1 }))
            .await?;
        assert_eq!(second.at("/data/rentAccount/pricePerDay/amountMinor")?, &json!(700));
        assert_eq!(balance(&app, &peter, &elsewhere).await?, 4_300, "a new rental at 7.00");

        // Retiring an offered account takes it off the offers at once; again is a conflict.
        let retired = browser
            .post(&format!("/pool/{spare}/retire"), &[("csrf", &csrf)])
            .await?;
        assert_eq!(retired.status, 303, "{}", retired.body);
        assert!(!offer_ids(&app, &olive).await?.contains(spare));
        assert_eq!(account_status(&app, spare).await?, "RETIRED");
        let again = browser
            .post(&format!("/pool/{spare}/retire"), &[("csrf", &csrf)])
            .await?;
        assert_eq!(again.status, 409, "{}", again.body);
        let repriced_retired = browser
            .post(
                &format!("/pool/{spare}/reprice"),
                &[("csrf", &csrf), ("price_per_day", "900")],
            )
            .await?;
        assert_eq!(repriced_retired.status, 409, "{}", repriced_retired.body);
        let listed_retired = browser.get("/pool?status=RETIRED").await?;
        assert!(listed_retired.body.contains(spare.as_str()), "{}", listed_retired.body);

        // Retiring a leased account: the lease runs to its end without renewal, then the account leaves.
        let retiring = browser
            .post(&format!("/pool/{leased}/retire"), &[("csrf", &csrf)])
            .await?;
        assert_eq!(retiring.status, 303, "{}", retiring.body);
        let shown = browser.get("/pool?status=LEASED").await?;
        assert!(shown.body.contains("retiring"), "{}", shown.body);
        let refused = app.gql(Some(&olive), RENEW, json!({ "l": lease, "d": 1 })).await?;
        assert_eq!(refused.code().as_deref(), Some("CONFLICT"), "{:?}", refused.body);
        assert!(
            refused.body.to_string().contains("cannot be renewed"),
            "{:?}",
            refused.body
        );
        assert_eq!(
            balance(&app, &olive, &agency).await?,
            8_500,
            "the refused renewal charged nothing"
        );
        run_out(&app, &lease).await?;
        assert_eq!(account_status(&app, leased).await?, "RETIRED");
        assert!(!offer_ids(&app, &olive).await?.contains(leased));

        // Sandbox stock from the page.
        let added = browser
            .post(
                "/pool/sandbox",
                &[
                    ("csrf", &csrf),
                    ("count", "2"),
                    ("price_per_day", "300"),
                    ("currency", "EUR"),
                ],
            )
            .await?;
        assert_eq!(added.status, 200, "{}", added.body);
        assert!(added.body.contains("Added 2 sandbox accounts"), "{}", added.body);
        assert_eq!(offer_ids(&app, &olive).await?.len(), 2, "the two new ones");

        let repriced = staff_entries(&app, "account.repriced").await?;
        assert_eq!(repriced.len(), 2, "{repriced:?}");
        assert_eq!(repriced[0]["fromMinor"], json!(500));
        assert_eq!(repriced[0]["toMinor"], json!(700));
        let retirements = staff_entries(&app, "account.retired").await?;
        let whens: Vec<_> = retirements.iter().map(|m| m["when"].clone()).collect();
        assert_eq!(whens, vec![json!("NOW"), json!("AT_LEASE_END")]);
        assert_eq!(retirements[1]["holder"], json!(agency));
        assert_eq!(
            staff_entries(&app, "accounts.imported").await?.len(),
            1,
            "the sandbox stock"
        );
        let views = staff_entries(&app, "console.viewed").await?;
        assert!(views.iter().filter(|m| m["page"] == "pool").count() >= 3, "{views:?}");
        console.stop().await?;
        Ok(())
    }
);

postgres_tests!(the_server_role_cannot_retire_an_account_or_undo_a_retirement, |app| {
    let stocked = app.stock_pool(2, 500).await?;
    let (olive, agency) = funded(&app, "olive", 10_000).await?;
    for account in &stocked {
        let rented = app
            .gql(
                Some(&olive),
                RENT,
                json!({ "w": agency, "o": account.to_string(), "d": 1 }),
            )
            .await?;
        assert!(rented.is_ok(), "{:?}", rented.body);
    }
    let (retiring, kept) = (stocked[0], stocked[1]);
    // Staff retire one through the console, which reads across tenants as the schema owner.
    let console = app.start_console().await?;
    let mut root = app.create_staff("root", None).await?;
    let mut browser = ConsoleBrowser::new(&console)?;
    browser.sign_in(&mut root).await?;
    let csrf = browser.get("/pool").await?.csrf()?;
    let retired = browser
        .post(&format!("/pool/{retiring}/retire"), &[("csrf", &csrf)])
        .await?;
    assert_eq!(retired.status, 303, "{}", retired.body);
    console.stop().await?;

    let server = app.server_pool().await?;
    for attack in [
        format!("UPDATE telegram_accounts SET retiring_since = NULL WHERE id = '{retiring}'"),
        format!(
            "UPDATE telegram_accounts SET status = 'AVAILABLE', leased_to = NULL, leased_since = NULL, \
             leased_until = NULL WHERE id = '{retiring}'"
        ),
        format!("UPDATE telegram_accounts SET retiring_since = now() WHERE id = '{kept}'"),
    ] {
        let tx = sea_orm::TransactionTrait::begin(&server).await?;
        tx.execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT set_config('tgos.workspace_id', $1, true)",
            [agency.clone().into()],
        ))
        .await?;
        let Err(refused) = tx.execute_unprepared(&attack).await else {
            anyhow::bail!("the trigger let the server's role through: {attack}");
        };
        assert!(
            refused.to_string().contains("telegram_accounts: "),
            "{attack}: {refused}"
        );
        tx.rollback().await?;
    }
    Ok(())
});
