use serde_json::json;
use tgos_tests::backend_tests;

const WORKSPACE: &str = "query($id: ID!) { workspace(id: $id) { id name viewerRole } }";

backend_tests!(the_creator_owns_the_workspace_and_sees_it_in_me, |app| {
    let owner = app.sign_up("olive").await?;
    let created = app
        .gql(
            Some(&owner),
            "mutation { createWorkspace(name: \"  Growth  \") { id name viewerRole } }",
            json!({}),
        )
        .await?;
    assert_eq!(created.str_at("/data/createWorkspace/name")?, "Growth");
    assert_eq!(created.str_at("/data/createWorkspace/viewerRole")?, "OWNER");
    let id = created.str_at("/data/createWorkspace/id")?;
    let me = app
        .gql(Some(&owner), "{ me { workspaces { id viewerRole } } }", json!({}))
        .await?;
    assert_eq!(me.str_at("/data/me/workspaces/0/id")?, id);
    let bad = app
        .gql(
            Some(&owner),
            "mutation { createWorkspace(name: \"   \") { id } }",
            json!({}),
        )
        .await?;
    assert_eq!(bad.code().as_deref(), Some("BAD_USER_INPUT"));
    assert_eq!(bad.str_at("/errors/0/extensions/field")?, "name");
    let long = app
        .gql(
            Some(&owner),
            "mutation($n: String!) { createWorkspace(name: $n) { id } }",
            json!({ "n": "w".repeat(65) }),
        )
        .await?;
    assert_eq!(long.str_at("/errors/0/extensions/field")?, "name");
    Ok(())
});

backend_tests!(
    outsiders_get_the_same_answer_for_foreign_unknown_and_malformed_ids,
    |app| {
        let owner = app.sign_up("olive").await?;
        let id = app.create_workspace(&owner, "Private").await?;
        let outsider = app.sign_up("oscar").await?;
        let mut messages = Vec::new();
        for probe in [id.clone(), uuid::Uuid::now_v7().to_string(), "not-an-id".to_owned()] {
            let response = app.gql(Some(&outsider), WORKSPACE, json!({ "id": probe })).await?;
            assert_eq!(response.code().as_deref(), Some("FORBIDDEN"), "{:?}", response.body);
            messages.push(response.str_at("/errors/0/message")?);
        }
        assert!(messages.windows(2).all(|pair| pair[0] == pair[1]), "{messages:?}");
        Ok(())
    }
);

backend_tests!(
    an_invitation_is_emailed_and_its_token_works_once_for_the_invited_account_only,
    |app| {
        let owner = app.sign_up("olive").await?;
        let workspace = app.create_workspace(&owner, "Team").await?;
        let invite = "mutation($w: ID!, $e: String!, $r: Role!) { inviteMember(workspaceId: $w, email: $e, role: $r) { id email role } }";
        let invited = app
            .gql(
                Some(&owner),
                invite,
                json!({ "w": workspace, "e": "Petra@Example.com", "r": "OPERATOR" }),
            )
            .await?;
        assert_eq!(invited.str_at("/data/inviteMember/role")?, "OPERATOR");
        let token = app.invitation_token_for("Petra@Example.com")?;

        let stranger = app.sign_up("stranger").await?;
        let accept = "mutation($t: String!) { acceptInvitation(token: $t) { id viewerRole } }";
        let wrong_account = app.gql(Some(&stranger), accept, json!({ "t": token })).await?;
        assert_eq!(wrong_account.code().as_deref(), Some("FORBIDDEN"));

        let petra = app
        .gql(
            None,
            "mutation { signUp(input: {email: \"petra@example.com\", fullName: \"Petra\", username: \"petra\", password: \"correct horse battery\", ageConfirmed: true}) { session { token } } }",
            json!({}),
        )
        .await?
        .str_at("/data/signUp/session/token")?;
        // The invited address, but not yet shown to be Petra's: refused until its link is opened.
        let unverified = app.gql(Some(&petra), accept, json!({ "t": token })).await?;
        assert_eq!(unverified.code().as_deref(), Some("FORBIDDEN"), "{:?}", unverified.body);
        app.verify_email_of("petra").await?;
        let joined = app.gql(Some(&petra), accept, json!({ "t": token })).await?;
        assert_eq!(joined.str_at("/data/acceptInvitation/viewerRole")?, "OPERATOR");
        let again = app.gql(Some(&petra), accept, json!({ "t": token })).await?;
        assert_eq!(again.code().as_deref(), Some("BAD_USER_INPUT"));
        assert_eq!(again.str_at("/errors/0/extensions/field")?, "token");
        let members = app
            .gql(
                Some(&owner),
                "query($id: ID!) { workspace(id: $id) { members { edges { node { user { username } role } } } } }",
                json!({ "id": workspace }),
            )
            .await?;
        let roles: Vec<_> = members
            .at("/data/workspace/members/edges")?
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| e["node"]["role"].clone())
            .collect();
        assert_eq!(roles.len(), 2);
        Ok(())
    }
);

backend_tests!(revoked_and_replaced_invitations_stop_working, |app| {
    let owner = app.sign_up("olive").await?;
    let workspace = app.create_workspace(&owner, "Team").await?;
    let invite = "mutation($w: ID!, $e: String!) { inviteMember(workspaceId: $w, email: $e, role: VIEWER) { id } }";
    app.gql(Some(&owner), invite, json!({ "w": workspace, "e": "vic@example.com" }))
        .await?;
    let first = app.invitation_token_for("vic@example.com")?;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let second = app
        .gql(Some(&owner), invite, json!({ "w": workspace, "e": "vic@example.com" }))
        .await?;
    let second_id = second.str_at("/data/inviteMember/id")?;
    let vic = app.sign_up("vic").await?;
    let accept = "mutation($t: String!) { acceptInvitation(token: $t) { id } }";
    let stale = app.gql(Some(&vic), accept, json!({ "t": first })).await?;
    assert_eq!(stale.str_at("/errors/0/message")?, "this invitation was revoked");
    let revoked = app
        .gql(
            Some(&owner),
            "mutation($w: ID!, $id: ID!) { revokeInvitation(workspaceId: $w, id: $id) }",
            json!({ "w": workspace, "id": second_id }),
        )
        .await?;
    assert_eq!(revoked.at("/data/revokeInvitation")?, &json!(true));
    let latest = app.invitation_token_for("vic@example.com")?;
    let refused = app.gql(Some(&vic), accept, json!({ "t": latest })).await?;
    assert_eq!(refused.str_at("/errors/0/message")?, "this invitation was revoked");
    Ok(())
});
