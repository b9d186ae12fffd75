//! Storage: the schema, its migrations and the queries, for SQLite, PostgreSQL and
//! MySQL/MariaDB from one code base.
//!
//! Queries are written once in portable SQL with `?` placeholders; the few dialect
//! differences (placeholders, auto-increment keys, inserted ids, table options) live in
//! [`conn`]. No business rules here: functions take a [`Tx`] and return rows; `kallithea-core`
//! decides what a transaction spans.

pub mod account;
pub mod conn;
pub mod error;
pub mod following;
pub mod journal;
pub mod migrate;
pub mod repo;
pub mod repo_group;
pub mod session;
pub mod setting;
pub mod ssh_key;
pub mod user;
pub mod user_group;

pub use conn::{Backend, Db, Tx};
pub use error::{Error, Result};
