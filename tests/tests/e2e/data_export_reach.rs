//! The export's reach beyond the workspaces a person belongs to: the invitations sent to their verified
//! address (not another person's, nor any before the address is verified) and their own entries in a workspace
//! they left (not another member's). On PostgreSQL the person's own wall reads exactly those invitations and
//! entries, and writes nothing.

use chrono::Duration;
use sea_orm::{ConnectionTrait as _, DatabaseBackend, Statement, TransactionTrait as _};
use serde_json::{Value, json};
use tgos_tests::clock::ManualClock;
use tgos_tests::{TestApp, backend_tests, postgres_tests};

use super::data_export::{EXPORT, LIST, ONE_AT_A_TIME, quiet, run_export_jobs, unzip};

const INVITE: &str =
    "mutation($w: ID!, $e: String!, $r: Role!) { inviteMember(workspaceId: $w, email: $e, role: $r) { id } }";
const CREATE_KEY: &str =
    "mutation($w: ID!, $n: String!) { createApiKey(workspaceId: $w, name: $n, scopes: [AUDIT_READ]) { secret } }";
const REMOVE: &str = "mutation($w: ID!, $u: ID!) { removeMember(workspaceId: $w, userId: $u) }";

/// Ada's reach beyond the workspaces she belongs to: she joined Dan's workspace, acted there and left; Erin
/// invited her to two workspaces of hers (once replaced, so revoked; once pending; once expired) and invited
/// Bea too.
struct Reach {
    ada: String,
    ada_id: String,
    /// Ada's own workspace, which has a folder in her archive.
    own: String,
    /// Dan's workspace, which Ada left.
    left: String,
    /// Erin's workspaces, which Ada was only invited to.
    invited: String,
    expired: String,
}

async fn reach(app: &TestApp) -> anyhow::Result<Reach> {
    let dan = app.sign_up("dan").await?;
    let left = app.create_workspace(&dan, "Dan's").await?;
    let (ada, ada_id) = app.join(&dan, &left, "ada", "ADMIN").await?;
    let made = app
        .gql(Some(&ada), CREATE_KEY, json!({ "w": left, "n": "ADA-KEY-MARKER" }))
        .await?;
    assert!(made.is_ok(), "{:?}", made.body);
    let made = app
        .gql(Some(&dan), CREATE_KEY, json!({ "w": left, "n": "DAN-KEY-MARKER" }))
        .await?;
    assert!(made.is_ok(), "{:?}", made.body);
    let gone = app.gql(Some(&ada), REMOVE, json!({ "w": left, "u": ada_id })).await?;
    assert!(gone.is_ok(), "{:?}", gone.body);
    let made = app
        .gql(Some(&dan), CREATE_KEY, json!({ "w": left, "n": "DAN-AFTER-MARKER" }))
        .await?;
    assert!(made.is_ok(), "{:?}", made.body);

    let own = app.create_workspace(&ada, "Ada's").await?;
    let made = app
        .gql(Some(&ada), CREATE_KEY, json!({ "w": own, "n": "ADA-OWN-MARKER" }))
        .await?;
    assert!(made.is_ok(), "{:?}", made.body);

    let erin = app.sign_up("erin").await?;
    let invited = app.create_workspace(&erin, "Erin's").await?;
    let expired = app.create_workspace(&erin, "Erin's other").await?;
    for (workspace, email, role) in [
        (&invited, "ada@example.com", "VIEWER"),
        // Replaces (revokes) the first.
        (&invited, "ada@example.com", "OPERATOR"),
        (&invited, "bea@example.com", "VIEWER"),
        (&expired, "ada@example.com", "VIEWER"),
    ] {
        let sent = app
            .gql(Some(&erin), INVITE, json!({ "w": workspace, "e": email, "r": role }))
            .await?;
        assert!(sent.is_ok(), "{:?}", sent.body);
    }
    let db = app.db().await?;
    let backend = db.get_database_backend();
    let sql = if backend == DatabaseBackend::Postgres {
        "UPDATE invitations SET expires_at = $1 WHERE workspace_id = $2"
    } else {
        "UPDATE invitations SET expires_at = ? WHERE workspace_id = ?"
    };
    let past = chrono::Utc::now() - Duration::days(1);
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        sql,
        [past.into(), uuid::Uuid::parse_str(&expired)?.into()],
    ))
    .await?;
    Ok(Reach {
        ada,
        ada_id,
        own,
        left,
        invited,
        expired,
    })
}

/// Requests an export as the holder of `token`, builds it, downloads it and unzips it.
async fn export_of(app: &TestApp, token: &str) -> anyhow::Result<Vec<(String, String)>> {
    let requested = app.gql(Some(token), EXPORT, json!({})).await?;
    anyhow::ensure!(requested.is_ok(), "{}", requested.body);
    let id = requested.str_at("/data/requestDataExport/id")?;
    run_export_jobs(app, ManualClock::starting_now()).await?;
    let listed = app.gql(Some(token), LIST, json!({})).await?;
    let url = listed
        .at("/data/me/dataSubjectRequests")?
        .as_array()
        .and_then(|requests| requests.iter().find(|request| request["id"] == id.as_str()))
        .and_then(|request| request["downloadUrl"].as_str())
        .ok_or_else(|| anyhow::anyhow!("no link for {id}: {}", listed.body))?
        .to_owned();
    let response = app.http().get(app.url(&url)).bearer_auth(token).send().await?;
    anyhow::ensure!(response.status().as_u16() == 200, "{}", response.status());
    unzip(&response.bytes().await?)
}

