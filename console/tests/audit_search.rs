//! `tgos-console audit search|export` end to end: the real binary, a staff sign-in over pipes. Pages follow
//! each other without a gap or a repeat, a bad filter is refused before any prompt, and an export is a new
//! private file whose taking is audited.

use serde_json::Value;

mod common;
use common::{backup_codes, count, database, prepared_data_dir, run_console, run_create, staff_answers, totp_code};

/// The `entries` of a `--json` search, and its `next` cursor.
fn page(stdout: &str) -> anyhow::Result<(Vec<String>, Option<String>)> {
    let body: Value = serde_json::from_str(stdout.trim())?;
    let ids = body["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|entry| entry["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    Ok((ids, body["next"].as_str().map(str::to_owned)))
}

#[tokio::test]
async fn pages_of_a_search_follow_each_other_and_an_export_is_a_new_private_file() -> anyhow::Result<()> {
    let dir = prepared_data_dir().await?;
    let (created, transcript) = run_create(dir.path(), totp_code)?;
    assert!(created, "{transcript}");
    let mut codes = backup_codes(&transcript).into_iter();
    let mut code = || codes.next().ok_or_else(|| anyhow::anyhow!("no backup codes left"));
    // Everything up to now; later sign-ins add entries after it, which this bound keeps out.
    let until = tgos_domain::audit::AuditRecord::normalize_time(chrono::Utc::now())
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    std::thread::sleep(std::time::Duration::from_millis(5));

    // A filter that does not parse: refused before any prompt, as JSON with --json.
    let refused = run_console(dir.path(), &["audit", "search", "--workspace", "nope", "--json"], &[])?;
    assert!(!refused.ok);
    let body: Value = serde_json::from_str(refused.stdout.trim())?;
    assert_eq!(body["error"]["code"], "BAD_USER_INPUT");
    assert_eq!(body["error"]["field"], "workspace");
    assert!(!refused.stderr.contains("Password"), "{}", refused.stderr);

    let search = |extra: &[&str], code: String| {
        let mut args = vec!["audit", "search", "--json", "--to", until.as_str()];
        args.extend_from_slice(extra);
        run_console(dir.path(), &args, &staff_answers(&code))
    };
    let all = search(&["--limit", "500"], code()?)?;
    assert!(all.ok, "{}", all.everything());
    let (all, next) = page(&all.stdout)?;
    assert!(all.len() >= 2, "the bootstrap's entries: {all:?}");
    assert_eq!(next, None);

    let mut paged = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let mut extra = vec!["--limit", "1"];
        if let Some(cursor) = &before {
            extra.extend(["--before", cursor.as_str()]);
        }
        let run = search(&extra, code()?)?;
        assert!(run.ok, "{}", run.everything());
        let (ids, next) = page(&run.stdout)?;
        assert_eq!(ids.len(), 1);
        paged.extend(ids);
        match next {
            Some(cursor) => before = Some(cursor),
            None => break,
        }
    }
    assert_eq!(paged, all, "the pages, one after another, are the whole search");

    let out = dir.path().join("audit.csv");
    let out_arg = out.display().to_string();
    let export = |code: String| {
        run_console(
            dir.path(),
            &["audit", "export", "--format", "csv", "--to", &until, "--out", &out_arg],
            &staff_answers(&code),
        )
    };
    let run = export(code()?)?;
    assert!(run.ok, "{}", run.everything());
    assert!(
        run.stderr.contains(&format!("exported {} audit entries", all.len())),
        "{}",
        run.stderr
    );
    let text = std::fs::read_to_string(&out)?;
    assert!(text.starts_with("at,chain,sequence,id,"), "{text}");
    assert_eq!(
        text.matches("\r\n").count(),
        all.len() + 1,
        "a header and one record per entry"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&out)?.permissions().mode() & 0o777, 0o600);
    }

    // The file is never overwritten: refused before the sign-in, and nothing is exported.
    let again = export("unused".to_owned())?;
    assert!(!again.ok);
    assert!(again.stderr.contains("never overwrites"), "{}", again.stderr);
    assert_eq!(std::fs::read_to_string(&out)?, text);

    let db = database(dir.path()).await?;
    let audited = |action: &str| {
        format!(
            "SELECT COUNT(*) FROM audit_log WHERE chain = 'platform' AND action = '{action}' AND actor_kind = 'STAFF'"
        )
    };
    let searches = count(&db, &audited("console.viewed")).await?;
    assert_eq!(usize::try_from(searches)?, 1 + paged.len(), "each search is audited");
    assert_eq!(count(&db, &audited("console.audit_exported")).await?, 1);
    Ok(())
}
