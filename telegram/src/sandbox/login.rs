//! Phone login on the simulated network ([`SandboxLogin`], from `SandboxGateway::begin_login`), mirroring
//! Telegram's test data centres so staff and tests can add "real" accounts without a phone.
//!
//! Conventions (deterministic, the same in every process):
//! - `+99966XYYYY` (X the data centre, 1 to 3; Y any four digits) is an existing account: Telegram's own test
//!   numbers. Its login code is X repeated five times (`+99966 2 1234` → `22222`). Any other number under the
//!   `+999` prefix (no country has it) is `PHONE_NUMBER_INVALID`; every other number is
//!   `PHONE_NUMBER_UNOCCUPIED` (the sandbox knows no real people, and the service never registers accounts).
//! - YYYY ending in 9: the account has a cloud password, [`SANDBOX_CLOUD_PASSWORD`], with the hint
//!   [`SANDBOX_PASSWORD_HINT`]. Ending in 8: `PHONE_NUMBER_BANNED` on sending the code. Ending in 7: the code
//!   has always expired by the time it is entered (`PHONE_CODE_EXPIRED`). Otherwise a code expires
//!   [`CODE_LIFETIME_SECS`] after it was sent, on the network's clock.
//! - More than [`MAX_CODES_PER_FLOW`] `send_code` calls in one flow: `FLOOD_WAIT` for [`FLOOD_WAIT_SECS`].
//! - Steps out of order (a code before one was sent, a password nobody asked for, anything after the login
//!   ended) are `OUT_OF_ORDER`. A wrong code or password may be tried again; an expired code needs a new one.
//! - The session is a fresh random auth key (each login is a new authorization, as on Telegram) in test mode
//!   on data centre X, naming the user [`login_user_id`]: `LOGIN_USER_ID_BASE + XYYYY`, stable for the phone,
//!   below the range of scripted contacts and outside the range `create-sandbox` draws from. Because the
//!   session names its user, any process's sandbox gateway accepts it on `connect` as that user, with the
//!   same profile ([`login_profile`]).
//! - The password is compared and forgotten; the flow never holds it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rand::RngCore as _;
use tgos_domain::accounts::gateway::{CodeAccepted, LoggedIn, LoginError, LoginFlow, Peer, PeerKey};
use tgos_domain::accounts::{AuthKey, DcId, PhoneNumber, TelegramSession};
use zeroize::Zeroizing;

use super::network::SandboxNetwork;
use super::world::Profile;

/// The cloud password of every sandbox number whose last digit is 9.
pub const SANDBOX_CLOUD_PASSWORD: &str = "sandbox-cloud-password";
/// The hint those accounts show.
pub const SANDBOX_PASSWORD_HINT: &str = "the sandbox's cloud password";
/// How long a sent code stays valid, in seconds.
pub const CODE_LIFETIME_SECS: i64 = 300;
/// The most codes one flow may ask for; the next is refused with a flood wait.
pub const MAX_CODES_PER_FLOW: u32 = 5;
/// The wait of that refusal, in seconds.
pub const FLOOD_WAIT_SECS: u32 = 60;
/// Phone-login users are `LOGIN_USER_ID_BASE + XYYYY`.
pub const LOGIN_USER_ID_BASE: i64 = 800_000_000_000;

const TEST_PREFIX: &str = "+99966";

/// A number of the sandbox's test range, taken apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TestNumber {
    dc: u8,
    /// The four digits after the data centre.
    rest: u16,
}

impl TestNumber {
    fn parse(phone: &PhoneNumber) -> Result<Self, LoginError> {
        let e164 = phone.as_e164();
        let tail = e164.strip_prefix(TEST_PREFIX);
        let parsed = tail
            .filter(|t| t.len() == 5 && t.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|t| {
                let dc = t[..1].parse::<u8>().ok().filter(|dc| (1..=3).contains(dc))?;
                Some(Self {
                    dc,
                    rest: t[1..].parse().ok()?,
                })
            });
        match parsed {
            Some(number) => Ok(number),
            None if e164.starts_with("+999") => Err(LoginError::PhoneNumberInvalid),
            None => Err(LoginError::PhoneNumberUnoccupied),
        }
    }

