//! Automations: the pure rules. When a schedule fires ([`schedule`]) in an IANA time zone ([`zone`]).
//!
//! Nothing here stores, sends or waits: storage, the runner and the GraphQL edge build on these values.

mod cron_syntax;
pub mod schedule;
pub mod zone;

#[cfg(test)]
mod tests;

pub use schedule::CronSchedule;
pub use zone::parse_time_zone;
