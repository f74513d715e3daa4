//! Reads that belong together share one read transaction: each repository call in it sees exactly the rows of
//! its own tenant wall, the wall is set only when it changes, and an open read transaction holds no writer
//! up (on SQLite, where a transaction can take the write lock; PostgreSQL passes by its design). A dialog page
//! reads only what its selection shows, and a workspace's row only when a field needs it.

use std::time::Duration;

use sea_orm::DatabaseBackend;
use serde_json::json;
use tgos_tests::{TestApp, TestOptions, backend_tests};

use super::inbox::ada_and_an_empty_dialog;

/// The fewest statements `work` cost over three tries. The tests run without background work
/// ([`TestOptions::counting_statements`]); taking the fewest also keeps anything the server does on its own
/// (which only ever adds statements) out of the figure.
async fn fewest_statements<F, Fut>(app: &TestApp, mut work: F) -> anyhow::Result<u64>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let mut fewest = u64::MAX;
    for _ in 0..3 {
        let before = app.sql_statements().await?;
        work().await?;
        fewest = fewest.min(app.sql_statements().await? - before);
    }
    Ok(fewest)
}

async fn is_postgres(app: &TestApp) -> anyhow::Result<bool> {
    Ok(app.db().await?.get_database_backend() == DatabaseBackend::Postgres)
}

backend_tests!(
    a_read_transaction_shows_each_wall_its_own_rows_and_sets_a_wall_only_when_it_changes,
    options = TestOptions::counting_statements(),
    |app| {
        let owner = app.sign_up("olive").await?;
        let alpha = app.create_workspace(&owner, "Alpha").await?;
        let beta = app.create_workspace(&owner, "Beta").await?;
        let (alpha, beta) = (app.scope_of(&owner, &alpha).await?, app.scope_of(&owner, &beta).await?);

        let same_wall = fewest_statements(&app, || async {
            let tx = app.store.begin_read().await?;
            for _ in 0..3 {
                assert_eq!(tx.find_workspace(&alpha).await?.name, "Alpha");
            }
            tx.commit().await?;
            Ok(())
        })
        .await?;
        let alternating = fewest_statements(&app, || async {
            let tx = app.store.begin_read().await?;
            for (scope, name) in [(&alpha, "Alpha"), (&beta, "Beta"), (&alpha, "Alpha"), (&beta, "Beta")] {
                assert_eq!(
                    tx.find_workspace(scope).await?.name,
                    name,
                    "a read saw another wall's rows"
                );
            }
            tx.commit().await?;
            Ok(())
        })
        .await?;
        eprintln!("statements: three reads behind one wall {same_wall}, four behind alternating walls {alternating}");
        if is_postgres(&app).await? {
            // One `set_config` for the run of three reads; one before each of the four alternating reads.
            assert_eq!(same_wall, 1 + 3);
            assert_eq!(alternating, 4 + 4);
        } else {
            assert_eq!((same_wall, alternating), (3, 4), "SQLite has no wall to set");
        }
        Ok(())
    }
);

backend_tests!(an_open_read_transaction_holds_no_writer_up, |app| {
    let owner = app.sign_up("olive").await?;
    let workspace = app.create_workspace(&owner, "Alpha").await?;
    let scope = app.scope_of(&owner, &workspace).await?;
    let tx = app.store.begin_read().await?;
    assert_eq!(tx.find_workspace(&scope).await?.name, "Alpha");
    // A writer (a use case's own transaction) commits while the read transaction is open, well within the
    // 10 seconds SQLite's writer would wait for a lock it cannot get.
    let created = tokio::time::timeout(Duration::from_secs(3), app.create_workspace(&owner, "Beta")).await;
    let created = created.map_err(|_| anyhow::anyhow!("the write waited for the read transaction"))??;
    let created = app.scope_of(&owner, &created).await?;
    assert_eq!(
        app.store.find_workspace(&created).await?.name,
        "Beta",
        "the write committed"
    );
    assert_eq!(tx.find_workspace(&scope).await?.name, "Alpha");
    tx.commit().await?;
    Ok(())
});

const IDS_ONLY: &str = "query($w: ID!) { workspace(id: $w) { dialogs { edges { node { id } } } } }";
const WITH_LAST_MESSAGE: &str =
    "query($w: ID!) { workspace(id: $w) { dialogs { nodes { id lastMessage { text } } } } }";
const WITH_BOTH: &str = "query($w: ID!) { workspace(id: $w) { dialogs { ...page } } } \
    fragment page on DialogConnection { edges { node { id account { id } lastMessage { text } } } }";

