//! The data directory and what the server writes into it are readable by the server's user only.
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use serde_json::json;
use tgos_tests::backend_tests;

fn mode(path: &Path) -> anyhow::Result<u32> {
    Ok(std::fs::metadata(path)?.permissions().mode() & 0o777)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_directory_is_created_0700_with_the_key_file_0600() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let data_dir = root.path().join("srv/tgos");
    let settings = tgos_api::config::Settings::embedded(&data_dir)?;
    let server = tgos_api::server::start(settings).await?;
    let checked = (|| {
        anyhow::ensure!(mode(&data_dir)? == 0o700, "data directory: {:o}", mode(&data_dir)?);
        anyhow::ensure!(mode(&root.path().join("srv"))? == 0o700, "its created parent too");
        anyhow::ensure!(mode(&data_dir.join("master.key"))? == 0o600, "key file");
        anyhow::ensure!(mode(&data_dir.join("mail"))? == 0o700, "mail directory");
        Ok(())
    })();
    server.stop().await?;
    checked
}

backend_tests!(mail_files_are_written_0600, |app| {
    let owner = app.sign_up("owner").await?;
    let workspace = app.create_workspace(&owner, "Acme").await?;
    let invited = app
        .gql(
            Some(&owner),
            "mutation($w: ID!) { inviteMember(workspaceId: $w, email: \"ada@example.com\", role: VIEWER) { id } }",
            json!({ "w": workspace }),
        )
        .await?;
    assert!(invited.is_ok(), "{:?}", invited.body);
    let mail_dir = app.data_dir.path().join("mail");
    assert_eq!(format!("{:o}", mode(&mail_dir)?), "700");
    // The invitation, and the owner's verification link when its notice went out meanwhile: each 0600.
    let files: Vec<_> = std::fs::read_dir(&mail_dir)?.collect::<Result<_, _>>()?;
    assert!(!files.is_empty());
    for file in &files {
        assert_eq!(format!("{:o}", mode(&file.path())?), "600", "{}", file.path().display());
    }
    assert!(app.invitation_token_for("ada@example.com")?.starts_with("tgi_"));
    Ok(())
});