    fn code(self) -> String {
        char::from(b'0' + self.dc).to_string().repeat(5)
    }

    fn last_digit(self) -> u16 {
        self.rest % 10
    }

    fn user_id(self) -> i64 {
        LOGIN_USER_ID_BASE + i64::from(self.dc) * 10_000 + i64::from(self.rest)
    }

    fn profile(self) -> Profile {
        Profile {
            name: format!("Sandbox {}{:04}", self.dc, self.rest),
            username: Some(format!("sandbox_{}{:04}", self.dc, self.rest)),
        }
    }
}

/// The user a sandbox phone number signs in as; `None` for a number outside the test range.
pub fn login_user_id(phone: &PhoneNumber) -> Option<i64> {
    TestNumber::parse(phone).ok().map(TestNumber::user_id)
}

/// The profile of a phone-login user (`Sandbox XYYYY`, `@sandbox_XYYYY`), so every process names it alike.
pub(crate) fn login_profile(user_id: i64) -> Option<Profile> {
    let n = user_id.checked_sub(LOGIN_USER_ID_BASE)?;
    let (dc, rest) = (n / 10_000, n % 10_000);
    if !(1..=3).contains(&dc) {
        return None;
    }
    Some(
        TestNumber {
            dc: u8::try_from(dc).ok()?,
            rest: u16::try_from(rest).ok()?,
        }
        .profile(),
    )
}

#[derive(Debug)]
enum Step {
    Start,
    CodeSent {
        number: TestNumber,
        phone: PhoneNumber,
        sent_at: DateTime<Utc>,
    },
    PasswordNeeded {
        number: TestNumber,
        phone: PhoneNumber,
    },
    Done,
}

/// One phone login on the sandbox network (see the module docs for its conventions).
#[derive(Debug)]
pub struct SandboxLogin {
    network: SandboxNetwork,
    step: Step,
    codes_sent: u32,
}

impl SandboxLogin {
    pub(crate) fn new(network: SandboxNetwork) -> Self {
        Self {
            network,
            step: Step::Start,
            codes_sent: 0,
        }
    }

    /// Signs the user in on this network and hands out a new session for it.
    fn log_in(&mut self, number: TestNumber, phone: PhoneNumber) -> Result<LoggedIn, LoginError> {
        let user_id = number.user_id();
        let profile = number.profile();
        let internal =
            |what: &str| LoginError::Gateway(tgos_domain::accounts::gateway::GatewayError::Other(what.to_owned()));
        self.network
            .world()
            .register(user_id, profile.clone())
            .map_err(|_| internal("the sandbox cannot sign this user in"))?;
        let mut key = Zeroizing::new([0u8; AuthKey::LEN]);
        rand::rngs::OsRng.fill_bytes(key.as_mut());
        let auth_key = AuthKey::from_bytes(key.as_ref()).map_err(|_| internal("a fresh auth key was refused"))?;
        let dc = DcId::new(number.dc).map_err(|_| internal("a sandbox data centre out of range"))?;
        let session = TelegramSession::new(dc, auth_key)
            .with_test_mode(true)
            .with_user_id(user_id)
            .map_err(|_| internal("a sandbox user id out of range"))?;
        let key = PeerKey::user(user_id).map_err(|_| internal("a sandbox user id out of range"))?;
        self.step = Step::Done;
        tracing::debug!(user_id, "sandbox phone login");
        Ok(LoggedIn {
            session,
            user: Peer::new(key, profile.name, profile.username),
            phone,
            premium: false,
        })
    }
}

