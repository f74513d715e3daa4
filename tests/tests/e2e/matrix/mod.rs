//! The authorization matrix: every root field of the schema (and every guarded `Workspace` field), called as
//! nobody, as a signed-in outsider, as each role, and as API keys with and without the field's scope.
//!
//! The table is [`expectation`] (who may) and [`invocation`] (how to call it harmlessly: arguments that pass
//! the guard and then fail or change nothing that later rows need). A field of the schema without a row
//! fails the test, so a new field cannot ship without its rule.

mod invocations;

use invocations::invocation;
use serde_json::{Value, json};
use tgos_tests::{TestApp, backend_tests};

/// The auth key of the world's rented account: no response may ever contain it, in any encoding.
const KNOWN_AUTH_KEY: [u8; 256] = {
    let mut key = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        key[i] = (i as u8).wrapping_mul(37).wrapping_add(11);
        i += 1;
    }
    key
};

/// The forms a leaked session payload could take in a JSON response: hex (both cases) and base64 (standard
/// and URL-safe, padded or not) of the auth key, of its first 32 bytes, and of the whole canonical session.
fn payload_needles() -> anyhow::Result<Vec<String>> {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    use tgos_domain::accounts::{AuthKey, DcId, TelegramSession};

    let session = TelegramSession::new(DcId::new(2)?, AuthKey::from_bytes(&KNOWN_AUTH_KEY)?)
        .with_user_id(900_000_000_123)?
        .with_test_mode(true);
    let encoded = session.encode();
    let mut needles = Vec::new();
    for bytes in [&KNOWN_AUTH_KEY[..], &KNOWN_AUTH_KEY[..32], &encoded[..]] {
        needles.push(hex::encode(bytes));
        needles.push(hex::encode_upper(bytes));
        for engine in [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD] {
            needles.push(engine.encode(bytes));
        }
    }
    Ok(needles)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Anonymous,
    Outsider,
    Viewer,
    Operator,
    Admin,
    Owner,
    /// A key of the workspace holding every scope.
    KeyAllScopes,
    /// A key of the workspace holding only INBOX_READ.
    KeyInboxRead,
}

const CALLERS: [Caller; 8] = [
    Caller::Anonymous,
    Caller::Outsider,
    Caller::Viewer,
    Caller::Operator,
    Caller::Admin,
    Caller::Owner,
    Caller::KeyAllScopes,
    Caller::KeyInboxRead,
];

#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in person; never an API key.
    Person,
    /// Any signed-in person, and any API key whatever its scopes.
    SignedIn,
    /// Any member, and any key of the workspace whatever its scopes.
    Tenant,
    /// Members of at least this rank (1 viewer .. 4 owner); API keys only with the scope, if one is named.
    Member { rank: u8, scope: Option<&'static str> },
}

fn rank(caller: Caller) -> u8 {
    match caller {
        Caller::Viewer => 1,
        Caller::Operator => 2,
        Caller::Admin => 3,
        Caller::Owner => 4,
        _ => 0,
    }
}

fn allowed(expect: Expect, caller: Caller) -> bool {
    match (expect, caller) {
        (Expect::Public, _) => true,
        (_, Caller::Anonymous) => false,
        (Expect::Person, Caller::KeyAllScopes | Caller::KeyInboxRead) => false,
        (Expect::Person, _) => true,
        (Expect::SignedIn, _) => true,
        (Expect::Tenant, Caller::Outsider) => false,
        (Expect::Tenant, _) => true,
        (Expect::Member { scope, .. }, Caller::KeyAllScopes) => scope.is_some(),
        (Expect::Member { scope, .. }, Caller::KeyInboxRead) => scope == Some("INBOX_READ"),
        (Expect::Member { rank: min, .. }, caller) => rank(caller) >= min,
    }
}

