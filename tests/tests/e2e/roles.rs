use serde_json::json;
use tgos_tests::backend_tests;

const CHANGE: &str =
    "mutation($w: ID!, $u: ID!, $r: Role!) { changeMemberRole(workspaceId: $w, userId: $u, role: $r) { role } }";
const REMOVE: &str = "mutation($w: ID!, $u: ID!) { removeMember(workspaceId: $w, userId: $u) }";
const TRANSFER: &str = "mutation($w: ID!, $u: ID!) { transferOwnership(workspaceId: $w, userId: $u) { viewerRole } }";

async fn owner_id(app: &tgos_tests::TestApp, token: &str) -> anyhow::Result<String> {
    app.gql(Some(token), "{ me { user { id } } }", json!({}))
        .await?
        .str_at("/data/me/user/id")
}

backend_tests!(an_admin_cannot_promote_anyone_to_admin_or_touch_the_owner, |app| {
    let owner = app.sign_up("olive").await?;
    let workspace = app.create_workspace(&owner, "Team").await?;
    let (admin, _) = app.join(&owner, &workspace, "adam", "ADMIN").await?;
    let (_, operator_id) = app.join(&owner, &workspace, "opal", "OPERATOR").await?;
    let owner_id = owner_id(&app, &owner).await?;

    let promote = app
        .gql(
            Some(&admin),
            CHANGE,
            json!({ "w": workspace, "u": operator_id, "r": "ADMIN" }),
        )
        .await?;
    assert_eq!(promote.code().as_deref(), Some("FORBIDDEN"));
    assert!(promote.str_at("/errors/0/message")?.contains("below your own"));
    let demote_owner = app
        .gql(
            Some(&admin),
            CHANGE,
            json!({ "w": workspace, "u": owner_id, "r": "VIEWER" }),
        )
        .await?;
    assert_eq!(demote_owner.code().as_deref(), Some("FORBIDDEN"));
    let remove_owner = app
        .gql(Some(&admin), REMOVE, json!({ "w": workspace, "u": owner_id }))
        .await?;
    assert_eq!(remove_owner.code().as_deref(), Some("FORBIDDEN"));
    let make_owner = app
        .gql(
            Some(&owner),
            CHANGE,
            json!({ "w": workspace, "u": operator_id, "r": "OWNER" }),
        )
        .await?;
    assert_eq!(
        make_owner.code().as_deref(),
        Some("FORBIDDEN"),
        "ownership moves only by transfer"
    );

    let demote = app
        .gql(
            Some(&admin),
            CHANGE,
            json!({ "w": workspace, "u": operator_id, "r": "VIEWER" }),
        )
        .await?;
    assert_eq!(demote.str_at("/data/changeMemberRole/role")?, "VIEWER");
    let promote_by_owner = app
        .gql(
            Some(&owner),
            CHANGE,
            json!({ "w": workspace, "u": operator_id, "r": "ADMIN" }),
        )
        .await?;
    assert_eq!(promote_by_owner.str_at("/data/changeMemberRole/role")?, "ADMIN");
    Ok(())
});

