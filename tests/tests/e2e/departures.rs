//! What a member made does not outlive their right to make it: removing a member, a member leaving, or
//! demoting one below ADMIN revokes the API keys and pending invitations they created (at once, open
//! WebSockets included), unless an admin re-owned a key first; the audit entry of the change lists what went.

use std::time::Duration;

use serde_json::{Value, json};
use tgos_tests::live::{Frame, Subscriber};
use tgos_tests::{TestApp, backend_tests};

const CREATE_KEY: &str = "mutation($w: ID!, $n: String!) { createApiKey(workspaceId: $w, name: $n, scopes: [INBOX_READ]) { secret apiKey { id createdBy { id username } } } }";
const INVITE: &str = "mutation($w: ID!, $e: String!, $r: Role!) { inviteMember(workspaceId: $w, email: $e, role: $r) { id invitedBy { username } } }";
const REASSIGN: &str = "mutation($k: ID!, $u: ID!) { reassignApiKey(id: $k, toUserId: $u) { id createdBy { id } } }";
const REMOVE: &str = "mutation($w: ID!, $u: ID!) { removeMember(workspaceId: $w, userId: $u) }";
const CHANGE_ROLE: &str =
    "mutation($w: ID!, $u: ID!, $r: Role!) { changeMemberRole(workspaceId: $w, userId: $u, role: $r) { role } }";
const WORKSPACE: &str = "query($w: ID!) { workspace(id: $w) { id } }";

/// A key made by the holder of `token`: its secret and id.
async fn key(app: &TestApp, token: &str, workspace: &str, name: &str) -> anyhow::Result<(String, String)> {
    let created = app
        .gql(Some(token), CREATE_KEY, json!({ "w": workspace, "n": name }))
        .await?;
    Ok((
        created.str_at("/data/createApiKey/secret")?,
        created.str_at("/data/createApiKey/apiKey/id")?,
    ))
}

/// An invitation sent by the holder of `token`: its id and the token the invitee's email carries.
async fn invite(
    app: &TestApp,
    token: &str,
    workspace: &str,
    username: &str,
    role: &str,
) -> anyhow::Result<(String, String)> {
    let email = format!("{username}@example.com");
    let invited = app
        .gql(Some(token), INVITE, json!({ "w": workspace, "e": email, "r": role }))
        .await?;
    Ok((
        invited.str_at("/data/inviteMember/id")?,
        app.invitation_token_for(&email)?,
    ))
}

async fn user_id(app: &TestApp, token: &str) -> anyhow::Result<String> {
    app.gql(Some(token), "{ me { user { id } } }", json!({}))
        .await?
        .str_at("/data/me/user/id")
}

/// The `revoked` metadata of the newest audit entry with `action`.
async fn revoked_in_audit(app: &TestApp, owner: &str, workspace: &str, action: &str) -> anyhow::Result<Value> {
    let log = app
        .gql(
            Some(owner),
            "query($w: ID!, $a: String) { workspace(id: $w) { auditLog(first: 1, action: $a) { edges { node { metadata } } } } }",
            json!({ "w": workspace, "a": action }),
        )
        .await?;
    Ok(log
        .at("/data/workspace/auditLog/edges/0/node/metadata/revoked")?
        .clone())
}

fn ids(list: &[&str]) -> Value {
    json!(list)
}

