//! Billing ports on SeaORM: the ledger with its wallet balances, top-ups, and payment matching records.

mod ledger;
mod matching;
mod top_ups;
