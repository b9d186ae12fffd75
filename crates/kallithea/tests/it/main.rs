//! End-to-end tests: the real `kallithea` binary on an ephemeral port, a temporary folder,
//! a real database (SQLite; PostgreSQL and MariaDB from the environment) and the real `git`.

// Tests run git, psql and the server binary themselves.
#![allow(clippy::disallowed_methods)]

mod support;

mod account;
mod api;
mod browse;
mod browser;
mod databases;
mod git_http;
mod groups;
mod iis;
mod proxy;
mod repos;
mod review;
mod settings;
mod setup;
mod signup;
mod users;
mod web;