backend_tests!(
    a_removed_admins_keys_and_invitations_go_with_them_unless_re_owned,
    |app| {
        let owner = app.sign_up("olive").await?;
        let workspace = app.create_workspace(&owner, "Agency").await?;
        let owner_id = user_id(&app, &owner).await?;
        let (admin, admin_id) = app.join(&owner, &workspace, "ada", "ADMIN").await?;

        let (doomed, doomed_id) = key(&app, &admin, &workspace, "ada's bot").await?;
        let (kept, kept_id) = key(&app, &admin, &workspace, "shared integration").await?;
        let (invitation_id, invitation) = invite(&app, &admin, &workspace, "ivan", "VIEWER").await?;
        let listed = app
        .gql(
            Some(&owner),
            "query($w: ID!) { workspace(id: $w) { apiKeys { id createdBy { id } } invitations { id invitedBy { username } } } }",
            json!({ "w": workspace }),
        )
        .await?;
        assert_eq!(listed.at("/data/workspace/apiKeys/0/createdBy/id")?, &json!(admin_id));
        assert_eq!(
            listed.at("/data/workspace/invitations/0/invitedBy/username")?,
            &json!("ada")
        );
        for secret in [&doomed, &kept] {
            let works = app.gql(Some(secret), WORKSPACE, json!({ "w": workspace })).await?;
            assert!(works.is_ok(), "{:?}", works.body);
        }

        // The owner keeps the shared integration by re-owning it first.
        let reassigned = app
            .gql(Some(&owner), REASSIGN, json!({ "k": kept_id, "u": owner_id }))
            .await?;
        assert_eq!(reassigned.str_at("/data/reassignApiKey/createdBy/id")?, owner_id);

        let removed = app
            .gql(Some(&owner), REMOVE, json!({ "w": workspace, "u": admin_id }))
            .await?;
        assert!(removed.is_ok(), "{:?}", removed.body);

        // At once: the removed admin's key no longer authenticates; the re-owned one does.
        let refused = app.gql(Some(&doomed), WORKSPACE, json!({ "w": workspace })).await?;
        assert_eq!(refused.code().as_deref(), Some("UNAUTHENTICATED"), "{:?}", refused.body);
        let works = app.gql(Some(&kept), WORKSPACE, json!({ "w": workspace })).await?;
        assert!(works.is_ok(), "the re-owned key survives: {:?}", works.body);

        // The invitation they sent can no longer be accepted.
        let invitee = app.sign_up("ivan").await?;
        let accepted = app
            .gql(
                Some(&invitee),
                "mutation($t: String!) { acceptInvitation(token: $t) { id } }",
                json!({ "t": invitation }),
            )
            .await?;
        assert_eq!(
            accepted.code().as_deref(),
            Some("BAD_USER_INPUT"),
            "{:?}",
            accepted.body
        );
        assert!(accepted.body.to_string().contains("revoked"), "{:?}", accepted.body);

        // The removal's audit entry says what went with it.
        let revoked = revoked_in_audit(&app, &owner, &workspace, "member.removed").await?;
        assert_eq!(revoked["apiKeys"], ids(&[&doomed_id]));
        assert_eq!(revoked["invitations"], ids(&[&invitation_id]));
        assert_eq!(revoked["count"], json!(2));
        Ok(())
    }
);

backend_tests!(
    leaving_demotion_and_a_transfer_revoke_what_the_member_could_no_longer_create,
    |app| {
        let owner = app.sign_up("olive").await?;
        let workspace = app.create_workspace(&owner, "Agency").await?;

        // A demoted admin: their key stops, and a socket open with it closes without another operation.
        let (bea, bea_id) = app.join(&owner, &workspace, "bea", "ADMIN").await?;
        let (bea_key, bea_key_id) = key(&app, &bea, &workspace, "bea's bot").await?;
        let mut socket = Subscriber::connect(app.addr, &bea_key, None).await?;
        let demoted = app
            .gql(
                Some(&owner),
                CHANGE_ROLE,
                json!({ "w": workspace, "u": bea_id, "r": "OPERATOR" }),
            )
            .await?;
        assert!(demoted.is_ok(), "{:?}", demoted.body);
        match socket.frame(Duration::from_secs(5)).await? {
            Frame::Closed(code, _) => assert_eq!(code, 4403),
            other => anyhow::bail!("expected the key's socket to close with 4403, got {other:?}"),
        }
        let refused = app.gql(Some(&bea_key), WORKSPACE, json!({ "w": workspace })).await?;
        assert_eq!(refused.code().as_deref(), Some("UNAUTHENTICATED"));
        let revoked = revoked_in_audit(&app, &owner, &workspace, "member.role_changed").await?;
        assert_eq!(revoked["apiKeys"], ids(&[&bea_key_id]));
        assert_eq!(revoked["count"], json!(1));

        // An admin who leaves takes their key and invitation along.
        let (cleo, cleo_id) = app.join(&owner, &workspace, "cleo", "ADMIN").await?;
        let (cleo_key, cleo_key_id) = key(&app, &cleo, &workspace, "cleo's bot").await?;
        let (invitation_id, _) = invite(&app, &cleo, &workspace, "ivan", "OPERATOR").await?;
        let left = app
            .gql(Some(&cleo), REMOVE, json!({ "w": workspace, "u": cleo_id }))
            .await?;
        assert!(left.is_ok(), "{:?}", left.body);
        let refused = app.gql(Some(&cleo_key), WORKSPACE, json!({ "w": workspace })).await?;
        assert_eq!(refused.code().as_deref(), Some("UNAUTHENTICATED"));
        let revoked = revoked_in_audit(&app, &owner, &workspace, "member.left").await?;
        assert_eq!(revoked["apiKeys"], ids(&[&cleo_key_id]));
        assert_eq!(revoked["invitations"], ids(&[&invitation_id]));

        // An owner who hands over becomes an admin: keys stay, an invitation to ADMIN (which an admin cannot
        // send) goes, one to VIEWER stays.
        let (owner_key, _) = key(&app, &owner, &workspace, "owner's bot").await?;
        let (to_admin, _) = invite(&app, &owner, &workspace, "dan", "ADMIN").await?;
        let (to_viewer, _) = invite(&app, &owner, &workspace, "eve", "VIEWER").await?;
        let transferred = app
            .gql(
                Some(&owner),
                "mutation($w: ID!, $u: ID!) { transferOwnership(workspaceId: $w, userId: $u) { id } }",
                json!({ "w": workspace, "u": bea_id }),
            )
            .await?;
        assert!(transferred.is_ok(), "{:?}", transferred.body);
        let works = app.gql(Some(&owner_key), WORKSPACE, json!({ "w": workspace })).await?;
        assert!(works.is_ok(), "an admin keeps their keys: {:?}", works.body);
        let revoked = revoked_in_audit(&app, &bea, &workspace, "workspace.ownership_transferred").await?;
        assert_eq!(revoked["apiKeys"], json!([]));
        assert_eq!(revoked["invitations"], ids(&[&to_admin]));
        let pending = app
            .gql(
                Some(&bea),
                "query($w: ID!) { workspace(id: $w) { invitations { id } } }",
                json!({ "w": workspace }),
            )
            .await?;
        assert_eq!(
            pending.at("/data/workspace/invitations")?,
            &json!([{ "id": to_viewer }])
        );
        Ok(())
    }
);

