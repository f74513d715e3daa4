//! The `tgos` binary as an operator runs it: port 0, SIGTERM, a malformed key, `tgos schema`.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn tgos() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tgos"));
    command
        .env_remove("DATABASE_URL")
        .env_remove("TGOS_MASTER_KEY")
        .env("TGOS_LOG__FORMAT", "text")
        .env("NO_COLOR", "1");
    command
}

/// Starts `tgos serve` on port 0 and returns the child and the address from its log.
fn serve(data_dir: &std::path::Path) -> anyhow::Result<(Child, String)> {
    let mut child = tgos()
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().ok_or_else(|| anyhow::anyhow!("no stdout"))?;
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let Some(line) = lines.next() else { break };
        let line = line?;
        if let Some(rest) = line.split("listening on http://").nth(1) {
            let addr = rest.split('/').next().unwrap_or_default().to_owned();
            // Keep draining the log so the server never blocks on a full pipe.
            std::thread::spawn(move || lines.for_each(drop));
            return Ok((child, addr));
        }
    }
    let _ = child.kill();
    anyhow::bail!("the server never said where it listens")
}

fn get(addr: &str, path: &str) -> anyhow::Result<String> {
    let mut stream = TcpStream::connect(addr)?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    Ok(response)
}

#[test]
fn serve_on_port_zero_reports_the_port_and_exits_zero_on_sigterm() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (mut child, addr) = serve(dir.path())?;
    assert!(!addr.ends_with(":0"), "the log names the real port: {addr}");
    assert!(get(&addr, "/healthz")?.ends_with("ok"));
    assert!(
        dir.path().join("tgos.db").exists(),
        "the embedded database is created under the data dir"
    );
    assert!(
        dir.path().join("master.key").exists(),
        "the key file is created under the data dir"
    );
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status()?;
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(exit) = child.try_wait()? {
            assert!(exit.success(), "exit status {exit:?}");
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "the server did not stop after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

#[test]
fn two_instances_run_side_by_side() -> anyhow::Result<()> {
    let (first_dir, second_dir) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let (mut first, first_addr) = serve(first_dir.path())?;
    let (mut second, second_addr) = serve(second_dir.path())?;
    assert_ne!(first_addr, second_addr);
    assert!(get(&first_addr, "/readyz")?.ends_with("ready"));
    assert!(get(&second_addr, "/readyz")?.ends_with("ready"));
    first.kill()?;
    second.kill()?;
    Ok(())
}

#[test]
fn a_malformed_master_key_stops_the_server_without_echoing_it() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let output = tgos()
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("TGOS_MASTER_KEY", "c2hvcnQtc2VjcmV0LXZhbHVl")
        .output()?;
    assert!(!output.status.success());
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(log.contains("TGOS_MASTER_KEY is malformed"), "{log}");
    assert!(
        !log.contains("c2hvcnQtc2VjcmV0LXZhbHVl"),
        "the key is never printed: {log}"
    );
    Ok(())
}

#[test]
fn schema_command_prints_the_checked_in_schema() -> anyhow::Result<()> {
    let output = tgos().arg("schema").output()?;
    assert!(output.status.success());
    let checked_in =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema.graphql"))?;
    assert!(
        String::from_utf8(output.stdout)? == checked_in,
        "schema.graphql is stale; regenerate with: cargo run --bin tgos -- schema > schema.graphql"
    );
    Ok(())
}

