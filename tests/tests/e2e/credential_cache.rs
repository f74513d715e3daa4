//! The credential and membership cache: a caller's repeated requests skip the database, and every change of
//! access made through the server takes effect on the very next request, even for a caller whose
//! credentials were just served from memory.

use serde_json::json;
use tgos_tests::app::PASSWORD;
use tgos_tests::{TestApp, backend_tests};

const ME: &str = "{ me { user { username } } }";
const WORKSPACE: &str = "query($w: ID!) { workspace(id: $w) { id viewerRole } }";
const AUDIT_LOG: &str = "query($w: ID!) { workspace(id: $w) { auditLog(first: 1) { edges { node { action } } } } }";
const CHANGE_ROLE: &str =
    "mutation($w: ID!, $u: ID!, $r: Role!) { changeMemberRole(workspaceId: $w, userId: $u, role: $r) { role } }";

/// The statements one owner's `workspace { viewerRole }` request costs.
async fn cost_of_workspace(app: &TestApp, owner: &str, workspace: &str) -> anyhow::Result<u64> {
    let before = app.sql_statements().await?;
    let answer = app.gql(Some(owner), WORKSPACE, json!({ "w": workspace })).await?;
    assert_eq!(answer.str_at("/data/workspace/viewerRole")?, "OWNER");
    Ok(app.sql_statements().await? - before)
}

backend_tests!(
    a_callers_repeated_requests_read_neither_its_session_nor_its_role_again,
    options = tgos_tests::TestOptions::counting_statements(),
    |app| {
        let owner = app.sign_up("olive").await?;
        let workspace = app.create_workspace(&owner, "Team").await?;
        let (_, member_id) = app.join(&owner, &workspace, "adam", "VIEWER").await?;
        // A role change forgets everything resolved so far: the next request reads the token and the role.
        let changed = app
            .gql(
                Some(&owner),
                CHANGE_ROLE,
                json!({ "w": workspace, "u": member_id, "r": "OPERATOR" }),
            )
            .await?;
        assert!(changed.is_ok(), "{:?}", changed.body);
        let cold = cost_of_workspace(&app, &owner, &workspace).await?;
        let mut warm = Vec::new();
        for _ in 0..3 {
            warm.push(cost_of_workspace(&app, &owner, &workspace).await?);
        }
        eprintln!("statements for workspace {{ viewerRole }}: cold {cold}, then {warm:?}");
        for repeated in warm {
            // The session join and the membership read (one each on SQLite; the read behind the wall is four on
            // PostgreSQL) are skipped; neither field needs the workspace's own row.
            assert!(
                cold >= repeated + 2,
                "a repeated request cost {repeated} statements, the first {cold}"
            );
        }
        Ok(())
    }
);

backend_tests!(
    a_session_used_a_moment_ago_stops_working_as_soon_as_it_is_revoked,
    |app| {
        let first = app.sign_up("hopper").await?;
        let second = app
            .sign_in("hopper", PASSWORD)
            .await?
            .str_at("/data/signIn/session/token")?;
        // Both resolved once, so both are in memory.
        assert!(app.gql(Some(&second), ME, json!({})).await?.is_ok());
        let sessions = app
            .gql(Some(&first), "{ me { sessions { id current } } }", json!({}))
            .await?;
        let other = sessions
            .at("/data/me/sessions")?
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["current"] == json!(false))
            .and_then(|s| s["id"].as_str())
            .map(str::to_owned)
            .ok_or_else(|| anyhow::anyhow!("no other session in {:?}", sessions.body))?;
        let revoked = app
            .gql(
                Some(&first),
                "mutation($id: ID!) { revokeSession(id: $id) }",
                json!({ "id": other }),
            )
            .await?;
        assert_eq!(revoked.at("/data/revokeSession")?, &json!(true));
        assert_eq!(
            app.gql(Some(&second), ME, json!({})).await?.code().as_deref(),
            Some("UNAUTHENTICATED")
        );

        // Signing out ends the session that asked, at once, though it was served from memory a moment ago.
        assert!(app.gql(Some(&first), ME, json!({})).await?.is_ok());
        let out = app.gql(Some(&first), "mutation { signOut }", json!({})).await?;
        assert_eq!(out.at("/data/signOut")?, &json!(true));
        assert_eq!(
            app.gql(Some(&first), ME, json!({})).await?.code().as_deref(),
            Some("UNAUTHENTICATED")
        );
        Ok(())
    }
);

