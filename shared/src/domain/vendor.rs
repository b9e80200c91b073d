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
