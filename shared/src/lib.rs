//! dropflow's shared crate: everything but the Lambda mains.
//!
//! Layout:
//! - `domain`: the business rules, pure (money, ids, tracking numbers, the vendor order
//!   state machine, SLA clocks, routing, events).
//! - `ports`: the traits the services need (item store, queues, mailer, clock).
//! - `adapters`: those traits on real parts (`embedded`: SQLite + an outbox folder,
//!   feature `embedded`; `aws`: DynamoDB, SQS, SES, feature `aws`), and the layers
//!   around any of them (`retry`: transient failures retried; `faults`: injected).
//! - `sources`: storefront wire formats (Shopify) turned into the canonical order.
//! - `store`: the single-table layout (keys, indexes) over the item store.
//! - `services`: the use cases (webhook acceptance, intake, vendor actions, notifier,
//!   operator commands).
//! - `mail`: email rendering (HTML + text, compiled templates).
//! - `http`: the one axum router (webhooks + vendor API) and its problem+json errors.
//! - `handlers`: what each function runs (HTTP router, SQS batch consumers).
//! - `config`: settings from the environment.
//! - `compose`: the composition root (which adapters, with which retry and fault
//!   layers, make the `App` on each backend).
//! - `lambda`: what every Lambda main runs (feature `aws`).

// No production function over 80 lines (clippy.toml): a long one is several ideas.
#![cfg_attr(not(test), warn(clippy::too_many_lines))]

pub mod adapters;
pub mod compose;
pub mod config;
pub mod domain;
pub mod handlers;
pub mod http;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod mail;
pub mod messages;
pub mod metrics;
pub mod ports;
pub mod services;
pub mod sources;
pub mod store;
pub mod suppliers;
