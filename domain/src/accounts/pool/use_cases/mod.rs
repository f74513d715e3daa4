//! One use case per file.

pub mod expiry;
pub mod health;
pub mod import;
pub mod keys;
pub mod leases;
pub mod login;
pub mod offers;
pub mod rent;
pub mod sandbox;
pub mod staff;
