//! End-to-end tests over real HTTP and WebSocket; each test runs on SQLite and on PostgreSQL (the
//! `row_level_security` tests, of a PostgreSQL-only wall, on PostgreSQL alone).

mod accounts;
mod api_keys;
mod audit;
mod billing;
mod credential_cache;
mod inbox;
mod inbox_access;
mod inbox_events;
mod ledger_properties;
mod lockout;
mod matrix;
mod private_files;
mod quotas;
mod read_transactions;
mod reauthentication;
mod roles;
mod row_level_security;
mod schema_drift;
mod sessions;
mod sign_in;
mod sign_up;
mod staff;
mod stripe;
mod transport;
mod two_factor;
mod vault;
mod websocket;
mod workspaces;
