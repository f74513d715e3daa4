//! Mapping database errors to [`StoreError`]: unique violations by constraint name, the rest opaque.

use sea_orm::{DbErr, SqlErr};
use tgos_domain::compliance::lawful::ports as lawful;
use tgos_domain::identity::ports::constraints;
use tgos_domain::store::StoreError;

/// Constraint names with the SQLite spelling of the same violation (`table.column`).
const KNOWN_UNIQUE: &[(&str, &str)] = &[
    (constraints::USER_EMAIL, "users.email_key"),
    (constraints::USER_USERNAME, "users.username_key"),
    (crate::accounts::FINGERPRINT_UNIQUE, "telegram_accounts.key_fingerprint"),
    (
        lawful::ONE_REGISTRATION_PER_REFERENCE,
        "lawful_requests.authority, lawful_requests.reference",
    ),
    (
        lawful::EACH_STEP_ONCE,
        "lawful_request_events.request_id, lawful_request_events.step",
    ),
];

pub(crate) fn store_error(error: DbErr) -> StoreError {
    if let Some(SqlErr::UniqueConstraintViolation(message)) = error.sql_err() {
        for (name, sqlite_columns) in KNOWN_UNIQUE {
            if message.contains(name) || message.contains(sqlite_columns) {
                return StoreError::UniqueViolation(name);
            }
        }
    }
    StoreError::backend(error)
}

pub(crate) trait DbResultExt<T> {
    fn store(self) -> Result<T, StoreError>;
}

impl<T> DbResultExt<T> for Result<T, DbErr> {
    fn store(self) -> Result<T, StoreError> {
        self.map_err(store_error)
    }
}
