//! What one request may ask for: its cost (`first` × what each item selects), its depth (introspection
//! measured apart, so the standard introspection query passes), its aliases and its mutation fields, all
//! refused before anything runs; and a page of dialogs with their messages read in a fixed number of
//! statements.

use serde_json::json;
use tgos_tests::app::PASSWORD;
use tgos_tests::{TestApp, TestOptions, backend_tests};

use super::accounts::{CONTACT_SEND, RENT, funded};

/// The standard introspection query as graphql-js builds it with every option on.
const INTROSPECTION_QUERY: &str = include_str!("../../fixtures/introspection_query.graphql");

/// Issue 15's example: pages of messages under a page of dialogs, and again under each message's dialog.
const NESTED_PAGES: &str = "query($w: ID!) { workspace(id: $w) { dialogs(first: 100) { nodes { \
    messages(first: 100) { nodes { dialog { messages(first: 100) { nodes { id text } } } } } } } } }";

backend_tests!(a_page_of_pages_is_refused_naming_its_cost_and_the_limit, |app| {
    let (owner, workspace) = funded(&app, "olive", 0).await?;
    let refused = app.gql(Some(&owner), NESTED_PAGES, json!({ "w": workspace })).await?;
    assert_eq!(
        refused.code().as_deref(),
        Some("QUERY_TOO_COMPLEX"),
        "{:?}",
        refused.body
    );
    assert_eq!(refused.at("/data").ok(), None, "nothing ran");
    let cost = refused.at("/errors/0/extensions/cost")?.as_u64().unwrap_or_default();
    assert!(cost > 1_000_000, "a million messages cost over a million: {cost}");
    assert_eq!(refused.at("/errors/0/extensions/limit")?, &json!(10_000));
    let message = refused.str_at("/errors/0/message")?;
    assert!(
        message.contains(&cost.to_string()) && message.contains("10000"),
        "{message}"
    );
    assert_eq!(refused.at("/extensions/cost")?, &json!(cost));
    Ok(())
});

backend_tests!(
    every_response_carries_its_cost_and_a_page_costs_first_times_its_items,
    |app| {
        let (owner, workspace) = funded(&app, "olive", 0).await?;
        let me = app.gql(Some(&owner), "{ me { user { id } } }", json!({})).await?;
        assert!(me.is_ok(), "{:?}", me.body);
        assert_eq!(
            me.at("/extensions/cost")?,
            &json!(3),
            "a field costs one plus its selection"
        );
        let page = |first: Option<i32>| {
            let first = first.map(|n| format!("(first: {n})")).unwrap_or_default();
            format!("query($w: ID!) {{ workspace(id: $w) {{ dialogs{first} {{ nodes {{ id unreadCount }} }} }} }}")
        };
        let five = app.gql(Some(&owner), &page(Some(5)), json!({ "w": workspace })).await?;
        assert!(five.is_ok(), "{:?}", five.body);
        assert_eq!(
            five.at("/extensions/cost")?,
            &json!(1 + 5 * 3),
            "workspace + 5 × (nodes + 2 fields)"
        );
        let default = app.gql(Some(&owner), &page(None), json!({ "w": workspace })).await?;
        assert_eq!(
            default.at("/extensions/cost")?,
            &json!(1 + 20 * 3),
            "first defaults to 20"
        );
        let anonymous = app.gql(None, "{ __typename }", json!({})).await?;
        assert_eq!(
            anonymous.body.pointer("/extensions/cost"),
            Some(&json!(0)),
            "__typename is free, and the cost is still there"
        );
        Ok(())
    }
);

backend_tests!(
    the_cost_limit_comes_from_configuration,
    options = TestOptions {
        max_complexity: Some(50),
        ..TestOptions::default()
    },
    |app| {
        let (owner, workspace) = funded(&app, "olive", 0).await?;
        let query = "query($w: ID!, $n: Int) { workspace(id: $w) { dialogs(first: $n) { nodes { id } } } }";
        let fits = app.gql(Some(&owner), query, json!({ "w": workspace, "n": 24 })).await?;
        assert!(fits.is_ok(), "1 + 24 × 2 = 49: {:?}", fits.body);
        let over = app.gql(Some(&owner), query, json!({ "w": workspace, "n": 25 })).await?;
        assert_eq!(over.code().as_deref(), Some("QUERY_TOO_COMPLEX"), "{:?}", over.body);
        assert_eq!(over.at("/errors/0/extensions/cost")?, &json!(51));
        assert_eq!(over.at("/errors/0/extensions/limit")?, &json!(50));
        Ok(())
    }
);