fn expectation(field: &str) -> Option<Expect> {
    use Expect::*;
    Some(match field {
        "Query.me" => Person,
        "Query.workspace" => Tenant,
        "Workspace.viewerRole" => Member { rank: 1, scope: None },
        "Workspace.members" => Member { rank: 1, scope: None },
        "Workspace.invitations" => Member { rank: 3, scope: None },
        "Workspace.apiKeys" => Member { rank: 3, scope: None },
        "Workspace.auditLog" => Member {
            rank: 3,
            scope: Some("AUDIT_READ"),
        },
        "Workspace.wallet" => Member {
            rank: 3,
            scope: Some("BILLING_READ"),
        },
        "Mutation.createTopUp" => Member { rank: 3, scope: None },
        "Query.accountOffers" => SignedIn,
        "Mutation.pauseAccount" | "Mutation.resumeAccount" => Member { rank: 2, scope: None },
        "Mutation.sendMessage"
        | "Mutation.markDialogRead"
        | "Mutation.tagDialog"
        | "Mutation.untagDialog"
        | "Mutation.assignDialog" => Member {
            rank: 2,
            scope: Some("INBOX_WRITE"),
        },
        "Workspace.dialogs" => Member {
            rank: 1,
            scope: Some("INBOX_READ"),
        },
        "Workspace.leases" | "Workspace.accounts" => Member {
            rank: 1,
            scope: Some("ACCOUNTS_READ"),
        },
        "Mutation.rentAccount"
        | "Mutation.renewLease"
        | "Mutation.releaseLease"
        | "Mutation.sandboxContactSend"
        | "Mutation.sandboxInjectFault" => Member {
            rank: 2,
            scope: Some("ACCOUNTS_WRITE"),
        },
        "Query.testAutomation" | "Workspace.automations" | "Workspace.automationExecutions" => Member {
            rank: 1,
            scope: Some("AUTOMATIONS_READ"),
        },
        "Mutation.createAutomation"
        | "Mutation.updateAutomation"
        | "Mutation.setAutomationEnabled"
        | "Mutation.deleteAutomation"
        | "Mutation.runAutomationNow" => Member {
            rank: 3,
            scope: Some("AUTOMATIONS_WRITE"),
        },
        "Mutation.signUp"
        | "Mutation.signIn"
        | "Mutation.completeSignIn"
        | "Mutation.verifyEmail"
        | "Mutation.confirmEmailChange" => Public,
        "Mutation.signOut"
        | "Mutation.resendEmailVerification"
        | "Mutation.updateProfile"
        | "Mutation.requestEmailChange"
        | "Mutation.updateNoticePreferences"
        | "Mutation.revokeSession"
        | "Mutation.changePassword"
        | "Mutation.reauthenticate"
        | "Mutation.beginTotpEnrollment"
        | "Mutation.confirmTotpEnrollment"
        | "Mutation.regenerateBackupCodes"
        | "Mutation.disableTotp"
        | "Mutation.createWorkspace"
        | "Mutation.acceptInvitation"
        | "Mutation.submitDataSubjectRequest"
        | "Mutation.requestDataExport"
        | "Mutation.requestAccountDeletion"
        | "Mutation.cancelAccountDeletion" => Person,
        "Mutation.changeMemberRole" | "Mutation.removeMember" => Member { rank: 1, scope: None },
        "Mutation.transferOwnership" => Member { rank: 4, scope: None },
        // The owner without a fresh `reauthenticate` is let through authorization and then asked for it.
        "Mutation.deleteWorkspace" => Member { rank: 4, scope: None },
        "Mutation.inviteMember"
        | "Mutation.revokeInvitation"
        | "Mutation.createApiKey"
        | "Mutation.revokeApiKey"
        | "Mutation.reassignApiKey" => Member { rank: 3, scope: None },
        _ => return None,
    })
}

/// The workspace under test and its people.
struct World {
    workspace: String,
    owner: String,
    /// A sandbox account the workspace rents, whose session's auth key is [`KNOWN_AUTH_KEY`].
    held_account: String,
    /// A dialog of that account in the workspace's inbox.
    dialog: String,
    tokens: Vec<(Caller, Option<String>)>,
}

