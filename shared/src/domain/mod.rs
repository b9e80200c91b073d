//! The business rules, pure: no I/O, no AWS, no storefront wire formats.

pub mod address;
pub mod ids;
pub mod money;
pub mod tracking;
