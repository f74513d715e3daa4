//! The authorization matrix: every root field of the schema (and every guarded `Workspace` field), called as
//! nobody, as a signed-in outsider, as each role, and as API keys with and without the field's scope.
//!
//! The table is [`expectation`] (who may) and [`invocation`] (how to call it harmlessly: arguments that pass
//! the guard and then fail or change nothing that later rows need). A field of the schema without a row
//! fails the test, so a new field cannot ship without its rule.

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

async fn invocation(field: &str, app: &TestApp, world: &World) -> anyhow::Result<Option<(String, Value)>> {
    let w = world.workspace.clone();
    let ws = |selection: &str| format!("query($w: ID!) {{ workspace(id: $w) {{ {selection} }} }}");
    Ok(Some(match field {
        "Query.me" => ("{ me { user { id } } }".into(), json!({})),
        "Query.workspace" => (ws("id name"), json!({ "w": w })),
        "Workspace.viewerRole" => (ws("viewerRole"), json!({ "w": w })),
        "Workspace.members" => (ws("members { edges { cursor } }"), json!({ "w": w })),
        "Workspace.invitations" => (ws("invitations { id }"), json!({ "w": w })),
        "Workspace.apiKeys" => (ws("apiKeys { id }"), json!({ "w": w })),
        "Workspace.auditLog" => (ws("auditLog(first: 1) { edges { cursor } }"), json!({ "w": w })),
        "Workspace.wallet" => (ws("wallet { balance { amountMinor } }"), json!({ "w": w })),
        "Mutation.createTopUp" => (
            "mutation($w: ID!) { createTopUp(workspaceId: $w, provider: STRIPE, amountMinor: 0, currency: \"USD\") { id } }"
                .into(),
            json!({ "w": w }),
        ),
        "Query.accountOffers" => ("{ accountOffers(first: 1) { edges { cursor } } }".into(), json!({})),
        "Workspace.leases" => (ws("leases { edges { cursor } }"), json!({ "w": w })),
        "Workspace.dialogs" => (
            ws("dialogs { edges { node { id messages { edges { node { text } } } } } }"),
            json!({ "w": w }),
        ),
        "Workspace.accounts" => (ws("accounts { edges { cursor } }"), json!({ "w": w })),
        "Mutation.rentAccount" => (
            "mutation($w: ID!, $o: ID!) { rentAccount(workspaceId: $w, offerId: $o, days: 1) { id } }".into(),
            json!({ "w": w, "o": random_id() }),
        ),
        "Mutation.renewLease" => (
            "mutation($l: ID!) { renewLease(leaseId: $l, days: 1) { id } }".into(),
            json!({ "l": fresh_lease(app, world).await? }),
        ),
        "Mutation.releaseLease" => (
            "mutation($l: ID!) { releaseLease(leaseId: $l) { id } }".into(),
            json!({ "l": fresh_lease(app, world).await? }),
        ),
        "Mutation.sendMessage" => (
            "mutation($a: ID!, $d: ID!) { sendMessage(accountId: $a, dialogId: $d, text: \"hi\") { status } }".into(),
            json!({ "a": world.held_account, "d": world.dialog }),
        ),
        "Mutation.markDialogRead" => (
            "mutation($d: ID!) { markDialogRead(dialogId: $d) { unreadCount } }".into(),
            json!({ "d": world.dialog }),
        ),
        "Mutation.tagDialog" => (
            "mutation($d: ID!) { tagDialog(dialogId: $d, tag: \"matrix\") { id tags } }".into(),
            json!({ "d": world.dialog }),
        ),
        "Mutation.untagDialog" => (
            "mutation($d: ID!) { untagDialog(dialogId: $d, tag: \"matrix\") { id tags } }".into(),
            json!({ "d": world.dialog }),
        ),
        "Mutation.assignDialog" => (
            "mutation($d: ID!) { assignDialog(dialogId: $d, userId: null) { id } }".into(),
            json!({ "d": world.dialog }),
        ),
        "Query.testAutomation" => (
            format!("query($w: ID!) {{ testAutomation(workspaceId: $w, input: {MATRIX_AUTOMATION}, text: \"hi\") {{ wouldRun }} }}"),
            json!({ "w": w }),
        ),
        "Workspace.automations" => (ws("automations { nodes { id stats { runs } } }"), json!({ "w": w })),
        "Workspace.automationExecutions" => (ws("automationExecutions { nodes { id steps { status } } }"), json!({ "w": w })),
        "Mutation.createAutomation" => (
            format!("mutation($w: ID!) {{ createAutomation(workspaceId: $w, input: {MATRIX_AUTOMATION}) {{ id }} }}"),
            json!({ "w": w }),
        ),
        "Mutation.updateAutomation" => (
            format!("mutation($id: ID!) {{ updateAutomation(id: $id, expectedVersion: 1, input: {MATRIX_AUTOMATION}) {{ id }} }}"),
            json!({ "id": fresh_automation(app, world).await? }),
        ),
        "Mutation.setAutomationEnabled" => (
            "mutation($id: ID!) { setAutomationEnabled(id: $id, enabled: false) { id } }".into(),
            json!({ "id": fresh_automation(app, world).await? }),
        ),
        "Mutation.deleteAutomation" => (
            "mutation($id: ID!) { deleteAutomation(id: $id) }".into(),
            json!({ "id": fresh_automation(app, world).await? }),
        ),
        "Mutation.runAutomationNow" => (
            "mutation($id: ID!, $d: ID!) { runAutomationNow(id: $id, dialogId: $d) { id } }".into(),
            json!({ "id": fresh_automation(app, world).await?, "d": world.dialog }),
        ),
        "Mutation.pauseAccount" => (
            "mutation($a: ID!) { pauseAccount(accountId: $a) { state } }".into(),
            json!({ "a": world.held_account }),
        ),
        "Mutation.resumeAccount" => (
            "mutation($a: ID!) { resumeAccount(accountId: $a) { state } }".into(),
            json!({ "a": world.held_account }),
        ),
        "Mutation.sandboxContactSend" => (
            "mutation($a: ID!) { sandboxContactSend(accountId: $a, contact: \"Ada\", text: \"hi\") }".into(),
            json!({ "a": world.held_account }),
        ),
        "Mutation.sandboxInjectFault" => (
            "mutation($a: ID!) { sandboxInjectFault(accountId: $a, fault: PEER_FLOOD) }".into(),
            json!({ "a": world.held_account }),
        ),
        "Mutation.signUp" => (
            "mutation { signUp(input: {email: \"bad\", fullName: \"x\", username: \"xx\", password: \"short\", ageConfirmed: true}) { user { id } } }".into(),
            json!({}),
        ),
        "Mutation.signIn" => ("mutation { signIn(input: {login: \"\", password: \"\"}) { twoFactorChallenge } }".into(), json!({})),
        "Mutation.completeSignIn" => ("mutation { completeSignIn(challenge: \"tgc_nope\", code: \"000000\") { token } }".into(), json!({})),
        "Mutation.signOut" => ("mutation { signOut }".into(), json!({})),
        "Mutation.revokeSession" => ("mutation($id: ID!) { revokeSession(id: $id) }".into(), json!({ "id": random_id() })),
        "Mutation.changePassword" => (
            "mutation { changePassword(current: \"not the password\", new: \"a perfectly fine new one\") }".into(),
            json!({}),
        ),
        "Mutation.reauthenticate" => ("mutation { reauthenticate(password: \"not the password\") }".into(), json!({})),
        "Mutation.verifyEmail" => ("mutation { verifyEmail(token: \"tge_nope\") { id } }".into(), json!({})),
        "Mutation.confirmEmailChange" => ("mutation { confirmEmailChange(token: \"tge_nope\") { id } }".into(), json!({})),
        "Mutation.resendEmailVerification" => ("mutation { resendEmailVerification }".into(), json!({})),
        "Mutation.updateProfile" => ("mutation { updateProfile(input: { fullName: \"x\" }) { id } }".into(), json!({})),
        "Mutation.requestEmailChange" => ("mutation { requestEmailChange(newEmail: \"x@example.com\") }".into(), json!({})),
        "Mutation.updateNoticePreferences" => (
            "mutation { updateNoticePreferences(input: { leases: true }) { id } }".into(),
            json!({}),
        ),
        "Mutation.beginTotpEnrollment" => ("mutation { beginTotpEnrollment { secret } }".into(), json!({})),
        "Mutation.confirmTotpEnrollment" => ("mutation { confirmTotpEnrollment(code: \"000000\") { backupCodes } }".into(), json!({})),
        "Mutation.regenerateBackupCodes" => ("mutation { regenerateBackupCodes(code: \"000000\") { backupCodes } }".into(), json!({})),
        "Mutation.disableTotp" => ("mutation { disableTotp(password: \"x\", code: \"000000\") }".into(), json!({})),
        "Mutation.createWorkspace" => ("mutation { createWorkspace(name: \"scratch\") { id } }".into(), json!({})),
        "Mutation.acceptInvitation" => ("mutation { acceptInvitation(token: \"tgi_nope\") { id } }".into(), json!({})),
        "Mutation.submitDataSubjectRequest" => (
            "mutation { submitDataSubjectRequest(kind: ACCESS, details: \"what do you hold?\") { id } }".into(),
            json!({}),
        ),
        "Mutation.requestDataExport" => ("mutation { requestDataExport { id } }".into(), json!({})),
        "Mutation.requestAccountDeletion" => ("mutation { requestAccountDeletion { id } }".into(), json!({})),
        "Mutation.cancelAccountDeletion" => ("mutation { cancelAccountDeletion { id } }".into(), json!({})),
        "Mutation.changeMemberRole" => (
            "mutation($w: ID!, $u: ID!) { changeMemberRole(workspaceId: $w, userId: $u, role: VIEWER) { role } }".into(),
            json!({ "w": w, "u": random_id() }),
        ),
        "Mutation.removeMember" => (
            "mutation($w: ID!, $u: ID!) { removeMember(workspaceId: $w, userId: $u) }".into(),
            json!({ "w": w, "u": random_id() }),
        ),
        "Mutation.transferOwnership" => (
            "mutation($w: ID!, $u: ID!) { transferOwnership(workspaceId: $w, userId: $u) { id } }".into(),
            json!({ "w": w, "u": random_id() }),
        ),
        "Mutation.deleteWorkspace" => ("mutation($w: ID!) { deleteWorkspace(workspaceId: $w) }".into(), json!({ "w": w })),
        "Mutation.inviteMember" => (
            "mutation($w: ID!) { inviteMember(workspaceId: $w, email: \"not-an-email\", role: VIEWER) { id } }".into(),
            json!({ "w": w }),
        ),
        "Mutation.revokeInvitation" => (
            "mutation($w: ID!, $id: ID!) { revokeInvitation(workspaceId: $w, id: $id) }".into(),
            json!({ "w": w, "id": random_id() }),
        ),
        "Mutation.createApiKey" => (
            "mutation($w: ID!) { createApiKey(workspaceId: $w, name: \"\", scopes: []) { secret } }".into(),
            json!({ "w": w }),
        ),
        "Mutation.revokeApiKey" => {
            // A fresh key of the workspace each time, so a permitted caller has something real to revoke.
            let created = app
                .gql(
                    Some(&world.owner),
                    "mutation($w: ID!) { createApiKey(workspaceId: $w, name: \"victim\", scopes: [INBOX_READ]) { apiKey { id } } }",
                    json!({ "w": w }),
                )
                .await?;
            let id = created.str_at("/data/createApiKey/apiKey/id")?;
            ("mutation($id: ID!) { revokeApiKey(id: $id) }".into(), json!({ "id": id }))
        }
        "Mutation.reassignApiKey" => {
            // A fresh key of the workspace each time, re-owned to the owner (who may own keys).
            let created = app
                .gql(
                    Some(&world.owner),
                    "mutation($w: ID!) { createApiKey(workspaceId: $w, name: \"kept\", scopes: [INBOX_READ]) { apiKey { id } } }",
                    json!({ "w": w }),
                )
                .await?;
            let id = created.str_at("/data/createApiKey/apiKey/id")?;
            let owner = app
                .gql(Some(&world.owner), "{ me { user { id } } }", json!({}))
                .await?
                .str_at("/data/me/user/id")?;
            (
                "mutation($id: ID!, $to: ID!) { reassignApiKey(id: $id, toUserId: $to) { id createdBy { id } } }".into(),
                json!({ "id": id, "to": owner }),
            )
        }
        _ => return Ok(None),
    }))
}