impl World {
    fn token(&self, caller: Caller) -> Option<&str> {
        self.tokens
            .iter()
            .find(|(c, _)| *c == caller)
            .and_then(|(_, t)| t.as_deref())
    }
}

fn random_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Whether the response shows the caller was turned away by authorization.
fn denied(response: &tgos_tests::GqlResponse) -> bool {
    response.errors().iter().any(|error| {
        let code = error.pointer("/extensions/code").and_then(Value::as_str);
        let message = error.get("message").and_then(Value::as_str).unwrap_or("");
        code == Some("FORBIDDEN")
            || (code == Some("UNAUTHENTICATED") && message == "authentication required")
            // Someone else's key id is answered like an unknown one.
            || (code == Some("NOT_FOUND") && message == "API key not found")
            // Someone else's lease or account id likewise.
            || (code == Some("NOT_FOUND") && message == "lease not found")
            || (code == Some("NOT_FOUND") && message == "account not found")
            || (code == Some("NOT_FOUND") && message == "dialog not found")
            || (code == Some("NOT_FOUND") && message == "automation not found")
    })
}

async fn schema_fields(app: &TestApp) -> anyhow::Result<Vec<String>> {
    let introspection = app
        .gql(
            None,
            "{ __schema { queryType { name fields { name } } mutationType { name fields { name } } } }",
            json!({}),
        )
        .await?;
    let mut fields = Vec::new();
    for (root, label) in [("queryType", "Query"), ("mutationType", "Mutation")] {
        for field in introspection
            .at(&format!("/data/__schema/{root}/fields"))?
            .as_array()
            .into_iter()
            .flatten()
        {
            fields.push(format!("{label}.{}", field["name"].as_str().unwrap_or_default()));
        }
    }
    let workspace = app
        .gql(None, "{ __type(name: \"Workspace\") { fields { name } } }", json!({}))
        .await?;
    for field in workspace.at("/data/__type/fields")?.as_array().into_iter().flatten() {
        let name = field["name"].as_str().unwrap_or_default();
        // Plain attributes of a workspace the caller already reached need no rule of their own.
        if !["id", "name", "createdAt"].contains(&name) {
            fields.push(format!("Workspace.{name}"));
        }
    }
    // signOut ends the caller's session: it runs last.
    fields.sort_by_key(|f| f == "Mutation.signOut");
    Ok(fields)
}

