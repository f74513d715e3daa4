//! Stopping a replica, on both databases: open WebSockets are closed with 1012 (service restart: reconnect
//! with `afterSequence`) whether the server is stopped in process or a `tgos serve` process gets SIGTERM,
//! which then exits 0; a `tgos worker` process serves health and metrics but no API, holds the leader-held
//! work, and on SIGTERM releases it and exits 0.

use std::time::{Duration, Instant};

use serde_json::json;
use tgos_domain::leadership::names;
use tgos_tests::live::{Frame, INBOX_EVENTS, Subscriber};
use tgos_tests::replicas::TgosProcess;
use tgos_tests::{TestOptions, backend_tests};

const TGOS: &str = env!("CARGO_BIN_EXE_tgos-under-test");

fn serving_only() -> TestOptions {
    TestOptions {
        workers: false,
        ..TestOptions::default()
    }
}

/// Asserts `frame` is the close of a stopping server.
fn assert_restart(frame: &Frame) {
    match frame {
        Frame::Closed(code, reason) => {
            assert_eq!(*code, 1012, "service restart: {reason}");
            assert!(reason.contains("afterSequence"), "{reason}");
        }
        other => panic!("expected a close, got {other:?}"),
    }
}

backend_tests!(subscribers_are_closed_with_1012_when_the_server_stops, |app| {
    let token = app.sign_up("stopping").await?;
    let workspace = app.create_workspace(&token, "Agency").await?;
    let mut subscribed = Subscriber::start(app.addr, &token, INBOX_EVENTS, json!({ "w": workspace }), None).await?;
    subscribed.expect_nothing(Duration::from_millis(300)).await?;
    // An idle connection (no operation yet) is closed too.
    let mut idle = Subscriber::connect(app.addr, &token, None).await?;

    let stopping = Instant::now();
    let stopped = tokio::spawn({
        let app = app.clone();
        async move { app.shutdown().await }
    });
    assert_restart(&subscribed.frame(Duration::from_secs(10)).await?);
    assert_restart(&idle.frame(Duration::from_secs(10)).await?);
    stopped.await?;
    assert!(
        stopping.elapsed() < Duration::from_secs(4),
        "the stop waited for the sockets to close, not for the grace (5 s): {:?}",
        stopping.elapsed()
    );
    assert!(
        Subscriber::connect(app.addr, &token, None).await.is_err(),
        "no new connection once stopped"
    );
    Ok(())
});

backend_tests!(
    a_serve_process_closes_its_websockets_with_1012_and_exits_0_on_sigterm,
    options = serving_only(),
    |app| {
        let token = app.sign_up("terminated").await?;
        let workspace = app.create_workspace(&token, "Agency").await?;
        let mut server = TgosProcess::start(TGOS, &["serve"], &app.process_env())?;
        let mut subscribed =
            Subscriber::start(server.addr, &token, INBOX_EVENTS, json!({ "w": workspace }), None).await?;
        subscribed.expect_nothing(Duration::from_millis(300)).await?;

        server.terminate()?;
        assert_restart(&subscribed.frame(Duration::from_secs(10)).await?);
        let status = server.wait(Duration::from_secs(15))?;
        assert_eq!(status.code(), Some(0), "a graceful stop exits 0");
        assert!(server.output().iter().any(|line| line.contains("stopped")));
        assert_eq!(app.leaders().await?, Vec::new(), "its leader leases were released");
        Ok(())
    }
);

backend_tests!(
    a_worker_process_leads_the_background_work_and_releases_it_on_sigterm,
    options = serving_only(),
    |app| {
        let mut worker = TgosProcess::start(TGOS, &["worker"], &app.process_env())?;
        let base = format!("http://{}", worker.addr);
        let health = app.http().get(format!("{base}/healthz")).send().await?;
        assert_eq!(health.status(), 200);
        assert_eq!(health.text().await?, "ok");
        let ready = app.http().get(format!("{base}/readyz")).send().await?;
        assert_eq!(ready.text().await?, "ready");
        let metrics = app.http().get(format!("{base}/metrics")).send().await?;
        assert_eq!(metrics.status(), 200);
        let api = app
            .http()
            .post(format!("{base}/graphql"))
            .json(&json!({ "query": "{ __typename }" }))
            .send()
            .await?;
        assert_eq!(api.status(), 404, "a worker serves no API");

        let prefix = format!("pid{}:", worker.pid());
        app.wait_for_leader(names::RETENTION_ENQUEUE, Duration::from_secs(30), |holder| {
            holder.is_some_and(|holder| holder.starts_with(&prefix))
        })
        .await?;
        let leaders = app.leaders().await?;
        assert_eq!(
            leaders.iter().map(|leader| leader.name.as_str()).collect::<Vec<_>>(),
            {
                let mut all = names::ALL.to_vec();
                all.sort_unstable();
                all
            },
            "it holds every leader-held work"
        );
        assert!(leaders.iter().all(|leader| leader.holder.starts_with(&prefix)));

        worker.terminate()?;
        let status = worker.wait(Duration::from_secs(15))?;
        assert_eq!(status.code(), Some(0), "a graceful stop exits 0");
        assert_eq!(app.leaders().await?, Vec::new(), "released on the way out");
        Ok(())
    }
);