/// A new active lease of the workspace, so a permitted caller has something real to renew or release.
/// A manual automation that tags the dialog it runs on.
const MATRIX_AUTOMATION: &str =
    "{ name: \"matrix\", trigger: { manual: true }, actions: [{ tagDialog: { tag: \"matrix\" } }] }";

/// A fresh automation of the workspace, made by its owner, at version 1.
async fn fresh_automation(app: &TestApp, world: &World) -> anyhow::Result<String> {
    let created = app
        .gql(
            Some(&world.owner),
            &format!("mutation($w: ID!) {{ createAutomation(workspaceId: $w, input: {MATRIX_AUTOMATION}) {{ id }} }}"),
            json!({ "w": world.workspace }),
        )
        .await?;
    created.str_at("/data/createAutomation/id")
}

async fn fresh_lease(app: &TestApp, world: &World) -> anyhow::Result<String> {
    let account = app.stock_pool(1, 100).await?[0].to_string();
    app.credit_wallet(&world.owner, &world.workspace, 1_000).await?;
    let rented = app
        .gql(
            Some(&world.owner),
            "mutation($w: ID!, $o: ID!) { rentAccount(workspaceId: $w, offerId: $o, days: 1) { id } }",
            json!({ "w": world.workspace, "o": account }),
        )
        .await?;
    rented.str_at("/data/rentAccount/id")
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
