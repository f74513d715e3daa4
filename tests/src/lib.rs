//! # tgos-tests
//!
//! The end-to-end harness: a real `tgos` server on port 0 per test, each with its own database (a fresh
//! SQLite file, or a fresh PostgreSQL database created and dropped around the test), driven over real HTTP
//! and WebSocket. Logs stay quiet unless `TEST_LOG` is set.
//!
//! PostgreSQL variants run when `TGOS_TEST_DATABASE_URL` names a server (any database on it; each test
//! creates its own). Without it they print that they were skipped; `TGOS_REQUIRE_POSTGRES=1` makes the skip
//! a failure.

pub mod app;
pub mod backend;
pub mod browser;
pub mod clock;
pub mod console;
pub mod erasure;
pub mod fake_smtp;
pub mod fakes;
pub mod fresh_database;
pub mod gql;
pub mod live;
pub mod mailbox;
pub mod nats;
pub mod options;
pub mod pool;
pub mod replicas;
pub mod totp;
pub mod upload;

pub use app::{TestApp, TestOptions};
pub use backend::Backend;
pub use gql::{GqlResponse, error_codes};

/// Declares one test per backend: `backend_tests!(name, |app| async move { ... });` expands to a module
/// `name` with `sqlite` and `postgres` tests. An optional `options = expr` configures the server.
#[macro_export]
macro_rules! backend_tests {
    ($name:ident, options = $options:expr, |$app:ident| $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() -> anyhow::Result<()> {
                $crate::Backend::Sqlite
                    .run(
                        $options,
                        |$app: std::sync::Arc<$crate::TestApp>| async move { $body },
                    )
                    .await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() -> anyhow::Result<()> {
                $crate::Backend::Postgres
                    .run(
                        $options,
                        |$app: std::sync::Arc<$crate::TestApp>| async move { $body },
                    )
                    .await
            }
        }
    };
    ($name:ident, |$app:ident| $body:expr) => {
        $crate::backend_tests!($name, options = $crate::TestOptions::default(), |$app| { $body });
    };
}

/// Declares a test of a PostgreSQL-only feature (roles, row-level security): `postgres_tests!(name, |app|
/// async move { ... });` expands to a module `name` with one `postgres` test, skipped like the others when no
/// server is configured.
#[macro_export]
macro_rules! postgres_tests {
    ($name:ident, |$app:ident| $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() -> anyhow::Result<()> {
                $crate::Backend::Postgres
                    .run(
                        $crate::TestOptions::default(),
                        |$app: std::sync::Arc<$crate::TestApp>| async move { $body },
                    )
                    .await
            }
        }
    };
}
