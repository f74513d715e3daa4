//! Phone login on the sandbox: Telegram's test numbers, their codes and cloud password, every refusal by its
//! name, and sessions that another process's network accepts as the same user.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use tgos_domain::accounts::PhoneNumber;
use tgos_domain::accounts::gateway::{CodeAccepted, LoggedIn, LoginError, LoginFlow, PeerKey, TelegramGateway};
use tgos_domain::clock::Clock;
use tgos_domain::ids::AccountId;
use tgos_telegram::sandbox::{
    CODE_LIFETIME_SECS, FLOOD_WAIT_SECS, MAX_CODES_PER_FLOW, SANDBOX_CLOUD_PASSWORD, SANDBOX_PASSWORD_HINT,
    SandboxGateway, SandboxNetwork, login_user_id,
};

use crate::support::noon;

// Marked as test code so the helpers may unwrap, like the tests themselves (clippy.toml).
#[cfg(test)]
mod kit {
    use super::*;

    /// A clock a test moves forward.
    #[derive(Debug)]
    pub struct MovingClock(pub Mutex<DateTime<Utc>>);

    impl MovingClock {
        pub fn advance(&self, by: Duration) {
            let mut now = self.0.lock().unwrap();
            *now += by;
        }
    }

    impl Clock for MovingClock {
        fn now(&self) -> DateTime<Utc> {
            *self.0.lock().unwrap()
        }
    }

    pub fn phone(raw: &str) -> PhoneNumber {
        PhoneNumber::parse("phone", raw).unwrap()
    }

    pub async fn flow(gateway: &SandboxGateway) -> Box<dyn LoginFlow> {
        gateway.begin_login().await.unwrap()
    }

    /// Sends the code to `raw` and signs in with `code`, expecting to be logged in at once.
    pub async fn log_in(gateway: &SandboxGateway, raw: &str, code: &str) -> LoggedIn {
        let mut login = flow(gateway).await;
        login.send_code(&phone(raw)).await.unwrap();
        match login.sign_in(code).await.unwrap() {
            CodeAccepted::LoggedIn(logged_in) => logged_in,
            CodeAccepted::PasswordNeeded { .. } => panic!("{raw} asked for a password"),
        }
    }
}

use kit::{MovingClock, flow, log_in, phone};

#[tokio::test]
async fn a_test_number_logs_in_with_its_code_and_another_process_accepts_the_session() {
    let console = SandboxGateway::default();
    let logged_in = log_in(&console, "+99966 2 1234", "22222").await;
    let user_id = 800_000_021_234;
    assert_eq!(login_user_id(&phone("+9996621234")), Some(user_id));
    assert_eq!(logged_in.session.user_id(), Some(user_id));
    assert_eq!(logged_in.session.dc_id().get(), 2, "data centre X");
    assert!(logged_in.session.test_mode());
    assert_eq!(logged_in.user.key(), PeerKey::user(user_id).unwrap());
    assert_eq!(logged_in.user.title(), "Sandbox 21234");
    assert_eq!(logged_in.user.username(), Some("sandbox_21234"));
    assert_eq!(logged_in.phone.as_e164(), "+9996621234");
    assert!(!logged_in.premium);

    // Another process: its own network, which has never seen this user.
    let server = SandboxGateway::new(SandboxNetwork::new());
    let connection = server.connect(AccountId::generate(), &logged_in.session).await.unwrap();
    let me = connection.me().await.unwrap();
    assert_eq!(me.key(), logged_in.user.key(), "the same user");
    assert_eq!(me.title(), "Sandbox 21234", "named as the login named it");
    connection.dialogs(10).await.unwrap();

    // Logging the same phone in again is the same user with a new authorization.
    let again = log_in(&console, "+9996621234", "22222").await;
    assert_eq!(again.session.user_id(), Some(user_id));
    assert_ne!(
        again.session.auth_key().fingerprint(),
        logged_in.session.auth_key().fingerprint(),
        "each login is a new auth key"
    );
    let other_dc = log_in(&console, "+9996630000", "33333").await;
    assert_eq!(other_dc.session.dc_id().get(), 3);
    assert_ne!(other_dc.session.user_id(), Some(user_id));
}

#[tokio::test]
async fn a_wrong_code_is_refused_and_may_be_tried_again() {
    let gateway = SandboxGateway::default();
    let mut login = flow(&gateway).await;
    login.send_code(&phone("+9996611111")).await.unwrap();
    for wrong in ["22222", "1111", "", "111111"] {
        assert_eq!(
            login.sign_in(wrong).await.err(),
            Some(LoginError::PhoneCodeInvalid),
            "{wrong:?}"
        );
    }
    let accepted = login.sign_in(" 11111 ").await.unwrap();
    assert!(matches!(accepted, CodeAccepted::LoggedIn(_)));
}

