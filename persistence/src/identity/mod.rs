//! Identity ports on SeaORM.

mod sessions;
mod throttle;
mod users;

pub(crate) use users::to_record as user_record;
