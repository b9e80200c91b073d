//! A vendor as the marketplace knows it: its profile and its API keys (only their
//! hashes are stored).

use super::ids::VendorId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A vendor as the operator onboarded it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VendorProfile {
    pub vendor_id: VendorId,
    pub name: String,
    pub email: crate::domain::ids::Email,
    pub commission_bps: crate::domain::money::CommissionBps,
    pub created_at: DateTime<Utc>,
    /// Where the operator's payment run sends the vendor's money (an IBAN, a PayPal
    /// address): the operator's note, never parsed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payee: Option<String>,
    /// Suspended: its keys are refused (403) and its SKUs route to no one until resumed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub suspended: bool,
    /// Held for review (`dropflow vendor hold`, a failing scorecard under the operator's
    /// policy): its keys still work on the orders it has, but its new orders wait, not
    /// routed, until the operator releases it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub held: bool,
    #[serde(default)]
    pub version: u64,
}

/// An operator key's stored form (`OPKEY#{sha256 hex of key}` / `KEY`): the console's
/// and the operator API's sign-in. Like a vendor key only its hash is the item's key;
/// the name says whose it is, in the order history of what it did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperatorKey {
    /// Who holds it ("alice", "support-bot"): recorded with every action taken with it.
    pub name: String,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub revoked: bool,
    /// The last day it was used (written when the day changes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used: Option<chrono::NaiveDate>,
    #[serde(default)]
    pub version: u64,
}

/// An API key's stored form: only its hash is the key of the item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    pub vendor_id: VendorId,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub revoked: bool,
    /// The last day the key was used: written only when the day changes, so a vendor
    /// polling its orders costs no writes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used: Option<chrono::NaiveDate>,
    #[serde(default)]
    pub version: u64,
}
