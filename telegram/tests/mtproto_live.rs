//! The MTProto gateway against Telegram's test data centres. Runs only when `TGOS_TELEGRAM_TEST_API_ID`,
//! `TGOS_TELEGRAM_TEST_API_HASH` and `TGOS_TELEGRAM_TEST_PHONE` are set (a test-DC number `+99966XYYYY`,
//! whose login code is `X` five times; docs/TELEGRAM.md says how to get one); otherwise it says it was
//! skipped. It signs in, connects with the new session, sends a message to the account's own Saved
//! Messages, sees it come back through the update stream, disconnects, and signs the session out (after which Telegram refuses it).

use std::time::Duration;

use tgos_domain::accounts::PhoneNumber;
use tgos_domain::accounts::gateway::{CodeAccepted, GatewayError, GatewayUpdate, Next, PeerKey, TelegramGateway};
use tgos_domain::ids::AccountId;
use tgos_telegram::mtproto::{MtprotoConfig, MtprotoGateway};

#[expect(
    clippy::disallowed_methods,
    reason = "the opt-in switch of a test against Telegram, not the service's configuration"
)]
fn settings() -> Option<(i64, String, String)> {
    let api_id = std::env::var("TGOS_TELEGRAM_TEST_API_ID").ok()?.parse().ok()?;
    let api_hash = std::env::var("TGOS_TELEGRAM_TEST_API_HASH").ok()?;
    let phone = std::env::var("TGOS_TELEGRAM_TEST_PHONE").ok()?;
    Some((api_id, api_hash, phone))
}

/// Telegram's test numbers `99966XYYYY` receive the code `XXXXX`.
fn test_code(phone: &str) -> Option<String> {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let dc = digits.strip_prefix("99966")?.chars().next()?;
    Some(dc.to_string().repeat(5))
}

#[test]
fn test_numbers_receive_their_data_centre_digit_five_times() {
    assert_eq!(test_code("+99966 2 1234").as_deref(), Some("22222"));
    assert_eq!(test_code("+4479111234"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_in_sends_to_itself_and_sees_the_message_arrive() {
    let Some((api_id, api_hash, phone)) = settings() else {
        eprintln!(
            "SKIPPED mtproto_live: set TGOS_TELEGRAM_TEST_API_ID, TGOS_TELEGRAM_TEST_API_HASH and \
             TGOS_TELEGRAM_TEST_PHONE to run it against Telegram's test data centres (docs/TELEGRAM.md)"
        );
        return;
    };
    let config = MtprotoConfig::new(api_id, &api_hash, true).expect("valid test settings");
    let gateway = MtprotoGateway::new(config);
    let phone = PhoneNumber::parse("phone", &phone).expect("a phone number in E.164");
    let code = test_code(phone.as_e164()).expect("a test-DC number 99966XYYYY");

    let mut login = gateway.begin_login().await.expect("a login flow");
    login.send_code(&phone).await.expect("the code is sent");
    let logged_in = match login.sign_in(&code).await.expect("the code is accepted") {
        CodeAccepted::LoggedIn(logged_in) => logged_in,
        CodeAccepted::PasswordNeeded { .. } => panic!("use a test account without a cloud password"),
    };
    let me = logged_in.user.key();
    assert!(logged_in.session.test_mode());
    drop(login);

    let connection = gateway
        .connect(AccountId::generate(), &logged_in.session)
        .await
        .expect("the new session connects");
    assert_eq!(connection.me().await.expect("me").key(), me);
    let mut updates = connection.subscribe();
    let text = format!("tgos live test {}", rand::random::<u32>());
    let sent = connection
        .send_message(PeerKey::user(me.get()).expect("own key"), &text, None, true)
        .await
        .expect("sent to Saved Messages");
    assert_eq!(sent.text, text);

    let arrived = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match updates.next().await {
                Next::Update(stamped) => match stamped.update {
                    GatewayUpdate::NewMessage(message) if message.text == text => return message,
                    _ => {}
                },
                Next::Behind { .. } => {}
                Next::Closed => panic!("the update stream ended"),
            }
        }
    })
    .await
    .expect("the message arrives through the update stream within 30 s");
    assert_eq!(arrived.id, sent.id);
    connection.disconnect().await;

    gateway.log_out(&logged_in.session).await.expect("signed out");
    let after = gateway.connect(AccountId::generate(), &logged_in.session).await;
    assert!(
        matches!(after, Err(GatewayError::SessionInvalid)),
        "a signed-out session is refused as invalid: {after:?}"
    );
}