backend_tests!(a_demoted_or_removed_member_loses_access_on_the_next_request, |app| {
    let owner = app.sign_up("olive").await?;
    let workspace = app.create_workspace(&owner, "Team").await?;
    let (admin, admin_id) = app.join(&owner, &workspace, "adam", "ADMIN").await?;
    assert!(
        app.gql(Some(&admin), AUDIT_LOG, json!({ "w": workspace }))
            .await?
            .is_ok()
    );

    let demoted = app
        .gql(
            Some(&owner),
            CHANGE_ROLE,
            json!({ "w": workspace, "u": admin_id, "r": "VIEWER" }),
        )
        .await?;
    assert_eq!(demoted.str_at("/data/changeMemberRole/role")?, "VIEWER");
    assert_eq!(
        app.gql(Some(&admin), AUDIT_LOG, json!({ "w": workspace }))
            .await?
            .code()
            .as_deref(),
        Some("FORBIDDEN")
    );
    let viewer = app.gql(Some(&admin), WORKSPACE, json!({ "w": workspace })).await?;
    assert_eq!(viewer.str_at("/data/workspace/viewerRole")?, "VIEWER");

    // Promotion takes effect at once too.
    let promoted = app
        .gql(
            Some(&owner),
            CHANGE_ROLE,
            json!({ "w": workspace, "u": admin_id, "r": "ADMIN" }),
        )
        .await?;
    assert_eq!(promoted.str_at("/data/changeMemberRole/role")?, "ADMIN");
    assert!(
        app.gql(Some(&admin), AUDIT_LOG, json!({ "w": workspace }))
            .await?
            .is_ok()
    );

    let removed = app
        .gql(
            Some(&owner),
            "mutation($w: ID!, $u: ID!) { removeMember(workspaceId: $w, userId: $u) }",
            json!({ "w": workspace, "u": admin_id }),
        )
        .await?;
    assert_eq!(removed.at("/data/removeMember")?, &json!(true));
    assert_eq!(
        app.gql(Some(&admin), WORKSPACE, json!({ "w": workspace }))
            .await?
            .code()
            .as_deref(),
        Some("FORBIDDEN")
    );
    Ok(())
});

backend_tests!(
    an_owner_who_transferred_ownership_is_an_admin_on_the_next_request,
    |app| {
        let owner = app.sign_up("olive").await?;
        let workspace = app.create_workspace(&owner, "Team").await?;
        let (admin, admin_id) = app.join(&owner, &workspace, "adam", "ADMIN").await?;
        let owner_id = app
            .gql(Some(&owner), "{ me { user { id } } }", json!({}))
            .await?
            .str_at("/data/me/user/id")?;
        let as_owner = app.gql(Some(&owner), WORKSPACE, json!({ "w": workspace })).await?;
        assert_eq!(as_owner.str_at("/data/workspace/viewerRole")?, "OWNER");
        let transfer = "mutation($w: ID!, $u: ID!) { transferOwnership(workspaceId: $w, userId: $u) { id } }";
        let moved = app
            .gql(Some(&owner), transfer, json!({ "w": workspace, "u": admin_id }))
            .await?;
        assert!(moved.is_ok(), "{:?}", moved.body);
        let now_admin = app.gql(Some(&owner), WORKSPACE, json!({ "w": workspace })).await?;
        assert_eq!(now_admin.str_at("/data/workspace/viewerRole")?, "ADMIN");
        // Only the owner transfers: the old owner may not take it back, the new one may give it back.
        let again = app
            .gql(Some(&owner), transfer, json!({ "w": workspace, "u": owner_id }))
            .await?;
        assert_eq!(again.code().as_deref(), Some("FORBIDDEN"));
        let back = app
            .gql(Some(&admin), transfer, json!({ "w": workspace, "u": owner_id }))
            .await?;
        assert!(back.is_ok(), "{:?}", back.body);
        Ok(())
    }
);
