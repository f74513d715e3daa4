//! Notices: queued with the change that causes them, sent by a job through the real SMTP client, retried
//! when the mail server fails, and sent once; security notices always, the others as the person chose.

use std::sync::Arc;

use serde_json::json;
use tgos_domain::clock::Clock as _;
use tgos_domain::crypto::MasterKey;
use tgos_domain::identity::email_links::EmailLinkKey;
use tgos_domain::ids::UserId;
use tgos_domain::jobs::JobWorker;
use tgos_domain::notices::{self, Notice, NoticeConfig, NoticeJobs};
use tgos_persistence::mail::{SmtpMailer, sender};
use tgos_tests::clock::ManualClock;
use tgos_tests::fake_smtp::FakeSmtp;
use tgos_tests::{TestApp, TestOptions, backend_tests};

/// Every notice that needs nothing but an account (the lease reminder checks its lease; the email-change
/// link needs a pending address: both are tested where those exist).
fn every_plain_notice() -> Vec<Notice> {
    let at = chrono::Utc::now();
    vec![
        Notice::VerifyEmail,
        Notice::EmailChangeRequested {
            new_email: "new@example.com".into(),
        },
        Notice::EmailChanged {
            new_email: "new@example.com".into(),
        },
        Notice::NewSignIn {
            ip_address: Some("203.0.113.7".into()),
            user_agent: Some("curl/8".into()),
            at,
        },
        Notice::PasswordChanged,
        Notice::TwoFactorEnabled,
        Notice::TwoFactorDisabled,
        Notice::BackupCodesRegenerated,
        Notice::ApiKeyCreated {
            workspace: "Team".into(),
            key_name: "ci".into(),
        },
        Notice::TopUpCredited {
            workspace: "Team".into(),
            amount: "10.00 USD".into(),
        },
        Notice::LowBalance {
            workspace: "Team".into(),
            balance: "1.00 USD".into(),
            threshold: "5.00 USD".into(),
        },
        Notice::LeaseEnded {
            workspace: "Team".into(),
            ended_at: at,
        },
        Notice::ExportReady { expires_at: at },
        Notice::DeletionScheduled { erase_at: at },
        Notice::DeletionCancelled,
        Notice::DeletionDone,
        Notice::AccountSuspended {
            reason: "reported for spam".into(),
        },
        Notice::AccountUnsuspended,
        Notice::RequestStatus {
            kind: "ACCESS".into(),
            status: "COMPLETED".into(),
            resolution: None,
            answer_by: Some(at),
        },
    ]
}

async fn user_id(app: &TestApp, token: &str) -> anyhow::Result<UserId> {
    let me = app.gql(Some(token), "{ me { user { id } } }", json!({})).await?;
    Ok(me.str_at("/data/me/user/id")?.parse()?)
}

/// A worker of the test's own on `clock`, sending through the real SMTP client to `smtp`.
fn worker(app: &TestApp, clock: &Arc<ManualClock>, smtp: &FakeSmtp) -> anyhow::Result<JobWorker> {
    let mailer = SmtpMailer::new(
        &format!("smtp://127.0.0.1:{}", smtp.port),
        sender("Telegram OS <no-reply@example.com>")?,
        true,
    )?;
    let handler = NoticeJobs::new(
        Arc::clone(&app.store),
        Arc::new(mailer),
        EmailLinkKey::from_master(&MasterKey::generate()),
        clock.clone(),
        NoticeConfig {
            app_url: "https://app.example".into(),
        },
    );
    Ok(JobWorker::new(Arc::clone(&app.store), clock.clone(), "notices-test").with_handler(Arc::new(handler)))
}

backend_tests!(
    each_notice_is_sent_once_when_the_mail_server_fails_twice_first,
    options = TestOptions {
        workers: false,
        ..TestOptions::default()
    },
    |app| {
        let token = app.sign_up("ada").await?;
        let ada = user_id(&app, &token).await?;
        let clock = ManualClock::starting_now();
        let notices = every_plain_notice();
        let tx = app.store.begin().await?;
        // Sign-up queued the verification link already; the rest are queued here as their use cases do.
        for notice in notices.iter().skip(1) {
            notices::queue(&*tx, ada, notice.clone(), clock.now()).await?;
        }
        tx.commit().await?;

        let smtp = FakeSmtp::failing_first(2).await?;
        let worker = worker(&app, &clock, &smtp)?;
        for _ in 0..6 {
            while worker.run_once().await? > 0 {}
            clock.advance(chrono::Duration::hours(2));
        }
        let arrivals = smtp.arrivals();
        assert_eq!(arrivals.len(), notices.len(), "one message per notice: {arrivals:?}");
        assert!(
            arrivals.values().all(|n| *n == 3),
            "each was refused twice, then delivered once and never again: {arrivals:?}"
        );
        assert_eq!(worker.run_once().await?, 0, "nothing is left to send");

        let texts = smtp.received().join("\n");
        for subject in [
            "Confirm your email address",
            "Your password was changed",
            "New sign-in to your account",
            "Your top-up arrived",
        ] {
            assert!(texts.contains(subject), "{subject}");
        }
        Ok(())
    }
);

