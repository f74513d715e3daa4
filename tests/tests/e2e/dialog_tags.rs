//! Dialog tags and assignment over GraphQL: tag, untag and assign round trips; the list filtered by tag,
//! assignee or unassigned, page by page; normalization and each refusal on its field; who may change what;
//! each change audited and announced once (a repeat neither); a departure unassigning the member's dialogs;
//! the twenty-tag limit under racing taggers and what a page costs are in `dialog_tags_load`.

use std::time::Duration;

use serde_json::{Value, json};
use tgos_domain::audit::{Actor, ActorKind};
use tgos_domain::ids::DialogId;
use tgos_domain::request::ClientInfo;
use tgos_tests::live::Subscriber;
use tgos_tests::{TestApp, backend_tests};

use super::accounts::{CONTACT_SEND, RENT, funded};
use super::inbox_events::WAIT;

pub(crate) const TAG: &str =
    "mutation($d: ID!, $t: String!) { tagDialog(dialogId: $d, tag: $t) { id tags assignee { id } } }";
pub(crate) const UNTAG: &str = "mutation($d: ID!, $t: String!) { untagDialog(dialogId: $d, tag: $t) { id tags } }";
const ASSIGN: &str = "mutation($d: ID!, $u: ID) { assignDialog(dialogId: $d, userId: $u) { id tags assignee { id username fullName } } }";
const LIST: &str = "query($w: ID!, $tag: String, $who: ID, $nobody: Boolean, $first: Int, $after: String) { workspace(id: $w) { dialogs(tag: $tag, assigneeId: $who, unassigned: $nobody, first: $first, after: $after) { pageInfo { hasNextPage endCursor } nodes { id peer { title } tags assignee { id } } } } }";
const AUDIT: &str = "query($w: ID!, $a: String) { workspace(id: $w) { auditLog(first: 50, action: $a) { nodes { action targetId metadata actor { kind displayName } } } } }";
const CREATE_KEY: &str =
    "mutation($w: ID!, $s: [Scope!]!) { createApiKey(workspaceId: $w, name: \"sorter\", scopes: $s) { secret } }";
const REMOVE: &str = "mutation($w: ID!, $u: ID!) { removeMember(workspaceId: $w, userId: $u) }";
const DIALOG_EVENTS: &str = "subscription($w: ID!, $after: Int) { inboxEvents(workspaceId: $w, afterSequence: $after) { __typename ... on DialogChanged { sequence accountId dialog { id tags assignee { id } } } } }";

/// A workspace renting one sandbox account, in whose inbox each of `contacts` wrote once, synced: the owner's
/// token, the workspace, and each contact's dialog id (in the order of `contacts`).
pub(crate) async fn inbox_of(app: &TestApp, contacts: &[&str]) -> anyhow::Result<(String, String, Vec<String>)> {
    let account = app.stock_pool(1, 500).await?[0].to_string();
    let (owner, workspace) = funded(app, "olive", 10_000).await?;
    let rented = app
        .gql(Some(&owner), RENT, json!({ "w": workspace, "o": account, "d": 1 }))
        .await?;
    anyhow::ensure!(rented.is_ok(), "{:?}", rented.body);
    for contact in contacts {
        let sent = app
            .gql(
                Some(&owner),
                CONTACT_SEND,
                json!({ "a": account, "c": contact, "t": format!("hi from {contact}") }),
            )
            .await?;
        anyhow::ensure!(sent.is_ok(), "{:?}", sent.body);
    }
    // One sync: the first reads the dialogs with their titles.
    app.inbox.sync_all().await?;
    let listed = listed_titles(app, &owner, &workspace).await?;
    let mut dialogs = Vec::new();
    for contact in contacts {
        let found = listed
            .iter()
            .find(|(title, _)| title == contact)
            .ok_or_else(|| anyhow::anyhow!("no dialog of {contact}: {listed:?}"))?;
        dialogs.push(found.1.clone());
    }
    Ok((owner, workspace, dialogs))
}