backend_tests!(a_key_is_re_owned_only_to_an_admin_of_its_workspace_by_an_admin, |app| {
    let owner = app.sign_up("olive").await?;
    let workspace = app.create_workspace(&owner, "Agency").await?;
    let (_, key_id) = key(&app, &owner, &workspace, "bot").await?;
    let (operator, operator_id) = app.join(&owner, &workspace, "otto", "OPERATOR").await?;

    let to_operator = app
        .gql(Some(&owner), REASSIGN, json!({ "k": key_id, "u": operator_id }))
        .await?;
    assert_eq!(to_operator.code().as_deref(), Some("BAD_USER_INPUT"));
    assert_eq!(to_operator.str_at("/errors/0/extensions/field")?, "toUserId");

    let stranger = app.sign_up("mallory").await?;
    let stranger_id = user_id(&app, &stranger).await?;
    let to_stranger = app
        .gql(Some(&owner), REASSIGN, json!({ "k": key_id, "u": stranger_id }))
        .await?;
    assert_eq!(to_stranger.code().as_deref(), Some("NOT_FOUND"));

    // Another tenant's admin cannot see the key; an operator of this one may not manage it.
    app.create_workspace(&stranger, "Elsewhere").await?;
    let foreign = app
        .gql(Some(&stranger), REASSIGN, json!({ "k": key_id, "u": stranger_id }))
        .await?;
    assert_eq!(foreign.code().as_deref(), Some("NOT_FOUND"));
    let by_operator = app
        .gql(Some(&operator), REASSIGN, json!({ "k": key_id, "u": operator_id }))
        .await?;
    assert_eq!(by_operator.code().as_deref(), Some("FORBIDDEN"));

    // A revoked key is gone.
    let owner_id = user_id(&app, &owner).await?;
    app.gql(
        Some(&owner),
        "mutation($k: ID!) { revokeApiKey(id: $k) }",
        json!({ "k": key_id }),
    )
    .await?;
    let revoked = app
        .gql(Some(&owner), REASSIGN, json!({ "k": key_id, "u": owner_id }))
        .await?;
    assert_eq!(revoked.code().as_deref(), Some("NOT_FOUND"));
    let log = app
        .gql(
            Some(&owner),
            "query($w: ID!) { workspace(id: $w) { auditLog(first: 5, action: \"api_key.reassigned\") { edges { node { targetId } } } } }",
            json!({ "w": workspace }),
        )
        .await?;
    assert_eq!(
        log.at("/data/workspace/auditLog/edges")?,
        &json!([]),
        "nothing was re-owned"
    );
    Ok(())
});