backend_tests!(
    security_notices_always_go_and_billing_notices_follow_the_preference,
    options = TestOptions {
        workers: false,
        ..TestOptions::default()
    },
    |app| {
        let token = app.sign_up("grace").await?;
        let grace = user_id(&app, &token).await?;
        let off = "mutation { updateNoticePreferences(input: { billing: false, leases: false }) { id } }";
        assert!(app.gql(Some(&token), off, json!({})).await?.is_ok());
        let clock = ManualClock::starting_now();
        let tx = app.store.begin().await?;
        for notice in [
            Notice::TopUpCredited {
                workspace: "Team".into(),
                amount: "10.00 USD".into(),
            },
            Notice::LeaseEnded {
                workspace: "Team".into(),
                ended_at: clock.now(),
            },
            Notice::PasswordChanged,
        ] {
            notices::queue(&*tx, grace, notice, clock.now()).await?;
        }
        tx.commit().await?;
        let smtp = FakeSmtp::start().await?;
        let worker = worker(&app, &clock, &smtp)?;
        while worker.run_once().await? > 0 {}
        let text = smtp.received().join("\n");
        assert!(text.contains("Your password was changed"));
        assert!(
            text.contains("Confirm your email address"),
            "the sign-up's link is a security notice"
        );
        assert!(!text.contains("Your top-up arrived"), "billing notices are off");
        assert!(!text.contains("lease ended"), "lease notices are off");
        Ok(())
    }
);

backend_tests!(a_sign_in_from_a_new_client_is_told_and_a_known_one_is_not, |app| {
    app.sign_up("linus").await?;
    let sign_in = |agent: &'static str| {
        let app = Arc::clone(&app);
        async move {
            let response = app
                .http()
                .post(app.url("/graphql"))
                .header("User-Agent", agent)
                .json(&json!({ "query": "mutation { signIn(input: { login: \"linus\", password: \"correct horse battery staple\" }) { session { token } } }" }))
                .send()
                .await?;
            anyhow::ensure!(response.status().is_success());
            anyhow::Ok(())
        }
    };
    sign_in("Firefox/1").await?;
    sign_in("Firefox/1").await?;
    sign_in("Safari/2").await?;
    app.send_notices_now().await?;
    let mailbox = app.mailbox();
    mailbox.wait_for("linus@example.com", "Safari/2").await?;
    mailbox.wait_for("linus@example.com", "Firefox/1").await?;
    // Whatever else was on its way has had time to arrive.
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let told = mailbox.all("linus@example.com", "New sign-in to your account")?;
    assert_eq!(told.len(), 2, "the first Firefox sign-in and the Safari one: {told:?}");
    Ok(())
});

backend_tests!(
    a_lease_reminder_goes_a_day_before_its_end_and_a_renewal_moves_it,
    options = TestOptions {
        workers: false,
        ..TestOptions::default()
    },
    |app| {
        use crate::accounts::{RENEW, RENT, funded, offer_ids};
        app.stock_pool(1, 500).await?;
        let (owner, workspace) = funded(&app, "olive", 5000).await?;
        let offered = offer_ids(&app, &owner).await?;
        let rented = app
            .gql(Some(&owner), RENT, json!({ "w": workspace, "o": offered[0], "d": 3 }))
            .await?;
        let lease = rented.str_at("/data/rentAccount/id")?;
        let first_end: chrono::DateTime<chrono::Utc> = rented.str_at("/data/rentAccount/endsAt")?.parse()?;
        let renewed = app.gql(Some(&owner), RENEW, json!({ "l": lease, "d": 2 })).await?;
        let new_end: chrono::DateTime<chrono::Utc> = renewed.str_at("/data/renewLease/endsAt")?.parse()?;

        let clock = ManualClock::starting_at(first_end - chrono::Duration::hours(23));
        let smtp = FakeSmtp::start().await?;
        let worker = worker(&app, &clock, &smtp)?;
        while worker.run_once().await? > 0 {}
        assert!(
            !smtp.received().join("\n").contains("ends tomorrow"),
            "the first end's reminder finds the lease renewed and is dropped"
        );
        clock.set(new_end - chrono::Duration::hours(25));
        while worker.run_once().await? > 0 {}
        assert!(
            !smtp.received().join("\n").contains("ends tomorrow"),
            "not before its day"
        );
        clock.set(new_end - chrono::Duration::hours(23));
        while worker.run_once().await? > 0 {}
        let text = smtp.received().join("\n");
        assert!(
            text.contains("ends tomorrow") && text.contains("RCPT TO:<olive@example.com>"),
            "{text}"
        );
        Ok(())
    }
);

backend_tests!(
    a_rental_that_takes_the_wallet_below_the_threshold_tells_the_owner_once,
    options = TestOptions {
        workers: false,
        ..TestOptions::default()
    },
    |app| {
        use crate::accounts::{RENT, funded, offer_ids};
        app.stock_pool(2, 250).await?;
        let (owner, workspace) = funded(&app, "olive", 800).await?;
        let offered = offer_ids(&app, &owner).await?;
        for offer in &offered {
            let rented = app
                .gql(Some(&owner), RENT, json!({ "w": workspace, "o": offer, "d": 1 }))
                .await?;
            assert!(rented.is_ok(), "{:?}", rented.body);
        }
        let clock = ManualClock::starting_now();
        let smtp = FakeSmtp::start().await?;
        let worker = worker(&app, &clock, &smtp)?;
        while worker.run_once().await? > 0 {}
        let text = smtp.received().join("\n");
        assert_eq!(
            text.matches("Your wallet is running low").count(),
            1,
            "8.00 → 5.50 stays above 5.00; 5.50 → 3.00 crosses it, once: {text}"
        );
        assert!(text.contains("3.00 USD") && text.contains("5.00 USD"));
        Ok(())
    }
);