#[async_trait]
impl LoginFlow for SandboxLogin {
    async fn send_code(&mut self, phone: &PhoneNumber) -> Result<(), LoginError> {
        if matches!(self.step, Step::Done) {
            return Err(LoginError::OutOfOrder("the login has ended; start a new one"));
        }
        if self.codes_sent >= MAX_CODES_PER_FLOW {
            return Err(LoginError::FloodWait {
                seconds: FLOOD_WAIT_SECS,
            });
        }
        self.codes_sent += 1;
        let number = TestNumber::parse(phone)?;
        if number.last_digit() == 8 {
            return Err(LoginError::PhoneNumberBanned);
        }
        self.step = Step::CodeSent {
            number,
            phone: phone.clone(),
            sent_at: self.network.clock().now(),
        };
        Ok(())
    }

    async fn sign_in(&mut self, code: &str) -> Result<CodeAccepted, LoginError> {
        let Step::CodeSent { number, sent_at, .. } = &self.step else {
            return Err(LoginError::OutOfOrder("no code was sent in this login"));
        };
        let number = *number;
        let age = self.network.clock().now().signed_duration_since(*sent_at);
        if number.last_digit() == 7 || age.num_seconds() >= CODE_LIFETIME_SECS {
            self.step = Step::Start;
            return Err(LoginError::PhoneCodeExpired);
        }
        if code.trim() != number.code() {
            return Err(LoginError::PhoneCodeInvalid);
        }
        let Step::CodeSent { phone, .. } = std::mem::replace(&mut self.step, Step::Start) else {
            return Err(LoginError::OutOfOrder("no code was sent in this login"));
        };
        if number.last_digit() == 9 {
            self.step = Step::PasswordNeeded { number, phone };
            return Ok(CodeAccepted::PasswordNeeded {
                hint: Some(SANDBOX_PASSWORD_HINT.to_owned()),
            });
        }
        self.log_in(number, phone).map(CodeAccepted::LoggedIn)
    }

    async fn check_password(&mut self, password: &str) -> Result<LoggedIn, LoginError> {
        let Step::PasswordNeeded { number, .. } = &self.step else {
            return Err(LoginError::OutOfOrder("no cloud password was asked for in this login"));
        };
        let number = *number;
        if password != SANDBOX_CLOUD_PASSWORD {
            return Err(LoginError::PasswordHashInvalid);
        }
        let Step::PasswordNeeded { phone, .. } = std::mem::replace(&mut self.step, Step::Start) else {
            return Err(LoginError::OutOfOrder("no cloud password was asked for in this login"));
        };
        self.log_in(number, phone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone(raw: &str) -> PhoneNumber {
        PhoneNumber::parse("phone", raw).unwrap()
    }

    #[test]
    fn the_test_range_gives_data_centre_code_and_a_stable_user() {
        let number = TestNumber::parse(&phone("+9996621234")).unwrap();
        assert_eq!(number, TestNumber { dc: 2, rest: 1234 });
        assert_eq!(number.code(), "22222");
        assert_eq!(number.user_id(), 800_000_021_234);
        assert_eq!(login_user_id(&phone("+99966 2 1234")), Some(800_000_021_234));
        assert_eq!(
            login_profile(800_000_021_234).map(|p| p.name),
            Some("Sandbox 21234".to_owned())
        );
        assert!(
            login_profile(800_000_041_234).is_none(),
            "data centre 4 is not in the range"
        );
        assert!(login_profile(42).is_none());
    }

    #[test]
    fn numbers_outside_the_range_are_invalid_or_unoccupied() {
        for invalid in [
            "+9996641234",
            "+9996601234",
            "+999661234",
            "+99966212345",
            "+99912345678",
        ] {
            assert_eq!(
                TestNumber::parse(&phone(invalid)),
                Err(LoginError::PhoneNumberInvalid),
                "{invalid}"
            );
        }
        for unoccupied in ["+447911123456", "+14155550100", "+9986621234"] {
            assert_eq!(
                TestNumber::parse(&phone(unoccupied)),
                Err(LoginError::PhoneNumberUnoccupied),
                "{unoccupied}"
            );
        }
    }
}
