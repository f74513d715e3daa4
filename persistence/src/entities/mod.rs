//! SeaORM entities: the rows as stored. They never leave this crate; the ports speak domain records.

pub mod account_connections;
pub mod account_counter_peers;
pub mod account_counters;
pub mod account_health;
pub mod api_keys;
pub mod audit_chain_heads;
pub mod audit_log;
pub mod auth_throttles;
pub mod backup_codes;
pub mod data_keys;
pub mod inbox_dialogs;
pub mod inbox_messages;
pub mod inbox_sync;
pub mod invitations;
pub mod leases;
pub mod ledger_postings;
pub mod ledger_transactions;
pub mod memberships;
pub mod outbox_events;
pub mod sessions;
pub mod sign_in_challenges;
pub mod telegram_accounts;
pub mod top_ups;
pub mod users;
pub mod wallet_balances;
pub mod workspaces;