async fn world(app: &TestApp) -> anyhow::Result<World> {
    let owner = app.sign_up("owner").await?;
    let workspace = app.create_workspace(&owner, "Matrix").await?;
    let (admin, _) = app.join(&owner, &workspace, "admin", "ADMIN").await?;
    let (operator, _) = app.join(&owner, &workspace, "operator", "OPERATOR").await?;
    let (viewer, _) = app.join(&owner, &workspace, "viewer", "VIEWER").await?;
    let outsider = app.sign_up("outsider").await?;
    app.create_workspace(&outsider, "Elsewhere").await?;
    let create =
        "mutation($w: ID!, $s: [Scope!]!) { createApiKey(workspaceId: $w, name: \"matrix\", scopes: $s) { secret } }";
    let all = json!([
        "INBOX_READ",
        "INBOX_WRITE",
        "ACCOUNTS_READ",
        "ACCOUNTS_WRITE",
        "AUTOMATIONS_READ",
        "AUTOMATIONS_WRITE",
        "BILLING_READ",
        "AUDIT_READ"
    ]);
    let key_all = app
        .gql(Some(&owner), create, json!({ "w": workspace, "s": all }))
        .await?
        .str_at("/data/createApiKey/secret")?;
    let key_inbox = app
        .gql(Some(&owner), create, json!({ "w": workspace, "s": ["INBOX_READ"] }))
        .await?
        .str_at("/data/createApiKey/secret")?;
    // A rented account with a known session, so every response can be searched for its bytes.
    let known = app.stock_known_session(&KNOWN_AUTH_KEY, 100).await?;
    app.credit_wallet(&owner, &workspace, 1_000).await?;
    let rented = app
        .gql(
            Some(&owner),
            "mutation($w: ID!, $o: ID!) { rentAccount(workspaceId: $w, offerId: $o, days: 5) { id } }",
            json!({ "w": workspace, "o": known.to_string() }),
        )
        .await?;
    anyhow::ensure!(rented.is_ok(), "{:?}", rented.body);
    // A contact writes to it, and the inbox holds the dialog.
    let sent = app
        .gql(
            Some(&owner),
            "mutation($a: ID!) { sandboxContactSend(accountId: $a, contact: \"Ada\", text: \"hello\") }",
            json!({ "a": known.to_string() }),
        )
        .await?;
    anyhow::ensure!(sent.is_ok(), "{:?}", sent.body);
    app.inbox.sync_all().await?;
    let dialogs = app
        .gql(
            Some(&owner),
            "query($w: ID!) { workspace(id: $w) { dialogs { edges { node { id } } } } }",
            json!({ "w": workspace }),
        )
        .await?;
    let dialog = dialogs.str_at("/data/workspace/dialogs/edges/0/node/id")?;
    Ok(World {
        dialog,
        workspace,
        owner: owner.clone(),
        held_account: known.to_string(),
        tokens: vec![
            (Caller::Anonymous, None),
            (Caller::Outsider, Some(outsider)),
            (Caller::Viewer, Some(viewer)),
            (Caller::Operator, Some(operator)),
            (Caller::Admin, Some(admin)),
            (Caller::Owner, Some(owner)),
            (Caller::KeyAllScopes, Some(key_all)),
            (Caller::KeyInboxRead, Some(key_inbox)),
        ],
    })
}

backend_tests!(every_field_answers_each_kind_of_caller_as_its_rule_says, |app| {
    let world = world(&app).await?;
    let fields = schema_fields(&app).await?;
    let missing: Vec<_> = fields.iter().filter(|f| expectation(f).is_none()).collect();
    anyhow::ensure!(
        missing.is_empty(),
        "fields without a row in the authorization matrix: {missing:?}"
    );
    let mut wrong = Vec::new();
    let mut responses = Vec::new();
    for field in &fields {
        let Some(expect) = expectation(field) else { continue };
        for caller in CALLERS {
            let Some((query, variables)) = invocation(field, &app, &world).await? else {
                anyhow::bail!("no invocation for {field}");
            };
            let response = app.gql(world.token(caller), &query, variables).await?;
            responses.push(response.body.to_string());
            let was_allowed = !denied(&response);
            if was_allowed != allowed(expect, caller) {
                wrong.push(format!(
                    "{field} as {caller:?}: expected {}, got {}",
                    if allowed(expect, caller) { "allowed" } else { "denied" },
                    response.body
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "authorization matrix mismatches:\n{}",
        wrong.join("\n")
    );
    // No response, to anyone, carried the session payload of the account the workspace rents. (The owner's
    // session ended with signOut; the workspace's key reads the holdings.)
    let holdings = app
        .gql(
            world.token(Caller::KeyAllScopes),
            "query($w: ID!) { workspace(id: $w) { accounts { edges { node { id displayName phoneMasked sandbox health { state } } } } leases { edges { node { id account { id } } } } } }",
            json!({ "w": world.workspace }),
        )
        .await?;
    assert!(
        holdings.body.to_string().contains(&world.held_account),
        "the rented account is readable: {:?}",
        holdings.body
    );
    responses.push(holdings.body.to_string());
    let needles = payload_needles()?;
    for response in &responses {
        for needle in &needles {
            assert!(
                !response.contains(needle.as_str()),
                "a response carried session bytes: {response}"
            );
        }
    }
    assert!(responses.len() > 100, "every field was called by every caller");
    Ok(())
});