#[tokio::test]
async fn a_number_ending_in_9_asks_for_the_cloud_password_and_forgets_it() {
    let gateway = SandboxGateway::default();
    let mut login = flow(&gateway).await;
    login.send_code(&phone("+9996620009")).await.unwrap();
    match login.sign_in("22222").await.unwrap() {
        CodeAccepted::PasswordNeeded { hint } => assert_eq!(hint.as_deref(), Some(SANDBOX_PASSWORD_HINT)),
        CodeAccepted::LoggedIn(_) => panic!("logged in without the password"),
    }
    assert_eq!(
        login.check_password("not it").await.err(),
        Some(LoginError::PasswordHashInvalid)
    );
    assert!(!format!("{login:?}").contains("not it"));
    let logged_in = login.check_password(SANDBOX_CLOUD_PASSWORD).await.unwrap();
    assert_eq!(logged_in.session.user_id(), Some(800_000_020_009));
    let printed = format!("{login:?} {logged_in:?}");
    assert!(!printed.contains(SANDBOX_CLOUD_PASSWORD), "{printed}");
    assert_eq!(
        login.check_password(SANDBOX_CLOUD_PASSWORD).await.err(),
        Some(LoginError::OutOfOrder("no cloud password was asked for in this login")),
        "the login has ended"
    );
}

#[tokio::test]
async fn numbers_outside_the_test_range_are_refused_by_name() {
    let gateway = SandboxGateway::default();
    for (raw, expected) in [
        ("+447911123456", LoginError::PhoneNumberUnoccupied),
        ("+14155550100", LoginError::PhoneNumberUnoccupied),
        ("+9996641234", LoginError::PhoneNumberInvalid),
        ("+99966123456", LoginError::PhoneNumberInvalid),
        ("+99912345678", LoginError::PhoneNumberInvalid),
        ("+9996611238", LoginError::PhoneNumberBanned),
    ] {
        let mut login = flow(&gateway).await;
        let refused = login.send_code(&phone(raw)).await.err();
        assert_eq!(refused.as_ref(), Some(&expected), "{raw}");
        assert!(refused.is_some_and(|e| e.to_string().starts_with(e.code())));
        assert!(
            matches!(login.sign_in("11111").await, Err(LoginError::OutOfOrder(_))),
            "no code was sent to {raw}"
        );
    }
}

#[tokio::test]
async fn a_code_expires_and_a_new_one_is_needed() {
    let clock = Arc::new(MovingClock(Mutex::new(noon())));
    let gateway = SandboxGateway::new(SandboxNetwork::with(clock.clone(), 100));
    let number = phone("+9996611234");
    let mut login = flow(&gateway).await;
    login.send_code(&number).await.unwrap();
    clock.advance(Duration::seconds(CODE_LIFETIME_SECS));
    assert_eq!(login.sign_in("11111").await.err(), Some(LoginError::PhoneCodeExpired));
    assert!(
        matches!(login.sign_in("11111").await, Err(LoginError::OutOfOrder(_))),
        "an expired code is gone"
    );
    login.send_code(&number).await.unwrap();
    clock.advance(Duration::seconds(CODE_LIFETIME_SECS - 1));
    assert!(matches!(login.sign_in("11111").await, Ok(CodeAccepted::LoggedIn(_))));

    // A last digit 7 has always expired, whatever the clock says.
    let mut login = flow(&gateway).await;
    login.send_code(&phone("+9996611237")).await.unwrap();
    assert_eq!(login.sign_in("11111").await.err(), Some(LoginError::PhoneCodeExpired));
}

#[tokio::test]
async fn too_many_codes_in_one_login_are_a_flood_wait() {
    let gateway = SandboxGateway::default();
    let number = phone("+9996611234");
    let mut login = flow(&gateway).await;
    for _ in 0..MAX_CODES_PER_FLOW {
        login.send_code(&number).await.unwrap();
    }
    let refused = login.send_code(&number).await.err();
    assert_eq!(
        refused,
        Some(LoginError::FloodWait {
            seconds: FLOOD_WAIT_SECS
        })
    );
    assert!(refused.is_some_and(|e| e.to_string().contains("60 seconds")));
    assert!(
        matches!(login.sign_in("11111").await, Ok(CodeAccepted::LoggedIn(_))),
        "the code already sent still works"
    );
    let mut fresh = flow(&gateway).await;
    fresh.send_code(&number).await.unwrap();
}

#[tokio::test]
async fn steps_out_of_order_are_refused() {
    let gateway = SandboxGateway::default();
    let mut login = flow(&gateway).await;
    assert!(matches!(login.sign_in("11111").await, Err(LoginError::OutOfOrder(_))));
    assert!(matches!(
        login.check_password(SANDBOX_CLOUD_PASSWORD).await,
        Err(LoginError::OutOfOrder(_))
    ));
    login.send_code(&phone("+9996611234")).await.unwrap();
    assert!(
        matches!(
            login.check_password(SANDBOX_CLOUD_PASSWORD).await,
            Err(LoginError::OutOfOrder(_))
        ),
        "no password was asked for"
    );
    assert!(matches!(login.sign_in("11111").await, Ok(CodeAccepted::LoggedIn(_))));
    for refused in [
        login.send_code(&phone("+9996611234")).await.err(),
        login.sign_in("11111").await.err(),
    ] {
        assert_eq!(refused.map(|e| e.code()), Some("OUT_OF_ORDER"), "the login has ended");
    }
}
