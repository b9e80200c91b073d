//! The business rules, pure: no I/O, no AWS, no storefront wire formats.

pub mod address;
pub mod events;
pub mod ids;
pub mod ledger;
pub mod money;
pub mod order;
pub mod order_status;
pub mod privacy;
pub mod progress;
pub mod refund;
pub mod scorecard;
pub mod sla;
pub mod status_link;
pub mod supplier;
pub mod tracking;
pub mod vendor;
pub mod vendor_order;
