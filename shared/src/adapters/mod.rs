//! Adapters: the ports implemented on real infrastructure. `embedded` runs everything in
//! one process on a SQLite file and a mail folder; `aws` on DynamoDB, SQS and SES.

pub mod absent;
#[cfg(feature = "aftership")]
pub mod aftership;
#[cfg(feature = "aws")]
pub mod aws;
pub mod counting;
#[cfg(any(feature = "embedded", feature = "aws"))]
mod cursor;
#[cfg(feature = "embedded")]
pub mod embedded;
pub mod faults;
#[cfg(any(feature = "aftership", feature = "storefront-writeback", feature = "supplier-api"))]
pub mod https;
pub mod retry;