backend_tests!(an_operator_cannot_read_the_audit_log_but_an_admin_can, |app| {
    let owner = app.sign_up("olive").await?;
    let workspace = app.create_workspace(&owner, "Team").await?;
    let (admin, _) = app.join(&owner, &workspace, "adam", "ADMIN").await?;
    let (operator, _) = app.join(&owner, &workspace, "opal", "OPERATOR").await?;
    let log = "query($id: ID!, $a: String) { workspace(id: $id) { auditLog(action: $a) { edges { node { action actor { kind displayName } ipAddress targetType metadata } } } } }";
    let refused = app.gql(Some(&operator), log, json!({ "id": workspace })).await?;
    assert_eq!(refused.code().as_deref(), Some("FORBIDDEN"));
    let entries = app.gql(Some(&admin), log, json!({ "id": workspace })).await?;
    let actions: Vec<String> = entries
        .at("/data/workspace/auditLog/edges")?
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["node"]["action"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        actions,
        [
            "member.joined",
            "invitation.created",
            "member.joined",
            "invitation.created",
            "workspace.created"
        ],
        "newest first"
    );
    assert_eq!(
        entries.str_at("/data/workspace/auditLog/edges/0/node/ipAddress")?,
        "127.0.0.1"
    );
    let filtered = app
        .gql(Some(&admin), log, json!({ "id": workspace, "a": "workspace.created" }))
        .await?;
    assert_eq!(
        filtered.at("/data/workspace/auditLog/edges")?.as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(
        filtered.str_at("/data/workspace/auditLog/edges/0/node/actor/displayName")?,
        "olive"
    );
    Ok(())
});

backend_tests!(ownership_moves_only_by_transfer_and_the_owner_cannot_leave, |app| {
    let owner = app.sign_up("olive").await?;
    let workspace = app.create_workspace(&owner, "Team").await?;
    let (admin, admin_id) = app.join(&owner, &workspace, "adam", "ADMIN").await?;
    let owner_id = owner_id(&app, &owner).await?;
    let leave = app
        .gql(Some(&owner), REMOVE, json!({ "w": workspace, "u": owner_id }))
        .await?;
    assert_eq!(leave.code().as_deref(), Some("FORBIDDEN"));
    let by_admin = app
        .gql(Some(&admin), TRANSFER, json!({ "w": workspace, "u": admin_id }))
        .await?;
    assert_eq!(by_admin.code().as_deref(), Some("FORBIDDEN"));
    let moved = app
        .gql(Some(&owner), TRANSFER, json!({ "w": workspace, "u": admin_id }))
        .await?;
    assert_eq!(
        moved.str_at("/data/transferOwnership/viewerRole")?,
        "ADMIN",
        "the old owner becomes admin"
    );
    let now_owner = app
        .gql(
            Some(&admin),
            "query($id: ID!) { workspace(id: $id) { viewerRole } }",
            json!({ "id": workspace }),
        )
        .await?;
    assert_eq!(now_owner.str_at("/data/workspace/viewerRole")?, "OWNER");
    let left = app
        .gql(Some(&owner), REMOVE, json!({ "w": workspace, "u": owner_id }))
        .await?;
    assert_eq!(left.at("/data/removeMember")?, &json!(true), "a former owner may leave");
    let gone = app
        .gql(
            Some(&owner),
            "query($id: ID!) { workspace(id: $id) { id } }",
            json!({ "id": workspace }),
        )
        .await?;
    assert_eq!(gone.code().as_deref(), Some("FORBIDDEN"));
    Ok(())
});

backend_tests!(a_member_of_one_workspace_reaches_nothing_of_another, |app| {
    let alice = app.sign_up("alice").await?;
    let a = app.create_workspace(&alice, "A").await?;
    let bob = app.sign_up("bob").await?;
    let b = app.create_workspace(&bob, "B").await?;
    let (_, carol_in_b) = app.join(&bob, &b, "carol", "VIEWER").await?;
    assert!(
        app.gql(
            Some(&alice),
            "query($w: ID!) { workspace(id: $w) { id } }",
            json!({ "w": a })
        )
        .await?
        .is_ok()
    );
    let probes = [
        ("query($w: ID!) { workspace(id: $w) { id } }", json!({ "w": b })),
        (CHANGE, json!({ "w": b, "u": carol_in_b, "r": "OPERATOR" })),
        (REMOVE, json!({ "w": b, "u": carol_in_b })),
        (TRANSFER, json!({ "w": b, "u": carol_in_b })),
        (
            "mutation($w: ID!) { inviteMember(workspaceId: $w, email: \"x@example.com\", role: VIEWER) { id } }",
            json!({ "w": b }),
        ),
    ];
    for (query, variables) in probes {
        let response = app.gql(Some(&alice), query, variables).await?;
        assert_eq!(
            response.code().as_deref(),
            Some("FORBIDDEN"),
            "{query}: {:?}",
            response.body
        );
        assert!(
            response.body["data"].is_null(),
            "nothing of B leaks: {:?}",
            response.body
        );
    }
    Ok(())
});
