//! Tags under load: at most twenty however many taggers race, and what a page of dialogs costs with and
//! without them (one more statement, only when the selection shows them; a filtered page costs what an
//! unfiltered one does).

use std::collections::BTreeSet;

use serde_json::json;
use tgos_tests::{TestApp, TestOptions, backend_tests};

use super::dialog_tags::{TAG, UNTAG, inbox_of, strings};

backend_tests!(tags_hold_at_most_twenty_however_many_taggers_race, |app| {
    let (owner, _workspace, dialogs) = inbox_of(&app, &["Ada"]).await?;
    let dialog = dialogs[0].clone();
    let attempts = (0..30).map(|n| {
        let (app, owner, dialog) = (&app, owner.clone(), dialog.clone());
        async move {
            app.gql(Some(&owner), TAG, json!({ "d": dialog, "t": format!("race-{n:02}") }))
                .await
        }
    });
    let answers = futures_util::future::join_all(attempts).await;
    let mut taken = 0;
    for answer in answers {
        let answer = answer?;
        if answer.is_ok() {
            taken += 1;
        } else {
            assert_eq!(answer.str_at("/errors/0/extensions/field")?, "tag", "{:?}", answer.body);
        }
    }
    assert_eq!(taken, 20, "exactly the room there was");
    let held = app
        .gql(Some(&owner), UNTAG, json!({ "d": dialog, "t": "absent" }))
        .await?;
    assert_eq!(held.at("/data/untagDialog/tags")?.as_array().map(Vec::len), Some(20));
    Ok(())
});

const IDS_ONLY: &str = "query($w: ID!) { workspace(id: $w) { dialogs { nodes { id } } } }";
const WITH_TAGS: &str = "query($w: ID!) { workspace(id: $w) { dialogs { nodes { id tags } } } }";
const FILTERED: &str =
    "query($w: ID!) { workspace(id: $w) { dialogs(tag: \"vip\", unassigned: true) { nodes { id } } } }";

/// The fewest statements one request for `query` cost over three (background work only ever adds).
async fn fewest_statements(app: &TestApp, owner: &str, workspace: &str, query: &str) -> anyhow::Result<u64> {
    let mut fewest = u64::MAX;
    for _ in 0..3 {
        let before = app.sql_statements().await?;
        let page = app.gql(Some(owner), query, json!({ "w": workspace })).await?;
        let cost = app.sql_statements().await? - before;
        anyhow::ensure!(page.is_ok(), "{:?}", page.body);
        fewest = fewest.min(cost);
    }
    Ok(fewest)
}

backend_tests!(
    a_page_reads_tags_in_one_more_statement_only_when_it_shows_them,
    options = TestOptions::counting_statements(),
    |app| {
        let contacts = ["Ada", "Grace", "Linus", "Ken", "Barbara"];
        let (owner, workspace, dialogs) = inbox_of(&app, &contacts).await?;
        for (n, dialog) in dialogs.iter().enumerate() {
            for tag in ["vip", "lang:en", &format!("n{n}")] {
                app.gql(Some(&owner), TAG, json!({ "d": dialog, "t": tag })).await?;
            }
        }
        let ids_only = fewest_statements(&app, &owner, &workspace, IDS_ONLY).await?;
        let with_tags = fewest_statements(&app, &owner, &workspace, WITH_TAGS).await?;
        let filtered = fewest_statements(&app, &owner, &workspace, FILTERED).await?;
        eprintln!("statements: ids only {ids_only}, with tags {with_tags}, filtered {filtered}");
        assert_eq!(with_tags, ids_only + 1, "the page's tags in one statement");
        assert_eq!(filtered, ids_only, "a filter is a condition of the page's statement");

        let page = app.gql(Some(&owner), WITH_TAGS, json!({ "w": workspace })).await?;
        let shown: BTreeSet<(String, Vec<String>)> = page
            .at("/data/workspace/dialogs/nodes")?
            .as_array()
            .into_iter()
            .flatten()
            .map(|node| {
                (
                    node["id"].as_str().unwrap_or_default().to_owned(),
                    strings(&node["tags"]),
                )
            })
            .collect();
        let expected: BTreeSet<(String, Vec<String>)> = dialogs
            .iter()
            .enumerate()
            .map(|(n, id)| {
                (
                    id.clone(),
                    vec!["lang:en".to_owned(), format!("n{n}"), "vip".to_owned()],
                )
            })
            .collect();
        assert_eq!(shown, expected, "each dialog with its own tags");

        // A message's dialog (read bare) answers its tags through the operation's loader.
        let nested = app
            .gql(
                Some(&owner),
                "query($w: ID!) { workspace(id: $w) { dialogs(first: 1) { nodes { id lastMessage { dialog { id tags } } } } } }",
                json!({ "w": workspace }),
            )
            .await?;
        let first = nested.str_at("/data/workspace/dialogs/nodes/0/lastMessage/dialog/id")?;
        let n = dialogs
            .iter()
            .position(|id| *id == first)
            .ok_or_else(|| anyhow::anyhow!("an unknown dialog {first}"))?;
        assert_eq!(
            strings(nested.at("/data/workspace/dialogs/nodes/0/lastMessage/dialog/tags")?),
            ["lang:en".to_owned(), format!("n{n}"), "vip".to_owned()]
        );
        Ok(())
    }
);
