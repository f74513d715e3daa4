//! A release is signed with the offline key it is given, and verification refuses a changed binary, another
//! key, and a release made without a key (`release/build`, `release/verify`; docs/DEPLOYING.md).

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::Context as _;

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run(command: &mut Command) -> anyhow::Result<Output> {
    command.output().context("the command runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A fresh ed25519 key pair in `dir`, and an allowed-signers file naming its public half.
fn key_pair(dir: &Path, name: &str) -> anyhow::Result<(PathBuf, PathBuf)> {
    let key = dir.join(name);
    let made = run(Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "release@telegramos", "-f"])
        .arg(&key))?;
    assert!(made.status.success(), "{}", text(&made));
    let public = std::fs::read_to_string(key.with_extension("pub"))?;
    let signers = dir.join(format!("{name}.allowed_signers"));
    std::fs::write(&signers, format!("release@telegramos {public}"))?;
    Ok((key, signers))
}

#[test]
fn a_release_is_signed_and_verifies_and_a_changed_binary_or_another_key_does_not() -> anyhow::Result<()> {
    let scratch = tempfile::tempdir()?;
    let binaries = scratch.path().join("bin");
    std::fs::create_dir(&binaries)?;
    for (name, body) in [
        ("tgos", "#!/bin/sh\necho server\n"),
        ("tgos-console", "#!/bin/sh\necho console\n"),
    ] {
        let path = binaries.join(name);
        std::fs::write(&path, body)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    }
    let (key, signers) = key_pair(scratch.path(), "release")?;
    let (_, stranger) = key_pair(scratch.path(), "stranger")?;
    let private = std::fs::read_to_string(&key)?;
    let out = scratch.path().join("dist");

    // Without a key nothing is made.
    let unsigned = run(Command::new(repository().join("release/build"))
        .arg(&out)
        .env_remove("TGOS_RELEASE_SIGNING_KEY")
        .env("TGOS_RELEASE_PREBUILT", &binaries))?;
    assert_eq!(unsigned.status.code(), Some(2), "{}", text(&unsigned));
    assert!(
        text(&unsigned).contains("TGOS_RELEASE_SIGNING_KEY"),
        "{}",
        text(&unsigned)
    );
    assert!(!out.exists(), "nothing is written without a key");

    // The key given as its content, as a secret store hands it over.
    let built = run(Command::new(repository().join("release/build"))
        .arg(&out)
        .env("TGOS_RELEASE_SIGNING_KEY", &private)
        .env("TGOS_RELEASE_PREBUILT", &binaries))?;
    assert!(built.status.success(), "{}", text(&built));
    let mut release = None;
    for entry in std::fs::read_dir(&out)? {
        let path = entry?.path();
        if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("tgos-0."))
        {
            release = Some(path);
        }
    }
    let release = release.context("a tgos-<version>-<target> directory")?;
    let sums = std::fs::read_to_string(release.join("SHA256SUMS"))?;
    assert!(sums.contains("  tgos\n") && sums.contains("  tgos-console\n"), "{sums}");
    for entry in std::fs::read_dir(&release)? {
        let bytes = std::fs::read(entry?.path())?;
        assert!(
            !String::from_utf8_lossy(&bytes).contains("PRIVATE KEY"),
            "no private key is shipped"
        );
    }

    let verify = |signers: &Path| {
        run(Command::new(repository().join("release/verify"))
            .arg(&release)
            .arg(signers))
    };
    let good = verify(&signers)?;
    assert!(good.status.success(), "{}", text(&good));
    assert!(
        text(&good).contains("Good \"tgos-release\" signature"),
        "{}",
        text(&good)
    );

    let foreign = verify(&stranger)?;
    assert!(
        !foreign.status.success(),
        "another key's signers file refuses: {}",
        text(&foreign)
    );

    std::fs::write(release.join("tgos"), "#!/bin/sh\necho changed\n")?;
    let changed = verify(&signers)?;
    assert!(
        !changed.status.success(),
        "a changed binary refuses: {}",
        text(&changed)
    );
    assert!(text(&changed).contains("tgos: FAILED"), "{}", text(&changed));
    Ok(())
}
