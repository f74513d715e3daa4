//! Billing ports on SeaORM: the ledger with its wallet balances, and top-ups.

mod ledger;
mod top_ups;
