//! How each field of the schema is invoked in the matrix: one sample operation per field, with the ids of the
//! matrix's world.

use serde_json::{Value, json};
use tgos_tests::TestApp;

use super::{World, random_id};

pub(super) async fn invocation(field: &str, app: &TestApp, world: &World) -> anyhow::Result<Option<(String, Value)>> {
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