backend_tests!(the_standard_introspection_query_succeeds, |app| {
    for token in [None, Some(app.sign_up("integrator").await?)] {
        let response = app.gql(token.as_deref(), INTROSPECTION_QUERY, json!({})).await?;
        assert!(response.is_ok(), "{:?}", response.errors());
        let types = response
            .at("/data/__schema/types")?
            .as_array()
            .cloned()
            .unwrap_or_default();
        let names: Vec<&str> = types.iter().filter_map(|t| t["name"].as_str()).collect();
        for expected in ["Query", "Mutation", "Dialog", "__Type"] {
            assert!(names.contains(&expected), "{expected} missing from {names:?}");
        }
        assert_eq!(response.at("/data/__schema/queryType/name")?, &json!("Query"));
    }
    Ok(())
});

backend_tests!(a_deep_data_query_is_refused_naming_its_depth_and_the_limit, |app| {
    let token = app.sign_up("diver").await?;
    // Thirteen levels of data, each page of one item, so only the depth is at fault.
    let deep = "{ me { workspaces { dialogs(first: 1) { nodes { messages(first: 1) { nodes { dialog { \
        messages(first: 1) { nodes { dialog { account { health { state } } } } } } } } } } } } }";
    let refused = app.gql(Some(&token), deep, json!({})).await?;
    assert_eq!(
        refused.code().as_deref(),
        Some("QUERY_TOO_COMPLEX"),
        "{:?}",
        refused.body
    );
    assert_eq!(refused.at("/errors/0/extensions/depth")?, &json!(13));
    assert_eq!(refused.at("/errors/0/extensions/limit")?, &json!(12));
    assert_eq!(refused.at("/data").ok(), None);
    Ok(())
});

backend_tests!(
    introspection_that_fans_out_further_than_the_standard_query_is_refused,
    |app| {
        let wide = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }";
        let refused = app.gql(None, wide, json!({})).await?;
        assert_eq!(
            refused.code().as_deref(),
            Some("QUERY_TOO_COMPLEX"),
            "{:?}",
            refused.body
        );
        assert_eq!(refused.at("/data").ok(), None);
        Ok(())
    }
);

/// A mutation with `count` aliased sign-ups, `user0` … `user{count-1}`.
fn aliased_sign_ups(count: usize) -> String {
    let fields: Vec<String> = (0..count)
        .map(|i| {
            format!(
                "s{i}: signUp(input: {{email: \"user{i}@example.com\", fullName: \"U\", username: \"user{i}\", \
                 password: \"{PASSWORD}\", ageConfirmed: true}}) {{ user {{ id }} }}"
            )
        })
        .collect();
    format!("mutation {{ {} }}", fields.join(" "))
}

backend_tests!(two_hundred_aliased_sign_ups_are_refused_before_any_runs, |app| {
    let refused = app.gql(None, &aliased_sign_ups(200), json!({})).await?;
    assert_eq!(
        refused.code().as_deref(),
        Some("QUERY_TOO_COMPLEX"),
        "{:?}",
        refused.body
    );
    assert_eq!(refused.at("/errors/0/extensions/mutationFields")?, &json!(200));
    assert_eq!(refused.at("/errors/0/extensions/limit")?, &json!(10));
    assert_eq!(refused.at("/data").ok(), None);
    for probe in ["user0", "user199"] {
        assert_eq!(
            app.sign_in(probe, PASSWORD).await?.code().as_deref(),
            Some("UNAUTHENTICATED"),
            "{probe} was not created"
        );
    }
    let eleven = app.gql(None, &aliased_sign_ups(11), json!({})).await?;
    assert_eq!(eleven.code().as_deref(), Some("QUERY_TOO_COMPLEX"), "{:?}", eleven.body);
    let ten = app.gql(None, &aliased_sign_ups(10), json!({})).await?;
    assert!(ten.at("/data/s9/user/id").is_ok(), "ten run: {:?}", ten.body);
    Ok(())
});