/// The workspace's dialogs as the unfiltered list shows them (newest first): (title, id).
async fn listed_titles(app: &TestApp, owner: &str, workspace: &str) -> anyhow::Result<Vec<(String, String)>> {
    let page = app
        .gql(
            Some(owner),
            "query($w: ID!) { workspace(id: $w) { dialogs { nodes { id peer { title } } } } }",
            json!({ "w": workspace }),
        )
        .await?;
    Ok(page
        .at("/data/workspace/dialogs/nodes")?
        .as_array()
        .into_iter()
        .flatten()
        .map(|node| {
            (
                node["peer"]["title"].as_str().unwrap_or_default().to_owned(),
                node["id"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect())
}

/// The titles of the unfiltered list (newest first) that are among `kept`.
fn in_list_order(listed: &[(String, String)], kept: &[&str]) -> Vec<String> {
    listed
        .iter()
        .map(|(title, _)| title.clone())
        .filter(|title| kept.contains(&title.as_str()))
        .collect()
}

pub(crate) fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

/// The workspace's audit entries of `action`, newest first.
async fn audited(app: &TestApp, owner: &str, workspace: &str, action: &str) -> anyhow::Result<Vec<Value>> {
    let log = app
        .gql(Some(owner), AUDIT, json!({ "w": workspace, "a": action }))
        .await?;
    Ok(log
        .at("/data/workspace/auditLog/nodes")?
        .as_array()
        .cloned()
        .unwrap_or_default())
}

/// Each page of `LIST` with `variables`, one dialog a page: the titles in order.
async fn titles_page_by_page(app: &TestApp, token: &str, variables: Value) -> anyhow::Result<Vec<String>> {
    let mut titles = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut asked = variables.clone();
        asked["first"] = json!(1);
        asked["after"] = json!(after);
        let page = app.gql(Some(token), LIST, asked).await?;
        anyhow::ensure!(page.is_ok(), "{:?}", page.body);
        let nodes = page.at("/data/workspace/dialogs/nodes")?.clone();
        titles.extend(
            nodes
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|n| n["peer"]["title"].as_str().map(str::to_owned)),
        );
        if page.at("/data/workspace/dialogs/pageInfo/hasNextPage")? != &json!(true) {
            return Ok(titles);
        }
        after = Some(page.str_at("/data/workspace/dialogs/pageInfo/endCursor")?);
        anyhow::ensure!(titles.len() <= 10, "the pages do not end: {titles:?}");
    }
}

backend_tests!(
    a_dialog_is_tagged_untagged_and_assigned_and_every_change_is_audited_once,
    |app| {
        let (owner, workspace, dialogs) = inbox_of(&app, &["Ada"]).await?;
        let dialog = &dialogs[0];
        let (_, operator_id) = app.join(&owner, &workspace, "otto", "OPERATOR").await?;

        let tagged = app
            .gql(Some(&owner), TAG, json!({ "d": dialog, "t": "  VIP " }))
            .await?;
        assert!(tagged.is_ok(), "{:?}", tagged.body);
        assert_eq!(
            strings(tagged.at("/data/tagDialog/tags")?),
            ["vip"],
            "trimmed, lower-cased"
        );
        let tagged = app
            .gql(Some(&owner), TAG, json!({ "d": dialog, "t": "Lang:RU" }))
            .await?;
        assert_eq!(
            strings(tagged.at("/data/tagDialog/tags")?),
            ["lang:ru", "vip"],
            "in order"
        );
        let again = app.gql(Some(&owner), TAG, json!({ "d": dialog, "t": "vip" })).await?;
        assert!(again.is_ok(), "tagging twice is no error: {:?}", again.body);
        assert_eq!(strings(again.at("/data/tagDialog/tags")?), ["lang:ru", "vip"]);

        let untagged = app.gql(Some(&owner), UNTAG, json!({ "d": dialog, "t": "VIP" })).await?;
        assert_eq!(strings(untagged.at("/data/untagDialog/tags")?), ["lang:ru"]);
        let absent = app.gql(Some(&owner), UNTAG, json!({ "d": dialog, "t": "vip" })).await?;
        assert!(absent.is_ok(), "untagging an absent tag is no error: {:?}", absent.body);
        assert_eq!(strings(absent.at("/data/untagDialog/tags")?), ["lang:ru"]);

        let assigned = app
            .gql(Some(&owner), ASSIGN, json!({ "d": dialog, "u": operator_id }))
            .await?;
        assert!(assigned.is_ok(), "{:?}", assigned.body);
        assert_eq!(assigned.str_at("/data/assignDialog/assignee/id")?, operator_id);
        assert_eq!(assigned.str_at("/data/assignDialog/assignee/username")?, "otto");
        let again = app
            .gql(Some(&owner), ASSIGN, json!({ "d": dialog, "u": operator_id }))
            .await?;
        assert_eq!(again.str_at("/data/assignDialog/assignee/id")?, operator_id);

        // The list shows what the changes left.
        let listed = app.gql(Some(&owner), LIST, json!({ "w": workspace })).await?;
        assert_eq!(strings(listed.at("/data/workspace/dialogs/nodes/0/tags")?), ["lang:ru"]);
        assert_eq!(
            listed.str_at("/data/workspace/dialogs/nodes/0/assignee/id")?,
            operator_id
        );

        let unassigned = app.gql(Some(&owner), ASSIGN, json!({ "d": dialog, "u": null })).await?;
        assert!(unassigned.is_ok(), "{:?}", unassigned.body);
        assert_eq!(
            unassigned.body.pointer("/data/assignDialog/assignee"),
            Some(&Value::Null)
        );

        // Each change once on the workspace's chain; the repeats not at all.
        let tagged = audited(&app, &owner, &workspace, "dialog.tagged").await?;
        assert_eq!(tagged.len(), 2, "{tagged:?}");
        assert_eq!(tagged[0]["metadata"]["tag"], json!("lang:ru"));
        assert_eq!(tagged[0]["targetId"], json!(dialog));
        assert_eq!(tagged[0]["actor"]["kind"], json!("USER"));
        assert_eq!(audited(&app, &owner, &workspace, "dialog.untagged").await?.len(), 1);
        let assignments = audited(&app, &owner, &workspace, "dialog.assigned").await?;
        assert_eq!(assignments.len(), 2, "{assignments:?}");
        assert_eq!(assignments[0]["metadata"]["from"], json!(operator_id));
        assert_eq!(assignments[0]["metadata"]["to"], Value::Null);
        assert_eq!(assignments[1]["metadata"]["from"], Value::Null);
        assert_eq!(assignments[1]["metadata"]["to"], json!(operator_id));
        Ok(())
    }
);

backend_tests!(
    the_dialog_list_filters_by_tag_assignee_or_unassigned_page_by_page,
    |app| {
        let (owner, workspace, dialogs) = inbox_of(&app, &["Ada", "Grace", "Linus"]).await?;
        let (_, operator_id) = app.join(&owner, &workspace, "otto", "OPERATOR").await?;
        for dialog in &dialogs[..2] {
            let tagged = app.gql(Some(&owner), TAG, json!({ "d": dialog, "t": "vip" })).await?;
            anyhow::ensure!(tagged.is_ok(), "{:?}", tagged.body);
        }
        app.gql(Some(&owner), TAG, json!({ "d": dialogs[2], "t": "spam" }))
            .await?;
        let assigned = app
            .gql(Some(&owner), ASSIGN, json!({ "d": dialogs[0], "u": operator_id }))
            .await?;
        anyhow::ensure!(assigned.is_ok(), "{:?}", assigned.body);

        let w = &workspace;
        let listed = listed_titles(&app, &owner, &workspace).await?;
        let cases = [
            (json!({ "w": w, "tag": "VIP" }), &["Ada", "Grace"][..]),
            (json!({ "w": w, "tag": "spam" }), &["Linus"][..]),
            (json!({ "w": w, "tag": "nobody-has-it" }), &[][..]),
            (json!({ "w": w, "who": operator_id }), &["Ada"][..]),
            (json!({ "w": w, "nobody": true }), &["Grace", "Linus"][..]),
            (json!({ "w": w, "nobody": false }), &["Ada", "Grace", "Linus"][..]),
            (json!({ "w": w, "tag": "vip", "nobody": true }), &["Grace"][..]),
            (json!({ "w": w, "tag": "spam", "who": operator_id }), &[][..]),
        ];
        for (variables, kept) in cases {
            let titles = titles_page_by_page(&app, &owner, variables.clone()).await?;
            assert_eq!(
                titles,
                in_list_order(&listed, kept),
                "{variables}: newest first, each once"
            );
        }

        // A filter that is no tag, an assignee id that is no id, and the two assignee filters at once.
        for (variables, field) in [
            (json!({ "w": w, "tag": "not a tag" }), "tag"),
            (json!({ "w": w, "who": "someone" }), "assigneeId"),
            (json!({ "w": w, "who": operator_id, "nobody": true }), "unassigned"),
        ] {
            let refused = app.gql(Some(&owner), LIST, variables.clone()).await?;
            assert_eq!(refused.code().as_deref(), Some("BAD_USER_INPUT"), "{variables}");
            assert_eq!(refused.str_at("/errors/0/extensions/field")?, field);
        }
        Ok(())
    }
);

backend_tests!(
    bad_tags_and_assignees_are_refused_on_their_field_and_change_nothing,
    |app| {
        let (owner, workspace, dialogs) = inbox_of(&app, &["Ada"]).await?;
        let dialog = &dialogs[0];
        let outsider = app.sign_up("oscar").await?;
        let outsider_id = app
            .gql(Some(&outsider), "{ me { user { id } } }", json!({}))
            .await?
            .str_at("/data/me/user/id")?;

        for tag in ["", "   ", "two words", "comma,separated", "emoji🙂", &"x".repeat(33)] {
            for mutation in [TAG, UNTAG] {
                let refused = app
                    .gql(Some(&owner), mutation, json!({ "d": dialog, "t": tag }))
                    .await?;
                assert_eq!(refused.code().as_deref(), Some("BAD_USER_INPUT"), "{tag:?}");
                assert_eq!(refused.str_at("/errors/0/extensions/field")?, "tag");
                assert!(
                    refused.str_at("/errors/0/message")?.contains("letters, digits"),
                    "the message names the rule: {:?}",
                    refused.body
                );
            }
        }
        assert!(
            app.gql(Some(&owner), TAG, json!({ "d": dialog, "t": "x".repeat(32) }))
                .await?
                .is_ok(),
            "32 characters is a tag"
        );

        // Twenty tags fit; the twenty-first is refused and a held one is still no error.
        for n in 1..20 {
            let tagged = app
                .gql(Some(&owner), TAG, json!({ "d": dialog, "t": format!("t{n:02}") }))
                .await?;
            anyhow::ensure!(tagged.is_ok(), "{:?}", tagged.body);
        }
        let full = app
            .gql(Some(&owner), TAG, json!({ "d": dialog, "t": "one-more" }))
            .await?;
        assert_eq!(full.code().as_deref(), Some("BAD_USER_INPUT"));
        assert_eq!(full.str_at("/errors/0/extensions/field")?, "tag");
        assert!(full.str_at("/errors/0/message")?.contains("20"));
        let held = app.gql(Some(&owner), TAG, json!({ "d": dialog, "t": "t07" })).await?;
        assert_eq!(held.at("/data/tagDialog/tags")?.as_array().map(Vec::len), Some(20));

        // Someone outside the workspace, an unknown person and a malformed id are no assignees.
        for user in [
            outsider_id.clone(),
            uuid::Uuid::now_v7().to_string(),
            "nobody".to_owned(),
        ] {
            let refused = app.gql(Some(&owner), ASSIGN, json!({ "d": dialog, "u": user })).await?;
            assert_eq!(refused.code().as_deref(), Some("BAD_USER_INPUT"), "{user}");
            assert_eq!(refused.str_at("/errors/0/extensions/field")?, "userId");
        }
        let listed = app.gql(Some(&owner), LIST, json!({ "w": workspace })).await?;
        assert_eq!(
            listed.body.pointer("/data/workspace/dialogs/nodes/0/assignee"),
            Some(&Value::Null),
            "nothing was assigned"
        );
        assert_eq!(audited(&app, &owner, &workspace, "dialog.assigned").await?.len(), 0);
        assert_eq!(audited(&app, &owner, &workspace, "dialog.tagged").await?.len(), 20);

        // An unknown dialog is not found; a malformed id is named.
        let unknown = app
            .gql(
                Some(&owner),
                TAG,
                json!({ "d": uuid::Uuid::now_v7().to_string(), "t": "vip" }),
            )
            .await?;
        assert_eq!(unknown.code().as_deref(), Some("NOT_FOUND"));
        let malformed = app.gql(Some(&owner), TAG, json!({ "d": "nope", "t": "vip" })).await?;
        assert_eq!(malformed.str_at("/errors/0/extensions/field")?, "dialogId");
        Ok(())
    }
);

backend_tests!(
    viewers_and_keys_without_inbox_write_only_read_and_another_workspace_finds_no_dialog,
    |app| {
        let (owner, workspace, dialogs) = inbox_of(&app, &["Ada"]).await?;
        let dialog = &dialogs[0];
        let (viewer, viewer_id) = app.join(&owner, &workspace, "vera", "VIEWER").await?;
        let reader = app
            .gql(Some(&owner), CREATE_KEY, json!({ "w": workspace, "s": ["INBOX_READ"] }))
            .await?
            .str_at("/data/createApiKey/secret")?;
        let writer = app
            .gql(
                Some(&owner),
                CREATE_KEY,
                json!({ "w": workspace, "s": ["INBOX_WRITE"] }),
            )
            .await?
            .str_at("/data/createApiKey/secret")?;

        for token in [&viewer, &reader] {
            for (mutation, variables) in [
                (TAG, json!({ "d": dialog, "t": "vip" })),
                (UNTAG, json!({ "d": dialog, "t": "vip" })),
                (ASSIGN, json!({ "d": dialog, "u": viewer_id })),
            ] {
                let refused = app.gql(Some(token), mutation, variables).await?;
                assert_eq!(refused.code().as_deref(), Some("FORBIDDEN"), "{:?}", refused.body);
            }
        }

        // A key with INBOX_WRITE changes (and reads back what the change answers, not the assignee's
        // account, which is reading); the entry names the key.
        let tagged = app.gql(Some(&writer), TAG, json!({ "d": dialog, "t": "vip" })).await?;
        assert!(tagged.is_ok(), "{:?}", tagged.body);
        let by_key = app
            .gql(
                Some(&writer),
                "mutation($d: ID!, $u: ID) { assignDialog(dialogId: $d, userId: $u) { id tags } }",
                json!({ "d": dialog, "u": viewer_id }),
            )
            .await?;
        assert!(by_key.is_ok(), "any member may be assigned: {:?}", by_key.body);
        let entries = audited(&app, &owner, &workspace, "dialog.tagged").await?;
        assert_eq!(entries[0]["actor"]["kind"], json!("API_KEY"));

        // Those who may read the list read tags and assignees.
        for token in [&viewer, &reader] {
            let listed = app.gql(Some(token), LIST, json!({ "w": workspace })).await?;
            assert!(listed.is_ok(), "{:?}", listed.body);
            assert_eq!(strings(listed.at("/data/workspace/dialogs/nodes/0/tags")?), ["vip"]);
            assert_eq!(listed.str_at("/data/workspace/dialogs/nodes/0/assignee/id")?, viewer_id);
        }

        // Another workspace's owner, and its key, find no such dialog.
        let (other, elsewhere) = funded(&app, "peter", 0).await?;
        let their_key = app
            .gql(
                Some(&other),
                CREATE_KEY,
                json!({ "w": elsewhere, "s": ["INBOX_WRITE"] }),
            )
            .await?
            .str_at("/data/createApiKey/secret")?;
        for token in [&other, &their_key] {
            for (mutation, variables) in [
                (TAG, json!({ "d": dialog, "t": "mine" })),
                (UNTAG, json!({ "d": dialog, "t": "vip" })),
                (ASSIGN, json!({ "d": dialog, "u": null })),
            ] {
                let refused = app.gql(Some(token), mutation, variables).await?;
                assert_eq!(refused.code().as_deref(), Some("NOT_FOUND"), "{:?}", refused.body);
            }
        }
        let listed = app.gql(Some(&owner), LIST, json!({ "w": workspace })).await?;
        assert_eq!(strings(listed.at("/data/workspace/dialogs/nodes/0/tags")?), ["vip"]);
        assert_eq!(
            listed.str_at("/data/workspace/dialogs/nodes/0/assignee/id")?,
            viewer_id,
            "unchanged by the other workspace"
        );
        Ok(())
    }
);

/// The workspace's events from the first, over a WebSocket: whatever came before is replayed, so nothing
/// races the subscription's start.
async fn follow_from_the_start(app: &TestApp, token: &str, workspace: &str) -> anyhow::Result<Subscriber> {
    Subscriber::start(
        app.addr,
        token,
        DIALOG_EVENTS,
        json!({ "w": workspace, "after": 0 }),
        None,
    )
    .await
}

/// The next `DialogChanged` of a subscription to [`DIALOG_EVENTS`], passing over events of other kinds.
async fn next_change(subscriber: &mut Subscriber) -> anyhow::Result<Value> {
    for _ in 0..100 {
        let event = subscriber.event(WAIT).await?;
        if event["__typename"] == json!("DialogChanged") {
            return Ok(event);
        }
    }
    anyhow::bail!("no DialogChanged among 100 events")
}

backend_tests!(
    each_change_is_announced_once_on_the_live_events_and_a_repeat_not_at_all,
    |app| {
        let (owner, workspace, dialogs) = inbox_of(&app, &["Ada"]).await?;
        let dialog = &dialogs[0];
        let (_, operator_id) = app.join(&owner, &workspace, "otto", "OPERATOR").await?;
        let mut subscriber = follow_from_the_start(&app, &owner, &workspace).await?;

        app.gql(Some(&owner), TAG, json!({ "d": dialog, "t": "vip" })).await?;
        // Repeats announce nothing: the next event is the next change's.
        app.gql(Some(&owner), TAG, json!({ "d": dialog, "t": "VIP" })).await?;
        app.gql(Some(&owner), UNTAG, json!({ "d": dialog, "t": "absent" }))
            .await?;
        app.gql(Some(&owner), ASSIGN, json!({ "d": dialog, "u": operator_id }))
            .await?;
        app.gql(Some(&owner), ASSIGN, json!({ "d": dialog, "u": operator_id }))
            .await?;
        app.gql(Some(&owner), UNTAG, json!({ "d": dialog, "t": "vip" })).await?;

        let tagged = next_change(&mut subscriber).await?;
        assert_eq!(tagged["dialog"]["id"], json!(dialog));
        assert_eq!(tagged["accountId"].as_str().map(str::len), Some(36));
        assert_eq!(strings(&tagged["dialog"]["tags"]), ["vip"]);
        assert_eq!(tagged["dialog"]["assignee"], Value::Null);
        let sequence = tagged["sequence"].as_i64().unwrap_or(-1);
        let assigned = next_change(&mut subscriber).await?;
        assert_eq!(assigned["sequence"].as_i64(), Some(sequence + 1), "no event between");
        assert_eq!(assigned["dialog"]["assignee"]["id"], json!(operator_id));
        assert_eq!(strings(&assigned["dialog"]["tags"]), ["vip"]);
        let untagged = next_change(&mut subscriber).await?;
        assert_eq!(untagged["sequence"].as_i64(), Some(sequence + 2));
        assert!(strings(&untagged["dialog"]["tags"]).is_empty());
        assert_eq!(untagged["dialog"]["assignee"]["id"], json!(operator_id));
        subscriber.expect_nothing(Duration::from_millis(300)).await?;
        subscriber.close().await?;
        Ok(())
    }
);

backend_tests!(removing_a_member_unassigns_their_dialogs_in_the_same_change, |app| {
    let (owner, workspace, dialogs) = inbox_of(&app, &["Ada", "Grace"]).await?;
    let (operator, operator_id) = app.join(&owner, &workspace, "otto", "OPERATOR").await?;
    let (_, other_id) = app.join(&owner, &workspace, "olga", "OPERATOR").await?;
    app.gql(Some(&owner), ASSIGN, json!({ "d": dialogs[0], "u": operator_id }))
        .await?;
    app.gql(Some(&owner), ASSIGN, json!({ "d": dialogs[1], "u": other_id }))
        .await?;

    let mut subscriber = follow_from_the_start(&app, &owner, &workspace).await?;
    for (dialog, assignee) in [(&dialogs[0], &operator_id), (&dialogs[1], &other_id)] {
        let change = next_change(&mut subscriber).await?;
        assert_eq!(change["dialog"]["id"], json!(dialog));
        assert_eq!(change["dialog"]["assignee"]["id"], json!(assignee));
    }

    let removed = app
        .gql(Some(&owner), REMOVE, json!({ "w": workspace, "u": operator_id }))
        .await?;
    assert!(removed.is_ok(), "{:?}", removed.body);

    // Announced with the removal, and listed in its audit entry.
    let change = next_change(&mut subscriber).await?;
    assert_eq!(change["dialog"]["id"], json!(dialogs[0]));
    assert_eq!(change["dialog"]["assignee"], Value::Null);
    subscriber.expect_nothing(Duration::from_millis(300)).await?;
    subscriber.close().await?;

    // Ada's dialog is nobody's now, Grace's still Olga's.
    let mine = titles_page_by_page(&app, &owner, json!({ "w": workspace, "who": operator_id })).await?;
    assert!(mine.is_empty(), "{mine:?}");
    let nobodys = titles_page_by_page(&app, &owner, json!({ "w": workspace, "nobody": true })).await?;
    assert_eq!(nobodys, ["Ada"]);
    let olgas = titles_page_by_page(&app, &owner, json!({ "w": workspace, "who": other_id })).await?;
    assert_eq!(olgas, ["Grace"]);
    let removal = audited(&app, &owner, &workspace, "member.removed").await?;
    assert_eq!(removal[0]["metadata"]["unassigned"]["count"], json!(1));
    assert_eq!(removal[0]["metadata"]["unassigned"]["dialogs"], json!([dialogs[0]]));

    // The one removed is no assignee any more.
    let refused = app
        .gql(Some(&owner), ASSIGN, json!({ "d": dialogs[0], "u": operator_id }))
        .await?;
    assert_eq!(refused.str_at("/errors/0/extensions/field")?, "userId");
    assert_eq!(
        app.gql(Some(&operator), LIST, json!({ "w": workspace }))
            .await?
            .code()
            .as_deref(),
        Some("FORBIDDEN")
    );
    Ok(())
});

backend_tests!(
    an_automation_tags_and_assigns_through_the_cores_under_its_own_name,
    |app| {
        let (owner, workspace, dialogs) = inbox_of(&app, &["Ada"]).await?;
        let (_, operator_id) = app.join(&owner, &workspace, "otto", "OPERATOR").await?;
        let scope = app.scope_of(&owner, &workspace).await?;
        let dialog: DialogId = dialogs[0].parse()?;
        let automation = Actor {
            kind: ActorKind::System,
            id: Some("automation-1".to_owned()),
            display_name: "automation: VIP triage".to_owned(),
        };
        let client = ClientInfo::default();
        let tagged = app
            .inbox
            .apply_tag(&scope, automation.clone(), &client, dialog, " Auto ")
            .await?;
        assert_eq!(tagged.tags, ["auto"]);
        let assigned = app
            .inbox
            .apply_assignment(&scope, automation.clone(), &client, dialog, Some(operator_id.parse()?))
            .await?;
        assert_eq!(assigned.assignee_id.map(|id| id.to_string()), Some(operator_id));
        assert_eq!(assigned.tags, ["auto"], "the whole dialog");
        let refused = app.inbox.apply_tag(&scope, automation, &client, dialog, "no way").await;
        assert!(
            matches!(refused, Err(tgos_domain::DomainError::Invalid(ref errors)) if errors[0].field == "tag"),
            "{refused:?}"
        );
        let found = app
            .inbox
            .dialog(&scope, dialog)
            .await?
            .ok_or_else(|| anyhow::anyhow!("gone"))?;
        assert_eq!(found.tags, ["auto"], "a whole dialog's read carries its tags");
        for action in ["dialog.tagged", "dialog.assigned"] {
            let entries = audited(&app, &owner, &workspace, action).await?;
            assert_eq!(entries.len(), 1, "{action}");
            assert_eq!(entries[0]["actor"]["kind"], json!("SYSTEM"));
            assert_eq!(entries[0]["actor"]["displayName"], json!("automation: VIP triage"));
        }
        Ok(())
    }
);