/// Starts `tgos serve --demo` on port 0; returns the child, its address and the printed demo password.
fn serve_demo(data_dir: &std::path::Path) -> anyhow::Result<(Child, String, String)> {
    let mut child = tgos()
        .args(["serve", "--demo", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().ok_or_else(|| anyhow::anyhow!("no stdout"))?;
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let Some(line) = lines.next() else { break };
        let line = line?;
        if let Some(rest) = line.strip_prefix("demo: sign in at http://") {
            let addr = rest.split('/').next().unwrap_or_default().to_owned();
            let password = rest
                .split("password \"")
                .nth(1)
                .and_then(|p| p.split('"').next())
                .unwrap_or_default()
                .to_owned();
            std::thread::spawn(move || lines.for_each(drop));
            return Ok((child, addr, password));
        }
    }
    let _ = child.kill();
    anyhow::bail!("the demo never said how to sign in")
}

/// POSTs a GraphQL request over a plain HTTP/1.1 connection; returns the JSON body.
fn graphql(addr: &str, token: Option<&str>, body: &serde_json::Value) -> anyhow::Result<serde_json::Value> {
    let body = body.to_string();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let mut stream = TcpStream::connect(addr)?;
    write!(
        stream,
        "POST /graphql HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let json = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body)
        .ok_or_else(|| anyhow::anyhow!("no body in {response}"))?;
    Ok(serde_json::from_str(json)?)
}

fn demo_state(addr: &str, password: &str) -> anyhow::Result<(i64, usize, Vec<String>)> {
    let signed_in = graphql(
        addr,
        None,
        &serde_json::json!({ "query": "mutation($p: String!) { signIn(input: {login: \"demo\", password: $p}) { session { token } } }", "variables": { "p": password } }),
    )?;
    let token = signed_in
        .pointer("/data/signIn/session/token")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| anyhow::anyhow!("the demo user cannot sign in: {signed_in}"))?
        .to_owned();
    let world = graphql(
        addr,
        Some(&token),
        &serde_json::json!({ "query": "{ me { workspaces { name wallet { balance { amountMinor } } automations { nodes { name enabled } } } } accountOffers(first: 100) { edges { node { sandbox } } } }" }),
    )?;
    let balance = world
        .pointer("/data/me/workspaces/0/wallet/balance/amountMinor")
        .and_then(serde_json::Value::as_i64)
        .ok_or_else(|| anyhow::anyhow!("no demo wallet: {world}"))?;
    assert_eq!(
        world.pointer("/data/me/workspaces/0/name"),
        Some(&serde_json::json!("Demo agency"))
    );
    let offers = world
        .pointer("/data/accountOffers/edges")
        .and_then(serde_json::Value::as_array)
        .map(|edges| {
            edges
                .iter()
                .filter(|e| e.pointer("/node/sandbox") == Some(&serde_json::json!(true)))
                .count()
        })
        .unwrap_or(0);
    let automations = world
        .pointer("/data/me/workspaces/0/automations/nodes")
        .and_then(serde_json::Value::as_array)
        .map(|nodes| {
            nodes
                .iter()
                .filter(|n| n["enabled"] == serde_json::json!(true))
                .filter_map(|n| n["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    Ok((balance, offers, automations))
}

#[test]
fn demo_mode_seeds_a_user_with_credit_sandbox_offers_and_an_automation_once() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (mut first, addr, password) = serve_demo(dir.path())?;
    assert!(password.len() >= 16, "a generated password is printed");
    let greeting = vec!["Greet enquiries".to_owned()];
    assert_eq!(demo_state(&addr, &password)?, (10_000, 5, greeting.clone()));
    first.kill()?;
    first.wait()?;

    // A second start signs in with the same password and seeds nothing twice.
    let (mut second, addr, again) = serve_demo(dir.path())?;
    assert_eq!(again, password);
    assert_eq!(demo_state(&addr, &password)?, (10_000, 5, greeting));
    second.kill()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.path().join("demo-login.txt"))?
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the demo login is readable by its owner only");
    }
    Ok(())
}

#[test]
fn production_with_the_sandbox_gateway_and_no_master_key_stops_with_one_message_naming_both() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let output = tgos()
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("TGOS_PROFILE", "production")
        .output()?;
    assert_eq!(output.status.code(), Some(2), "a configuration error");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one message: {stderr}");
    assert!(lines[0].contains("production profile refuses"), "{stderr}");
    assert!(lines[0].contains("telegram.gateway = \"sandbox\""), "{stderr}");
    assert!(lines[0].contains("master_key unset"), "{stderr}");
    assert!(!dir.path().join("master.key").exists(), "no key file was created");
    Ok(())
}
