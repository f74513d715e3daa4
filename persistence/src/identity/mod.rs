//! Identity ports on SeaORM.

mod sessions;
mod throttle;
mod users;
