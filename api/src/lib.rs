//! # tgos-api
//!
//! The Telegram OS server: a poem HTTP server with the async-graphql schema, health and metrics endpoints.
//! Resolvers call domain use cases; nothing here talks SQL. The binary `tgos` (`main.rs`) runs [`cli::run`].

pub mod app;
pub mod bus;
pub mod cli;
pub mod config;
pub mod demo;
pub mod graphql;
pub mod http;
pub mod limits;
pub mod migrate;
pub mod server;
pub mod shutdown;
pub mod telemetry;
pub mod workers;
