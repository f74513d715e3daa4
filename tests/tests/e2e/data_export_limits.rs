//! A person's request limits under simultaneous requests, end to end: a burst of export requests over HTTP
//! lets exactly one export through (the others are told which one is building), a person with three exports
//! in the last day is refused every time, a count read while another export of the same person was being
//! recorded waits for it instead of passing beside it, and a burst of submitted requests opens five at most.

use std::sync::Arc;

use serde_json::json;
use tgos_domain::ids::UserId;
use tgos_domain::privacy::records::{DataSubjectRequest, RequestKind, RequestStatus};
use tgos_domain::privacy::rules::{EXPORTS_PER_DAY, MAX_OPEN_REQUESTS};
use tgos_domain::store::Store as _;
use tgos_tests::clock::ManualClock;
use tgos_tests::{GqlResponse, TestApp, TestOptions, backend_tests};

const EXPORT: &str = "mutation { requestDataExport { id kind status } }";
/// Requests fired at once.
const BURST: usize = 8;

fn quiet() -> TestOptions {
    TestOptions {
        workers: false,
        ..TestOptions::default()
    }
}

async fn user_id(app: &TestApp, token: &str) -> anyhow::Result<UserId> {
    let me = app.gql(Some(token), "{ me { user { id } } }", json!({})).await?;
    Ok(me.str_at("/data/me/user/id")?.parse()?)
}

/// An export of `user` received a moment ago and already completed.
fn completed_export(user: UserId) -> DataSubjectRequest {
    let now = chrono::Utc::now();
    let mut request = DataSubjectRequest::received_now(user, RequestKind::Export, RequestStatus::Completed, None, now);
    request.completed_at = Some(now);
    request
}

/// Starts `BURST` export requests of the holder of `token` at once; their answers, in no particular order.
fn burst(app: &Arc<TestApp>, token: &str) -> Vec<tokio::task::JoinHandle<anyhow::Result<GqlResponse>>> {
    (0..BURST)
        .map(|_| {
            let (app, token) = (Arc::clone(app), token.to_owned());
            tokio::spawn(async move { app.gql(Some(&token), EXPORT, json!({})).await })
        })
        .collect()
}

async fn answers(calls: Vec<tokio::task::JoinHandle<anyhow::Result<GqlResponse>>>) -> anyhow::Result<Vec<GqlResponse>> {
    let mut answers = Vec::with_capacity(calls.len());
    for call in calls {
        answers.push(call.await??);
    }
    Ok(answers)
}

/// The error codes of `answers`, `OK` for a success, sorted.
fn codes(answers: &[GqlResponse]) -> Vec<String> {
    let mut codes = answers
        .iter()
        .map(|answer| answer.code().unwrap_or_else(|| "OK".to_owned()))
        .collect::<Vec<_>>();
    codes.sort();
    codes
}

fn repeated(code: &str, times: usize) -> Vec<String> {
    vec![code.to_owned(); times]
}

async fn exports_of(app: &TestApp, user: UserId) -> anyhow::Result<usize> {
    let mine = app.store.list_requests(user).await?;
    Ok(mine
        .iter()
        .filter(|request| request.kind == RequestKind::Export)
        .count())
}

backend_tests!(
    a_burst_of_export_requests_lets_one_through_and_never_a_fourth_a_day,
    options = quiet(),
    |app| {
        assert_eq!(EXPORTS_PER_DAY, 3, "the numbers below are of three a day");
        let ada = app.sign_up("ada").await?;
        let me = user_id(&app, &ada).await?;
        for _ in 0..2 {
            app.store.insert_request(&completed_export(me)).await?;
        }

        // Two done today, one more allowed: one request of the burst records it, and every other one, counted
        // after it, finds it building (checked before the count, so CONFLICT naming it, not RATE_LIMITED).
        let first = answers(burst(&app, &ada)).await?;
        let mut expected = repeated("CONFLICT", BURST - 1);
        expected.push("OK".to_owned());
        assert_eq!(
            codes(&first),
            expected,
            "{:?}",
            first.iter().map(|a| &a.body).collect::<Vec<_>>()
        );
        let building = first
            .iter()
            .find(|answer| answer.is_ok())
            .map(|answer| answer.str_at("/data/requestDataExport/id"))
            .transpose()?
            .unwrap_or_default();
        for refused in first.iter().filter(|answer| !answer.is_ok()) {
            let message = refused.errors()[0]["message"].as_str().unwrap_or_default().to_owned();
            assert!(message.contains(&building), "names the export building: {message}");
        }
        assert_eq!(exports_of(&app, me).await?, EXPORTS_PER_DAY);

        // Built: nothing is building any more, and three were requested today.
        let service = app.privacy.clone().with_clock(ManualClock::starting_now());
        service.build_export(building.parse()?).await?;
        let second = answers(burst(&app, &ada)).await?;
        assert_eq!(codes(&second), repeated("RATE_LIMITED", BURST), "three a day");
        assert_eq!(exports_of(&app, me).await?, EXPORTS_PER_DAY);
        Ok(())
    }
);

backend_tests!(
    an_export_count_waits_for_an_export_of_the_same_person_being_recorded,
    options = quiet(),
    |app| {
        let bob = app.sign_up("bob").await?;
        let me = user_id(&app, &bob).await?;
        for _ in 0..EXPORTS_PER_DAY - 1 {
            app.store.insert_request(&completed_export(me)).await?;
        }
        // Another export of Bob's is being recorded (and done) in a transaction that holds his lock, as a
        // request does: the burst starts while it is open, so a count read beside it would see two and pass.
        let elsewhere = app.console_store().await?;
        let tx = elsewhere.begin().await?;
        tx.lock_requests_of(me).await?;
        tx.insert_request(&completed_export(me)).await?;
        let calls = burst(&app, &bob);
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        assert!(
            calls.iter().all(|call| !call.is_finished()),
            "no request decides while another export of the person is being recorded"
        );
        tx.commit().await?;
        let answers = answers(calls).await?;
        assert_eq!(
            codes(&answers),
            repeated("RATE_LIMITED", BURST),
            "each counted the third export: {:?}",
            answers.iter().map(|a| &a.body).collect::<Vec<_>>()
        );
        assert_eq!(exports_of(&app, me).await?, EXPORTS_PER_DAY);
        Ok(())
    }
);

backend_tests!(
    a_burst_of_submitted_requests_opens_five_at_most,
    options = quiet(),
    |app| {
        assert_eq!(MAX_OPEN_REQUESTS, 5, "the numbers below are of five open");
        let cleo = app.sign_up("cleo").await?;
        let me = user_id(&app, &cleo).await?;
        let calls = (0..BURST)
            .map(|n| {
                let (app, cleo) = (Arc::clone(&app), cleo.clone());
                tokio::spawn(async move {
                    app.gql(
                        Some(&cleo),
                        "mutation($d: String!) { submitDataSubjectRequest(kind: ACCESS, details: $d) { id } }",
                        json!({ "d": format!("question {n}") }),
                    )
                    .await
                })
            })
            .collect();
        let answers = answers(calls).await?;
        let mut expected = repeated("OK", MAX_OPEN_REQUESTS);
        expected.extend(repeated("RATE_LIMITED", BURST - MAX_OPEN_REQUESTS));
        expected.sort();
        assert_eq!(codes(&answers), expected);
        assert_eq!(app.store.list_requests(me).await?.len(), MAX_OPEN_REQUESTS);
        Ok(())
    }
);