/// The text of one file of the archive.
fn text_of<'a>(entries: &'a [(String, String)], name: &str) -> anyhow::Result<&'a str> {
    entries
        .iter()
        .find(|(entry, _)| entry == name)
        .map(|(_, text)| text.as_str())
        .ok_or_else(|| anyhow::anyhow!("no {name} in the archive"))
}

/// The rows of one file of the archive.
fn rows_of(entries: &[(String, String)], name: &str) -> anyhow::Result<Vec<Value>> {
    Ok(serde_json::from_str(text_of(entries, name)?)?)
}

/// The record count the manifest gives for `name`.
fn listed_count(entries: &[(String, String)], name: &str) -> anyhow::Result<Option<u64>> {
    let manifest: Value = serde_json::from_str(text_of(entries, "manifest.json")?)?;
    Ok(manifest["files"]
        .as_array()
        .and_then(|files| files.iter().find(|file| file["name"] == name))
        .and_then(|file| file["records"].as_u64()))
}

/// Every invitation token mailed so far.
fn mailed_invitation_tokens(app: &TestApp) -> anyhow::Result<Vec<String>> {
    let mut tokens = Vec::new();
    for entry in std::fs::read_dir(app.data_dir.path().join("mail"))? {
        let text = std::fs::read_to_string(entry?.path())?;
        tokens.extend(
            text.split_whitespace()
                .filter(|word| word.starts_with("tgi_"))
                .map(str::to_owned),
        );
    }
    Ok(tokens)
}

backend_tests!(
    an_export_holds_the_invitations_to_the_person_and_their_doing_in_workspaces_they_left,
    options = quiet(),
    |app| {
        let _alone = ONE_AT_A_TIME.lock().await;
        let reach = reach(&app).await?;
        let entries = export_of(&app, &reach.ada).await?;
        let everything = entries.iter().map(|(_, text)| text.as_str()).collect::<String>();

        let invitations = rows_of(&entries, "invitations_received.json")?;
        assert_eq!(listed_count(&entries, "invitations_received.json")?, Some(4));
        let of = |workspace: &str| {
            invitations
                .iter()
                .filter(|row| row["workspace_id"] == workspace)
                .collect::<Vec<_>>()
        };
        assert!(
            invitations.iter().all(|row| row["email"] == "ada@example.com"),
            "{invitations:?}"
        );
        let accepted = of(&reach.left);
        assert_eq!(accepted.len(), 1, "the invitation she accepted: {invitations:?}");
        assert!(accepted[0]["accepted_at"].is_string());
        let mut erins = of(&reach.invited);
        erins.sort_by_key(|row| row["revoked_at"].is_null());
        assert_eq!(erins.len(), 2, "{invitations:?}");
        assert!(erins[0]["revoked_at"].is_string(), "the replaced one, revoked");
        assert!(
            erins[1]["revoked_at"].is_null() && erins[1]["accepted_at"].is_null(),
            "pending"
        );
        assert_eq!(erins[1]["role"], "OPERATOR");
        let expired = of(&reach.expired);
        assert_eq!(expired.len(), 1, "{invitations:?}");
        let expires_at = chrono::DateTime::parse_from_rfc3339(expired[0]["expires_at"].as_str().unwrap_or_default())?;
        assert!(expires_at < chrono::Utc::now(), "expired");
        assert!(!everything.contains("bea@example.com"), "nothing of Bea's invitation");
        assert!(!everything.contains("token_hash"));
        for token in mailed_invitation_tokens(&app)? {
            let hash = hex::encode(tgos_domain::crypto::token::hash(&token));
            assert!(
                !everything.contains(&token) && !everything.contains(&hash),
                "an invitation token"
            );
        }

        let elsewhere = rows_of(&entries, "audit/other_workspaces.json")?;
        assert_eq!(
            listed_count(&entries, "audit/other_workspaces.json")?,
            Some(elsewhere.len() as u64)
        );
        let mut actions = elsewhere
            .iter()
            .map(|row| row["action"].as_str().unwrap_or_default())
            .collect::<Vec<_>>();
        actions.sort_unstable();
        assert_eq!(
            actions,
            ["api_key.created", "member.joined", "member.left"],
            "her doing in Dan's workspace, nothing else: {elsewhere:?}"
        );
        assert!(
            elsewhere
                .iter()
                .all(|row| row["workspace_id"] == reach.left.as_str() && row["actor_id"] == reach.ada_id.as_str()),
            "{elsewhere:?}"
        );
        assert!(text_of(&entries, "audit/other_workspaces.json")?.contains("ADA-KEY-MARKER"));
        assert!(
            !everything.contains("DAN-KEY-MARKER") && !everything.contains("DAN-AFTER-MARKER"),
            "nothing of Dan's doing"
        );
        // Her own workspace's entries are in its folder, and only there.
        let own = rows_of(&entries, &format!("workspaces/{}/audit_by_me.json", reach.own))?;
        let own_keys = own.iter().filter(|row| row["action"] == "api_key.created").count();
        assert_eq!(own_keys, 1, "{own:?}");
        assert!(
            !elsewhere.iter().any(|row| row["workspace_id"] == reach.own.as_str()),
            "not twice"
        );
        assert!(
            entries
                .iter()
                .all(|(name, _)| !name.contains(&reach.left) && !name.contains(&reach.invited)),
            "no folder for a workspace she does not belong to"
        );
        Ok(())
    }
);