backend_tests!(aliases_over_the_cap_are_refused_naming_the_count_and_the_cap, |app| {
    let aliases = |n: usize| {
        format!(
            "{{ {} }}",
            (0..n)
                .map(|i| format!("a{i}: __typename"))
                .collect::<Vec<_>>()
                .join(" ")
        )
    };
    let thirty = app.gql(None, &aliases(30), json!({})).await?;
    assert!(thirty.is_ok(), "{:?}", thirty.body);
    let refused = app.gql(None, &aliases(31), json!({})).await?;
    assert_eq!(
        refused.code().as_deref(),
        Some("QUERY_TOO_COMPLEX"),
        "{:?}",
        refused.body
    );
    assert_eq!(refused.at("/errors/0/extensions/aliases")?, &json!(31));
    assert_eq!(refused.at("/errors/0/extensions/limit")?, &json!(30));
    // Aliases inside a fragment count each time it is spread.
    let spread = format!(
        "{{ ...F ...F }} fragment F on Query {{ {} }}",
        (0..16)
            .map(|i| format!("a{i}: __typename"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let refused = app.gql(None, &spread, json!({})).await?;
    assert_eq!(
        refused.at("/errors/0/extensions/aliases")?,
        &json!(32),
        "{:?}",
        refused.body
    );
    Ok(())
});

/// A page of dialogs showing each one's newest messages.
const DIALOGS_WITH_MESSAGES: &str = "query($w: ID!) { workspace(id: $w) { dialogs(first: 50) { nodes { id \
    messages(first: 3) { nodes { id text dialog { id } } pageInfo { hasNextPage } } } } } }";

/// What one request for [`DIALOGS_WITH_MESSAGES`] costs in SQL statements (after a warm-up request), and
/// its dialogs.
async fn statements_of_page(
    app: &TestApp,
    owner: &str,
    workspace: &str,
) -> anyhow::Result<(u64, Vec<serde_json::Value>)> {
    app.gql(Some(owner), DIALOGS_WITH_MESSAGES, json!({ "w": workspace }))
        .await?;
    let before = app.sql_statements().await?;
    let page = app
        .gql(Some(owner), DIALOGS_WITH_MESSAGES, json!({ "w": workspace }))
        .await?;
    let statements = app.sql_statements().await? - before;
    anyhow::ensure!(page.is_ok(), "{:?}", page.body);
    let nodes = page
        .at("/data/workspace/dialogs/nodes")?
        .as_array()
        .cloned()
        .unwrap_or_default();
    Ok((statements, nodes))
}

backend_tests!(
    a_page_of_dialogs_with_their_messages_costs_the_same_statements_however_many_it_holds,
    options = TestOptions::counting_statements(),
    |app| {
        let account = app.stock_pool(1, 500).await?[0];
        let (owner, workspace) = funded(&app, "olive", 10_000).await?;
        let rented = app
            .gql(
                Some(&owner),
                RENT,
                json!({ "w": workspace, "o": account.to_string(), "d": 1 }),
            )
            .await?;
        anyhow::ensure!(rented.is_ok(), "{:?}", rented.body);
        let sent = app
            .gql(
                Some(&owner),
                CONTACT_SEND,
                json!({ "a": account.to_string(), "c": "Contact 0", "t": "hi 0" }),
            )
            .await?;
        anyhow::ensure!(sent.is_ok(), "{:?}", sent.body);
        app.inbox.sync_all().await?;
        let (statements_of_one, nodes) = statements_of_page(&app, &owner, &workspace).await?;
        assert_eq!(nodes.len(), 1);

        let scope = app.scope_of(&owner, &workspace).await?;
        let user = app
            .accounts
            .held(&scope, account)
            .await?
            .telegram_user_id
            .ok_or_else(|| anyhow::anyhow!("no sandbox user"))?;
        let network = app
            .sandbox()
            .ok_or_else(|| anyhow::anyhow!("the sandbox gateway is off"))?;
        for i in 1..12 {
            for n in 0..5 {
                network.contact_send(user, &format!("Contact {i}"), &format!("hi {n}"))?;
            }
        }
        app.inbox.sync_all().await?;
        let (statements_of_twelve, nodes) = statements_of_page(&app, &owner, &workspace).await?;
        assert_eq!(nodes.len(), 12);
        for node in &nodes {
            let messages = node["messages"]["nodes"].as_array().cloned().unwrap_or_default();
            let expected = if node["messages"]["pageInfo"]["hasNextPage"] == json!(true) {
                3
            } else {
                1
            };
            assert_eq!(messages.len(), expected, "{node}");
            for message in &messages {
                assert_eq!(
                    message["dialog"]["id"], node["id"],
                    "each dialog reads its own messages"
                );
            }
        }
        assert_eq!(
            nodes
                .iter()
                .filter(|n| n["messages"]["pageInfo"]["hasNextPage"] == json!(true))
                .count(),
            11,
            "eleven dialogs hold five messages, more than the page of three"
        );
        eprintln!(
            "statements for dialogs with messages: 1 dialog {statements_of_one}, 12 dialogs {statements_of_twelve}"
        );
        assert_eq!(
            statements_of_twelve, statements_of_one,
            "a page of twelve dialogs with their messages reads as much as a page of one"
        );
        Ok(())
    }
);