backend_tests!(
    a_dialog_page_reads_only_what_its_selection_shows,
    options = TestOptions::counting_statements(),
    |app| {
        let (owner, workspace, account) = ada_and_an_empty_dialog(&app, "hello").await?;

        let cost = |query: &'static str| {
            let (app, owner, workspace) = (&app, owner.clone(), workspace.clone());
            fewest_statements(app, move || {
                let (owner, workspace) = (owner.clone(), workspace.clone());
                async move {
                    let page = app.gql(Some(&owner), query, json!({ "w": workspace })).await?;
                    anyhow::ensure!(page.is_ok(), "{:?}", page.body);
                    Ok(())
                }
            })
        };
        let ids_only = cost(IDS_ONLY).await?;
        let with_last_message = cost(WITH_LAST_MESSAGE).await?;
        let with_both = cost(WITH_BOTH).await?;
        eprintln!(
            "statements: ids only {ids_only}, with last message {with_last_message}, with account too {with_both}"
        );
        // The last messages come with the dialogs in one statement, the accounts in one more, all in the same
        // transaction (no second wall on PostgreSQL). On SQLite a field's own loader would cost one statement
        // too, so there only the answers below tell; on PostgreSQL a loader would also pay a wall of its own.
        assert_eq!(with_last_message, ids_only);
        assert_eq!(with_both, ids_only + 1);
        let expected_ids_only = if is_postgres(&app).await? { 2 } else { 1 };
        assert_eq!(
            ids_only, expected_ids_only,
            "the dialogs, behind one wall on PostgreSQL"
        );

        // What the page prefetched is what the fields answer, a dialog without a message included.
        let page = app.gql(Some(&owner), WITH_BOTH, json!({ "w": workspace })).await?;
        let edges = page.at("/data/workspace/dialogs/edges")?.clone();
        let shown: Vec<_> = edges
            .as_array()
            .into_iter()
            .flatten()
            .map(|edge| {
                (
                    edge["node"]["account"]["id"].clone(),
                    edge["node"]["lastMessage"].clone(),
                )
            })
            .collect();
        assert_eq!(
            shown,
            vec![
                (json!(account), json!({ "text": "hello" })),
                (json!(account), serde_json::Value::Null)
            ],
            "Ada's dialog with its message, then Grace's without one"
        );
        let page = app
            .gql(Some(&owner), WITH_LAST_MESSAGE, json!({ "w": workspace }))
            .await?;
        assert_eq!(
            page.str_at("/data/workspace/dialogs/nodes/0/lastMessage/text")?,
            "hello"
        );
        assert_eq!(
            page.body.pointer("/data/workspace/dialogs/nodes/1/lastMessage"),
            Some(&serde_json::Value::Null),
            "Grace's dialog has no message"
        );
        Ok(())
    }
);

backend_tests!(
    a_workspace_reads_its_own_row_only_for_a_field_that_shows_it,
    options = TestOptions::counting_statements(),
    |app| {
        let owner = app.sign_up("olive").await?;
        let workspace = app.create_workspace(&owner, "Alpha").await?;
        let ask = |query: &'static str| {
            let (app, owner, workspace) = (&app, owner.clone(), workspace.clone());
            async move {
                let answer = app.gql(Some(&owner), query, json!({ "w": workspace })).await?;
                anyhow::ensure!(answer.is_ok(), "{:?}", answer.body);
                Ok(answer)
            }
        };
        // Warm the credential cache, so what remains is the workspace's own row.
        ask("query($w: ID!) { workspace(id: $w) { id } }").await?;
        let id_only = fewest_statements(&app, || async {
            ask("query($w: ID!) { workspace(id: $w) { id viewerRole } }")
                .await
                .map(drop)
        })
        .await?;
        let shown = fewest_statements(&app, || async {
            ask("query($w: ID!) { workspace(id: $w) { name createdAt } }")
                .await
                .map(drop)
        })
        .await?;
        assert_eq!(id_only, 0, "the id and the role come from the caller's scope");
        let one_read = if is_postgres(&app).await? { 2 } else { 1 };
        assert_eq!(shown, one_read, "the name and the creation time share one read");
        let answer = ask("query($w: ID!) { workspace(id: $w) { id name createdAt } }").await?;
        assert_eq!(answer.str_at("/data/workspace/id")?, workspace);
        assert_eq!(answer.str_at("/data/workspace/name")?, "Alpha");
        assert!(answer.str_at("/data/workspace/createdAt")?.starts_with("20"));
        Ok(())
    }
);