backend_tests!(
    invitations_to_an_address_not_yet_verified_stay_out_of_the_export,
    options = quiet(),
    |app| {
        let _alone = ONE_AT_A_TIME.lock().await;
        let erin = app.sign_up("erin").await?;
        let workspace = app.create_workspace(&erin, "Erin's").await?;
        let sent = app
            .gql(
                Some(&erin),
                INVITE,
                json!({ "w": workspace, "e": "carol@example.com", "r": "VIEWER" }),
            )
            .await?;
        assert!(sent.is_ok(), "{:?}", sent.body);
        // Anyone may sign up with this address; until its link comes back it may be somebody else's.
        let carol = app.sign_up("carol").await?;
        let unverified = export_of(&app, &carol).await?;
        assert_eq!(rows_of(&unverified, "invitations_received.json")?, Vec::<Value>::new());
        assert!(!unverified.iter().any(|(_, text)| text.contains(&workspace)));

        app.verify_email_of("carol").await?;
        let verified = export_of(&app, &carol).await?;
        let invitations = rows_of(&verified, "invitations_received.json")?;
        assert_eq!(invitations.len(), 1, "{invitations:?}");
        assert_eq!(invitations[0]["workspace_id"], workspace.as_str());
        Ok(())
    }
);

postgres_tests!(
    the_persons_own_wall_reads_invitations_to_their_verified_address_and_their_own_entries_only,
    |app| {
        let _alone = ONE_AT_A_TIME.lock().await;
        let reach = reach(&app).await?;
        let carol = app.sign_up("carol").await?;
        let carol_id = app
            .gql(Some(&carol), "{ me { user { id } } }", json!({}))
            .await?
            .str_at("/data/me/user/id")?;
        let sent = app
            .gql(
                Some(&reach.ada),
                INVITE,
                json!({ "w": reach.own, "e": "carol@example.com", "r": "VIEWER" }),
            )
            .await?;
        assert!(sent.is_ok(), "{:?}", sent.body);
        let server = app.server_pool().await?;
        let count = async |user: &str, sql: &str| -> anyhow::Result<i64> {
            let tx = server.begin().await?;
            tx.execute_raw(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "SELECT set_config('tgos.user_id', $1, true)",
                [user.into()],
            ))
            .await?;
            let row = tx
                .query_one_raw(Statement::from_string(DatabaseBackend::Postgres, sql.to_owned()))
                .await?
                .ok_or_else(|| anyhow::anyhow!("no row from {sql}"))?;
            Ok(row.try_get_by_index::<i64>(0)?)
        };
        let ada = reach.ada_id.as_str();
        assert_eq!(
            count(ada, "SELECT count(*) FROM invitations").await?,
            4,
            "the four to her address"
        );
        assert_eq!(
            count(
                ada,
                "SELECT count(*) FROM invitations WHERE email_key <> 'ada@example.com'"
            )
            .await?,
            0,
            "not Bea's, not the one she sent Carol"
        );
        let foreign = format!("SELECT count(*) FROM audit_log WHERE workspace_id IS NOT NULL AND actor_id <> '{ada}'");
        assert_eq!(count(ada, &foreign).await?, 0, "nobody else's entries");
        let own = format!("SELECT count(*) FROM audit_log WHERE workspace_id IS NOT NULL AND actor_id = '{ada}'");
        let owner = app.db().await?;
        let all_hers = owner
            .query_one_raw(Statement::from_string(DatabaseBackend::Postgres, own.clone()))
            .await?
            .ok_or_else(|| anyhow::anyhow!("no count"))?
            .try_get_by_index::<i64>(0)?;
        assert!(all_hers >= 6, "three in Dan's workspace, three in her own: {all_hers}");
        assert_eq!(count(ada, &own).await?, all_hers, "hers, on every chain");
        assert_eq!(
            count(&carol_id, "SELECT count(*) FROM invitations").await?,
            0,
            "an unverified address reads no invitation"
        );
        // Reading only: behind her own wall she changes nothing.
        let tx = server.begin().await?;
        tx.execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT set_config('tgos.user_id', $1, true)",
            [ada.into()],
        ))
        .await?;
        let changed = tx
            .execute_unprepared("UPDATE invitations SET role = 'OWNER' WHERE email_key = 'ada@example.com'")
            .await?;
        assert_eq!(
            changed.rows_affected(),
            0,
            "her wall reads invitations, it does not write them"
        );
        Ok(())
    }
);
