//! The vendor's money (DESIGN, "Money"): what a delivered parcel earns, how long it is
//! held, its release, what a refund takes back, and payouts. Every movement is a ledger
//! entry with an id derived from its cause, and each of the four balance buckets
//! (`held`, `available`, `in_payout`, `paid_out`) is the sum of what the entries move
//! into and out of it. Pure rules: the services store what these functions decide.

use super::ids::{OrderId, VendorId};
use super::money::{CommissionBps, Currency, Money, MoneyError};
use super::vendor_order::{LineRefund, VendorOrder};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use std::collections::BTreeMap;

/// One of the four places a vendor's money is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    /// Earned on a delivered parcel, waiting out the holding period (refunds come out of it).
    Held,
    /// Released: owed to the vendor at the next payout (negative after a clawback).
    Available,
    /// In a payout the operator has not marked paid yet.
    InPayout,
    /// Transferred to the vendor.
    PaidOut,
}

impl Bucket {
    /// The wire name ("in_payout").
    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Held => "held",
            Bucket::Available => "available",
            Bucket::InPayout => "in_payout",
            Bucket::PaidOut => "paid_out",
        }
    }

    /// All four, in the order a balance lists them.
    pub const ALL: [Bucket; 4] = [Bucket::Held, Bucket::Available, Bucket::InPayout, Bucket::PaidOut];
}

/// What kind of movement an entry is; its amount is never negative, the kind says which
/// bucket it leaves and which it enters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// A delivered parcel's earnings, into `held`.
    Held,
    /// Holds that ended, from `held` to `available`.
    Released,
    /// A refund before release: out of `held`.
    RefundReversal,
    /// A refund after release: out of `available` (which may go negative).
    Clawback,
    /// A payout created: from `available` to `in_payout`.
    Payout,
    /// A payout the operator transferred: from `in_payout` to `paid_out`.
    PayoutPaid,
}

impl EntryKind {
    /// The wire name ("refund_reversal").
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Held => "held",
            EntryKind::Released => "released",
            EntryKind::RefundReversal => "refund_reversal",
            EntryKind::Clawback => "clawback",
            EntryKind::Payout => "payout",
            EntryKind::PayoutPaid => "payout_paid",
        }
    }

    /// The bucket the amount leaves and the one it enters (None: into or out of the
    /// ledger: earned, or given back to the customer).
    pub fn moves(self) -> (Option<Bucket>, Option<Bucket>) {
        match self {
            EntryKind::Held => (None, Some(Bucket::Held)),
            EntryKind::Released => (Some(Bucket::Held), Some(Bucket::Available)),
            EntryKind::RefundReversal => (Some(Bucket::Held), None),
            EntryKind::Clawback => (Some(Bucket::Available), None),
            EntryKind::Payout => (Some(Bucket::Available), Some(Bucket::InPayout)),
            EntryKind::PayoutPaid => (Some(Bucket::InPayout), Some(Bucket::PaidOut)),
        }
    }
}

/// One line of the ledger: appended once, never changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// Derived from the cause ("held-…", "release-…", "refund-…", "payout-…"), so the
    /// same cause can never be entered twice.
    pub entry_id: String,
    pub vendor_id: VendorId,
    pub kind: EntryKind,
    /// Never negative.
    pub amount: Money,
    pub at: DateTime<Utc>,
    /// The earnings (delivered parcels) it is about.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earnings: Vec<String>,
    /// The payout it is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payout_id: Option<String>,
    /// What it was, in words: the orders, the refund, the payout reference.
    pub detail: String,
}

impl LedgerEntry {
    /// What it adds to each bucket it touches.
    pub fn deltas(&self) -> Vec<(Bucket, i64)> {
        let (from, to) = self.kind.moves();
        from.map(|b| (b, -self.amount.minor)).into_iter().chain(to.map(|b| (b, self.amount.minor))).collect()
    }

    /// What it adds to `available` (what a payout covers).
    pub fn available_delta(&self) -> i64 {
        self.deltas().into_iter().filter(|(b, _)| *b == Bucket::Available).map(|(_, d)| d).sum()
    }
}

/// One currency's four buckets, in minor units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Buckets {
    pub held: i64,
    pub available: i64,
    pub in_payout: i64,
    pub paid_out: i64,
}

impl Buckets {
    /// The amount in `bucket`.
    pub fn get(&self, bucket: Bucket) -> i64 {
        match bucket {
            Bucket::Held => self.held,
            Bucket::Available => self.available,
            Bucket::InPayout => self.in_payout,
            Bucket::PaidOut => self.paid_out,
        }
    }

    fn slot(&mut self, bucket: Bucket) -> &mut i64 {
        match bucket {
            Bucket::Held => &mut self.held,
            Bucket::Available => &mut self.available,
            Bucket::InPayout => &mut self.in_payout,
            Bucket::PaidOut => &mut self.paid_out,
        }
    }
}

/// A vendor's balance: its buckets per currency, as the sums of its entries, and the
/// version every movement counts up (what a payout is conditional on).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Balance {
    pub currencies: BTreeMap<Currency, Buckets>,
    pub version: u64,
}

impl Balance {
    /// The stored counter of one bucket of one currency ("EUR_held"): flat names, so that
    /// a DynamoDB `ADD` can create each on first use.
    pub fn counter(currency: Currency, bucket: Bucket) -> String {
        format!("{}_{}", currency.code(), bucket.as_str())
    }

    /// Reads the counters back (unknown names are not counters and are skipped).
    pub fn from_counters<'a>(counters: impl IntoIterator<Item = (&'a str, i64)>, version: u64) -> Balance {
        let mut balance = Balance { currencies: BTreeMap::new(), version };
        for (name, value) in counters {
            let Some((code, bucket)) = name.split_once('_') else { continue };
            let (Ok(currency), Some(bucket)) = (Currency::parse(code), Bucket::ALL.into_iter().find(|b| b.as_str() == bucket)) else { continue };
            if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
                *balance.currencies.entry(currency).or_default().slot(bucket) += value;
            }
        }
        balance
    }

    /// The buckets of `currency` (all zero when it has none).
    pub fn of(&self, currency: Currency) -> Buckets {
        self.currencies.get(&currency).copied().unwrap_or_default()
    }

    /// `entry` applied, as the store's `ADD` applies it.
    pub fn apply(&mut self, entry: &LedgerEntry) {
        let buckets = self.currencies.entry(entry.amount.currency).or_default();
        for (bucket, delta) in entry.deltas() {
            *buckets.slot(bucket) += delta;
        }
        self.version += 1;
    }

    /// What `entries` add to each counter, merged (one `ADD` per balance per
    /// transaction: DynamoDB refuses two writes of one item in one transaction).
    pub fn adds(entries: &[LedgerEntry]) -> Vec<(String, i64)> {
        let mut sums: BTreeMap<String, i64> = BTreeMap::new();
        for entry in entries {
            for (bucket, delta) in entry.deltas() {
                *sums.entry(Balance::counter(entry.amount.currency, bucket)).or_default() += delta;
            }
        }
        sums.into_iter().collect()
    }
}

/// A delivered line's share of an earning: what the customer paid, and what the
/// storefront has refunded of it since.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarnedLine {
    pub line_id: String,
    pub title: String,
    pub paid: Money,
    pub refunded: Money,
    /// What was paid for the units sent, when the storefront removed some of the
    /// line's units (`refund::line_value`): the earning never counts the others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept: Option<Money>,
}

impl EarnedLine {
    /// What the vendor earns on it now: what is left of what the customer paid (never
    /// below zero) less the commission on that, rounded half away from zero. A refund
    /// takes back the difference it makes here, so refunds in parts add up to the same
    /// as one refund of their sum, and a full refund takes back all of it.
    pub fn earnings(&self, commission_bps: CommissionBps) -> Result<Money, MoneyError> {
        let net = super::refund::at_most(super::refund::net_of_refunds(self.paid, self.refunded)?, self.kept);
        net.checked_sub(net.basis_points(commission_bps))
    }
}

/// What one delivered parcel earned its vendor, and where that money is: held until
/// `release_at`, then released. It stays after release, so that a later refund of one of
/// its lines knows what to claw back. Keyed by the parcel, so a delivery can only earn
/// once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Earning {
    pub earning_id: String,
    pub vendor_id: VendorId,
    pub order_id: OrderId,
    pub order_number: String,
    /// The vendor order's public id.
    pub vendor_order: String,
    pub tracking_number: String,
    pub currency: Currency,
    /// The vendor's commission when it was delivered.
    pub commission_bps: crate::domain::money::CommissionBps,
    pub lines: Vec<EarnedLine>,
    /// What it earns now (after refunds).
    pub earned: Money,
    pub delivered_at: DateTime<Utc>,
    pub release_at: DateTime<Utc>,
    pub released_at: Option<DateTime<Utc>>,
    pub version: u64,
}

/// A storefront's or a vendor's id in an entry id: as it is when it is short and plain,
/// else hashed (it is untrusted and goes into a key).
fn id_part(text: &str) -> String {
    if !text.is_empty() && text.len() <= 64 && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        text.to_string()
    } else {
        let digest = sha2::Sha256::digest(text.as_bytes());
        digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
    }
}

impl Earning {
    /// The earning of parcel `parcel` of `vo`, delivered at `now` at `commission_bps`, and
    /// its `held` entry; None when it earns nothing (free lines, or refunded whole before
    /// delivery).
    pub fn at_delivery(
        vo: &VendorOrder,
        parcel: usize,
        commission_bps: CommissionBps,
        holding_days: u32,
        now: DateTime<Utc>,
    ) -> Result<Option<(Earning, LedgerEntry)>, MoneyError> {
        let Some(shipment) = vo.shipments.get(parcel) else { return Ok(None) };
        let zero = Money::zero(vo.currency);
        let mut lines = Vec::new();
        for routed in vo.lines.iter().filter(|r| shipment.line_ids.contains(&r.line.line_id)) {
            let refunded = vo.refunds.iter().filter(|r| r.line_id == routed.line.line_id).try_fold(zero, |sum, r| sum.checked_add(r.amount))?;
            let kept = (routed.line.removed > 0).then(|| routed.line.paid_for_kept());
            lines.push(EarnedLine { line_id: routed.line.line_id.clone(), title: routed.line.title.clone(), paid: routed.line.paid, refunded, kept });
        }
        let earned = lines.iter().try_fold(zero, |sum, l| sum.checked_add(l.earnings(commission_bps)?))?;
        if earned.minor <= 0 {
            return Ok(None);
        }
        let earning_id = format!("{}-{}", vo.id(), parcel + 1);
        let earning = Earning {
            earning_id: earning_id.clone(),
            vendor_id: vo.vendor_id.clone(),
            order_id: vo.order_id.clone(),
            order_number: vo.order_number.clone(),
            vendor_order: vo.id(),
            tracking_number: shipment.tracking.number.clone(),
            currency: vo.currency,
            commission_bps,
            lines,
            earned,
            delivered_at: now,
            release_at: now + chrono::Duration::days(i64::from(holding_days)),
            released_at: None,
            version: 1,
        };
        let entry = LedgerEntry {
            entry_id: format!("held-{earning_id}"),
            vendor_id: vo.vendor_id.clone(),
            kind: EntryKind::Held,
            amount: earned,
            at: now,
            earnings: vec![earning_id],
            payout_id: None,
            detail: format!("order {} delivered (parcel {}), held until {}", vo.order_number, shipment.tracking.number, earning.release_at.format("%Y-%m-%d")),
        };
        Ok(Some((earning, entry)))
    }

    /// What it still holds.
    pub fn held(&self) -> Money {
        if self.released_at.is_some() { Money::zero(self.currency) } else { self.earned }
    }

    /// `refunds` (of refund `refund_id`) applied to its lines at `now`: what it earns
    /// less, taken back from `held` before release (a refund reversal) or from
    /// `available` after it (a clawback). None when none of its lines is refunded or the
    /// refund changes nothing it earns.
    pub fn refund(&self, refund_id: &str, refunds: &[LineRefund], now: DateTime<Utc>) -> Result<Option<(Earning, LedgerEntry)>, MoneyError> {
        let mut next = self.clone();
        let mut touched = false;
        for refund in refunds {
            if let Some(line) = next.lines.iter_mut().find(|l| l.line_id == refund.line_id) {
                line.refunded = line.refunded.checked_add(refund.amount)?;
                touched = true;
            }
        }
        if !touched {
            return Ok(None);
        }
        next.earned = next.lines.iter().try_fold(Money::zero(self.currency), |sum, l| sum.checked_add(l.earnings(self.commission_bps)?))?;
        let back = self.earned.checked_sub(next.earned)?;
        if back.minor <= 0 {
            return Ok(None);
        }
        next.version += 1;
        let kind = if self.released_at.is_some() { EntryKind::Clawback } else { EntryKind::RefundReversal };
        let entry = LedgerEntry {
            entry_id: format!("refund-{}-{}", self.earning_id, id_part(refund_id)),
            vendor_id: self.vendor_id.clone(),
            kind,
            amount: back,
            at: now,
            earnings: vec![self.earning_id.clone()],
            payout_id: None,
            detail: format!(
                "order {} refunded by the store (refund {refund_id}){}",
                self.order_number,
                if kind == EntryKind::Clawback { ", after release" } else { "" }
            ),
        };
        Ok(Some((next, entry)))
    }

    /// Releases the held `earnings` (one vendor, one currency) at `now`, as one entry:
    /// the earnings updated and the `released` entry, or None when none holds anything.
    pub fn release(earnings: &[Earning], now: DateTime<Utc>) -> Result<Option<(Vec<Earning>, LedgerEntry)>, MoneyError> {
        let held: Vec<&Earning> = earnings.iter().filter(|e| e.released_at.is_none() && e.release_at <= now).collect();
        let Some(first) = held.first() else { return Ok(None) };
        if held.iter().any(|e| e.vendor_id != first.vendor_id || e.currency != first.currency) {
            return Err(MoneyError::CurrencyMismatch(first.currency.to_string(), "another vendor or currency in one release".into()));
        }
        let amount = held.iter().try_fold(Money::zero(first.currency), |sum, e| sum.checked_add(e.earned))?;
        let released: Vec<Earning> = held.iter().map(|e| Earning { released_at: Some(now), version: e.version + 1, ..(*e).clone() }).collect();
        let orders: Vec<&str> = held.iter().map(|e| e.order_number.as_str()).collect();
        let entry = LedgerEntry {
            entry_id: format!("release-{}", first.earning_id),
            vendor_id: first.vendor_id.clone(),
            kind: EntryKind::Released,
            amount,
            at: now,
            earnings: held.iter().map(|e| e.earning_id.clone()).collect(),
            payout_id: None,
            detail: format!("holding period ended: {}", orders.join(", ")),
        };
        Ok(Some((released, entry)))
    }
}

/// An entry that moved `available` and is in no payout yet: what the next payout of its
/// vendor and currency covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unpaid {
    pub vendor_id: VendorId,
    pub entry_id: String,
    pub kind: EntryKind,
    /// What it added to `available` (negative for a clawback).
    pub delta: Money,
    pub at: DateTime<Utc>,
    pub detail: String,
}

impl Unpaid {
    /// The unpaid note of an entry that moves `available` (None for one that does not).
    pub fn of(entry: &LedgerEntry) -> Option<Unpaid> {
        let delta = entry.available_delta();
        (entry.kind != EntryKind::Payout && delta != 0).then(|| Unpaid {
            vendor_id: entry.vendor_id.clone(),
            entry_id: entry.entry_id.clone(),
            kind: entry.kind,
            delta: Money::from_minor(delta, entry.amount.currency),
            at: entry.at,
            detail: entry.detail.clone(),
        })
    }
}

/// Whether a payout still waits for the operator's transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayoutStatus {
    Pending,
    Paid,
}

impl PayoutStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            PayoutStatus::Pending => "pending",
            PayoutStatus::Paid => "paid",
        }
    }
}

/// Money on its way to a vendor: what it covers, and whether the operator has sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payout {
    /// `{vendor}.{YYYYMMDD}.{hash}`: readable in a bank statement, and names its vendor.
    pub payout_id: String,
    pub vendor_id: VendorId,
    pub amount: Money,
    /// The entries whose sum it is, oldest first.
    pub entries: Vec<Unpaid>,
    pub status: PayoutStatus,
    pub created_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    /// The operator's transfer reference.
    pub reference: Option<String>,
    pub version: u64,
}

/// The most entries one payout covers: each is deleted from the unpaid notes in the
/// payout's transaction (DynamoDB takes 100 writes in one). A vendor with more is paid
/// in several payouts in the same run.
pub const MAX_PAYOUT_ENTRIES: usize = 90;

/// What to do about one vendor's available money in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayoutPlan {
    /// Pay this, covering these notes (boxed: the other answers are a few words).
    Pay(Box<Payout>, LedgerEntry),
    /// Nothing (or less than nothing, after a clawback) is owed.
    NothingOwed,
    /// Owed, but less than the currency's minimum: it waits for more.
    BelowMinimum(Money),
    /// The notes do not add up to `available`: refused, for a person to look at.
    Mismatch { available: Money, notes: Money },
}

impl Payout {
    /// The id of the payout built from `balance_version` of the vendor's balance:
    /// two runs that read the same balance build the same payout, and only one lands.
    pub fn id_for(vendor_id: &VendorId, currency: Currency, balance_version: u64, at: DateTime<Utc>) -> String {
        let digest = sha2::Sha256::digest(format!("{vendor_id}|{currency}|{balance_version}").as_bytes());
        let hash: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
        format!("{vendor_id}.{}.{hash}", at.format("%Y%m%d"))
    }

    /// The vendor a payout id names.
    pub fn vendor_of(payout_id: &str) -> Option<VendorId> {
        VendorId::parse(payout_id.split_once('.')?.0).ok()
    }

    /// The payout of `available` in `currency`, from the `notes` (oldest first) that
    /// make it up, at `now`, if it is owed and at least `minimum`.
    pub fn plan(
        vendor_id: &VendorId,
        currency: Currency,
        available: i64,
        balance_version: u64,
        notes: &[Unpaid],
        minimum: Option<Money>,
        now: DateTime<Utc>,
    ) -> PayoutPlan {
        let covered = &notes[..notes.len().min(MAX_PAYOUT_ENTRIES)];
        let sum: i64 = covered.iter().map(|n| n.delta.minor).sum();
        let total: i64 = notes.iter().map(|n| n.delta.minor).sum();
        if total != available {
            return PayoutPlan::Mismatch { available: Money::from_minor(available, currency), notes: Money::from_minor(total, currency) };
        }
        // A payout never exceeds what is available, even when it covers only the oldest
        // notes of many.
        let amount = Money::from_minor(sum.min(available), currency);
        if amount.minor <= 0 || sum != amount.minor {
            return PayoutPlan::NothingOwed;
        }
        if let Some(minimum) = minimum.filter(|m| m.currency == currency && amount.minor < m.minor) {
            return PayoutPlan::BelowMinimum(minimum);
        }
        let payout_id = Payout::id_for(vendor_id, currency, balance_version, now);
        let entry = LedgerEntry {
            entry_id: format!("payout-{payout_id}"),
            vendor_id: vendor_id.clone(),
            kind: EntryKind::Payout,
            amount,
            at: now,
            earnings: Vec::new(),
            payout_id: Some(payout_id.clone()),
            detail: format!("payout {payout_id} created ({} entries)", covered.len()),
        };
        let payout = Payout {
            payout_id,
            vendor_id: vendor_id.clone(),
            amount,
            entries: covered.to_vec(),
            status: PayoutStatus::Pending,
            created_at: now,
            paid_at: None,
            reference: None,
            version: 1,
        };
        PayoutPlan::Pay(Box::new(payout), entry)
    }

    /// The operator transferred it, with `reference`: the payout marked paid and its
    /// `payout_paid` entry. Marking it paid again with the same reference is a repeat
    /// (None); with another, an error.
    pub fn mark_paid(&self, reference: &str, now: DateTime<Utc>) -> Result<Option<(Payout, LedgerEntry)>, String> {
        let reference = reference.trim();
        if reference.is_empty() || reference.len() > 200 || reference.chars().any(char::is_control) {
            return Err("a transfer reference is 1-200 characters, no control characters".into());
        }
        if self.status == PayoutStatus::Paid {
            return if self.reference.as_deref() == Some(reference) {
                Ok(None)
            } else {
                Err(format!("payout {} was marked paid already, with reference {:?}", self.payout_id, self.reference.as_deref().unwrap_or("")))
            };
        }
        let next = Payout { status: PayoutStatus::Paid, paid_at: Some(now), reference: Some(reference.to_string()), version: self.version + 1, ..self.clone() };
        let entry = LedgerEntry {
            entry_id: format!("paid-{}", self.payout_id),
            vendor_id: self.vendor_id.clone(),
            kind: EntryKind::PayoutPaid,
            amount: self.amount,
            at: now,
            earnings: Vec::new(),
            payout_id: Some(self.payout_id.clone()),
            detail: format!("payout {} transferred, reference {reference}", self.payout_id),
        };
        Ok(Some((next, entry)))
    }
}

/// The smallest payout per currency (`PAYOUT_MINIMUM`, "EUR:50.00,USD:50.00"); a
/// currency not named is paid any positive amount.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PayoutMinimums(pub BTreeMap<Currency, Money>);

impl PayoutMinimums {
    /// Parses "EUR:50.00,USD:50.00" (empty: none).
    pub fn parse(text: &str) -> Result<PayoutMinimums, String> {
        let mut minimums = BTreeMap::new();
        for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (code, amount) = pair.split_once(':').ok_or_else(|| format!("{pair:?} is not CURRENCY:AMOUNT"))?;
            let currency = Currency::parse(code).map_err(|e| e.to_string())?;
            let minimum = Money::parse_decimal(amount, currency).map_err(|e| e.to_string())?;
            if minimum.minor < 0 {
                return Err(format!("{pair:?}: a minimum is not negative"));
            }
            minimums.insert(currency, minimum);
        }
        Ok(PayoutMinimums(minimums))
    }

    /// The minimum of `currency`, if one is set.
    pub fn of(&self, currency: Currency) -> Option<Money> {
        self.0.get(&currency).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::address::Address;
    use crate::domain::order::RoutedLine;
    use crate::domain::sla::SlaPolicy;
    use crate::domain::tracking::TrackingNumber;
    use crate::domain::vendor_order::{Actor, Command, Recipient};
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn at(day: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-20T10:00:00Z").unwrap().with_timezone(&Utc) + chrono::Duration::days(day)
    }

    fn money(text: &str, code: &str) -> Money {
        Money::parse_decimal(text, Currency::parse(code).unwrap()).unwrap()
    }

    /// A vendor order of `paid` lines (one each), ordered, shipped in one parcel and
    /// delivered at `at(day)`, with `refunds` recorded before delivery.
    fn delivered(n: u32, paid: &[Money], refunds: &[(usize, Money)], day: i64) -> VendorOrder {
        let policy = SlaPolicy::default();
        let lines = paid.iter().enumerate().map(|(i, p)| RoutedLine::example(&(i + 1).to_string(), *p, *p)).collect();
        let address = Address::example();
        let to = Recipient {
            order_id: OrderId::derive("generic", "s", &n.to_string()),
            order_number: format!("#{n}"),
            shipping_address: address,
            customer_name: "Bob".into(),
            currency: paid[0].currency,
        };
        let (mut vo, _) = VendorOrder::create(to, VendorId::parse("acme").unwrap(), lines, at(day - 5), &policy);
        let actor = Actor::Vendor(vo.vendor_id.clone());
        if !refunds.is_empty() {
            let refunds = refunds
                .iter()
                .map(|(line, amount)| LineRefund { refund_id: "early".into(), line_id: format!("{}", line + 1), quantity: 0, amount: *amount })
                .collect();
            vo = vo.apply(Command::RecordRefund { refunds }, Actor::Storefront, at(day - 4), &policy).unwrap().vendor_order;
        }
        vo = vo
            .apply(
                Command::PlaceWithSupplier { supplier_order_ref: crate::domain::ids::SupplierOrderRef::parse("AE-1").unwrap(), lines: None },
                actor.clone(),
                at(day - 4),
                &policy,
            )
            .unwrap()
            .vendor_order;
        vo = vo
            .apply(Command::Ship { tracking: TrackingNumber::parse("1Z5R89390357567127", None).unwrap(), lines: None }, actor.clone(), at(day - 3), &policy)
            .unwrap()
            .vendor_order;
        vo.apply(Command::MarkDelivered { tracking_number: None }, actor, at(day), &policy).unwrap().vendor_order
    }

    fn earn(vo: &VendorOrder, bps: u32) -> (Earning, LedgerEntry) {
        Earning::at_delivery(vo, 0, CommissionBps::new(bps).unwrap(), 14, vo.delivered_at.unwrap()).unwrap().expect("earns")
    }

    fn refund_of(line: usize, amount: Money) -> Vec<LineRefund> {
        vec![LineRefund { refund_id: "r".into(), line_id: format!("{}", line + 1), quantity: 0, amount }]
    }

    #[test]
    fn earnings_are_what_was_paid_less_the_rounded_commission_in_each_currency() {
        // 10% of 22.125 KWD is 2.2125: rounded half away from zero to 2.213.
        assert_eq!(earn(&delivered(1, &[money("22.125", "KWD")], &[], 0), 1_000).1.amount, money("19.912", "KWD"));
        // 12.5% of 999 JPY is 124.875: 125 yen, no minor unit.
        assert_eq!(earn(&delivered(2, &[money("999", "JPY")], &[], 0), 1_250).1.amount, money("874", "JPY"));
        // Per line: 15% of 0.05 USD is 0.0075 (0.01) and of 0.10 is 0.015 (0.02).
        let (earning, entry) = earn(&delivered(3, &[money("0.05", "USD"), money("0.10", "USD")], &[], 0), 1_500);
        assert_eq!((entry.amount, earning.release_at), (money("0.12", "USD"), at(14)));
        assert_eq!(entry.deltas(), vec![(Bucket::Held, 12)]);
    }

    #[test]
    fn refunds_in_parts_take_back_exactly_what_one_refund_of_their_sum_would() {
        let vo = delivered(4, &[money("22.125", "KWD")], &[], 0);
        let (earning, _) = earn(&vo, 1_000);
        let (half, first) = earning.refund("r1", &refund_of(0, money("11.063", "KWD")), at(1)).unwrap().unwrap();
        let (none, second) = half.refund("r2", &refund_of(0, money("11.062", "KWD")), at(2)).unwrap().unwrap();
        assert_eq!(first.amount.checked_add(second.amount).unwrap(), money("19.912", "KWD"), "a full refund in parts takes back all it earned");
        assert_eq!((none.earned, first.kind), (money("0.000", "KWD"), EntryKind::RefundReversal));
        assert_ne!(first.entry_id, second.entry_id);
        assert_eq!(none.refund("r3", &refund_of(0, money("1.000", "KWD")), at(3)).unwrap(), None, "nothing left to take back");
    }

    #[test]
    fn a_storefronts_refund_id_goes_into_an_entry_id_only_as_a_plain_short_key() {
        let (earning, _) = earn(&delivered(8, &[money("10.00", "USD")], &[], 0), 1_000);
        for (refund_id, plain) in [("rf_123-A", true), ("R#1\nLEDGER#x", false), (&*"9".repeat(300), false), ("", false)] {
            let (_, entry) = earning.refund(refund_id, &refund_of(0, money("1.00", "USD")), at(1)).unwrap().unwrap();
            assert!(entry.entry_id.len() < 120 && entry.entry_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{}", entry.entry_id);
            assert_eq!(entry.entry_id.ends_with(&format!("-{refund_id}")), plain, "{refund_id:?} -> {}", entry.entry_id);
        }
    }

    #[test]
    fn a_refund_before_delivery_is_earned_less_and_a_whole_refund_earns_nothing() {
        let vo = delivered(5, &[money("20.00", "EUR"), money("10.00", "EUR")], &[(0, money("5.00", "EUR"))], 0);
        assert_eq!(earn(&vo, 1_000).1.amount, money("22.50", "EUR"));
        let refunded = delivered(6, &[money("20.00", "EUR")], &[(0, money("20.00", "EUR"))], 0);
        assert_eq!(Earning::at_delivery(&refunded, 0, CommissionBps::new(1_000).unwrap(), 14, at(0)).unwrap(), None);
    }

    #[test]
    fn after_release_a_refund_is_a_clawback_from_available() {
        let (earning, _) = earn(&delivered(7, &[money("100.00", "USD")], &[], 0), 1_000);
        assert_eq!(Earning::release(std::slice::from_ref(&earning), at(13)).unwrap(), None, "not before its hold ends");
        let (released, entry) = Earning::release(std::slice::from_ref(&earning), at(14)).unwrap().unwrap();
        assert_eq!((entry.kind, entry.amount, Unpaid::of(&entry).unwrap().delta), (EntryKind::Released, money("90.00", "USD"), money("90.00", "USD")));
        let (_, claw) = released[0].refund("r", &refund_of(0, money("100.00", "USD")), at(20)).unwrap().unwrap();
        assert_eq!((claw.kind, claw.amount, claw.deltas()), (EntryKind::Clawback, money("90.00", "USD"), vec![(Bucket::Available, -9_000)]));
    }

    #[test]
    fn a_payout_is_what_is_available_at_least_the_minimum_and_never_what_is_not() {
        let vendor = VendorId::parse("acme").unwrap();
        let usd = Currency::parse("USD").unwrap();
        let note = |minor: i64, kind| Unpaid {
            vendor_id: vendor.clone(),
            entry_id: format!("e{minor}"),
            kind,
            delta: Money::from_minor(minor, usd),
            at: at(0),
            detail: String::new(),
        };
        let notes = [note(9_000, EntryKind::Released), note(-2_000, EntryKind::Clawback)];
        let PayoutPlan::Pay(payout, entry) = Payout::plan(&vendor, usd, 7_000, 3, &notes, None, at(15)) else { panic!("owed 70.00") };
        assert_eq!(
            (payout.amount, entry.deltas(), payout.entries.len()),
            (money("70.00", "USD"), vec![(Bucket::Available, -7_000), (Bucket::InPayout, 7_000)], 2)
        );
        assert!(Payout::vendor_of(&payout.payout_id) == Some(vendor.clone()) && payout.payout_id.starts_with("acme.20261205."), "{}", payout.payout_id);
        assert_eq!(Payout::plan(&vendor, usd, 7_000, 3, &notes, Some(money("100.00", "USD")), at(15)), PayoutPlan::BelowMinimum(money("100.00", "USD")));
        assert_eq!(Payout::plan(&vendor, usd, -2_000, 3, &notes[1..], None, at(15)), PayoutPlan::NothingOwed);
        assert!(matches!(Payout::plan(&vendor, usd, 6_000, 3, &notes, None, at(15)), PayoutPlan::Mismatch { .. }), "notes that do not add up pay nothing");
        let (paid, paid_entry) = payout.mark_paid("SEPA-1", at(16)).unwrap().unwrap();
        assert_eq!((paid.status, paid_entry.deltas()), (PayoutStatus::Paid, vec![(Bucket::InPayout, -7_000), (Bucket::PaidOut, 7_000)]));
        assert_eq!(paid.mark_paid("SEPA-1", at(17)), Ok(None), "the same reference again is a repeat");
        assert!(paid.mark_paid("SEPA-2", at(17)).is_err(), "another reference is refused");
    }

    #[test]
    fn payout_minimums_are_read_per_currency() {
        let minimums = PayoutMinimums::parse("EUR:50.00, jpy:5000").unwrap();
        assert_eq!(
            (minimums.of(Currency::parse("EUR").unwrap()), minimums.of(Currency::parse("JPY").unwrap()), minimums.of(Currency::parse("USD").unwrap())),
            (Some(money("50.00", "EUR")), Some(money("5000", "JPY")), None)
        );
        for bad in ["EUR", "EUR:5.001", "XYZ:1", "EUR:-1"] {
            assert!(PayoutMinimums::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_balance_reads_back_from_its_counters() {
        let balance = Balance::from_counters([("EUR_held", 5), ("EUR_in_payout", 7), ("KWD_available", -3), ("version", 9), ("pk", 1)], 9);
        let eur = balance.of(Currency::parse("EUR").unwrap());
        assert_eq!((eur.held, eur.in_payout, balance.of(Currency::parse("KWD").unwrap()).available, balance.currencies.len()), (5, 7, -3, 2));
    }

    /// One step of a vendor's money life, as the property test plays it.
    #[derive(Debug, Clone)]
    enum Step {
        Deliver { paid: Vec<i64>, currency: usize },
        Refund { earning: usize, line: usize, minor: i64 },
        Release { days: i64 },
        Pay,
        MarkPaid { payout: usize },
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (prop::collection::vec(0i64..100_000, 1..4), 0usize..3).prop_map(|(paid, currency)| Step::Deliver { paid, currency }),
            (0usize..8, 0usize..3, 1i64..60_000).prop_map(|(earning, line, minor)| Step::Refund { earning, line, minor }),
            (0i64..30).prop_map(|days| Step::Release { days }),
            Just(Step::Pay),
            (0usize..4).prop_map(|payout| Step::MarkPaid { payout }),
        ]
    }

    /// The ledger as a store keeps it: an entry id is taken once, and each entry moves
    /// the balance as it is taken.
    #[derive(Default)]
    struct Books {
        ids: BTreeSet<String>,
        entries: Vec<LedgerEntry>,
        balance: Balance,
    }

    impl Books {
        /// Takes `entry` unless its id is taken; says whether it was.
        fn take(&mut self, entry: &LedgerEntry) -> bool {
            if !self.ids.insert(entry.entry_id.clone()) {
                return false;
            }
            self.balance.apply(entry);
            self.entries.push(entry.clone());
            true
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        /// Deliveries, refunds before and after release, releases at random instants,
        /// payouts and transfers, each step played twice (a replay): every bucket is the
        /// sum of its entries, no entry counts twice, no payout is more than was
        /// available, and what was paid out plus the balance is what was earned less
        /// what was refunded.
        #[test]
        fn the_books_always_add_up(steps in prop::collection::vec(step(), 1..40), bps in (0u32..=10_000).prop_map(|b| CommissionBps::new(b).unwrap())) {
            let currencies = ["JPY", "USD", "KWD"].map(|c| Currency::parse(c).unwrap());
            let mut books = Books::default();
            let mut earnings: Vec<Earning> = Vec::new();
            let mut notes: Vec<Unpaid> = Vec::new();
            let mut payouts: Vec<Payout> = Vec::new();
            let (mut day, mut orders) = (0i64, 0u32);
            for step in steps {
                for replay in [false, true] {
                    match &step {
                        Step::Deliver { paid, currency } => {
                            if !replay { orders += 1; }
                            let paid: Vec<Money> = paid.iter().map(|m| Money::from_minor(*m, currencies[*currency])).collect();
                            let vo = delivered(orders, &paid, &[], day);
                            if let Some((earning, entry)) = Earning::at_delivery(&vo, 0, bps, 14, at(day)).unwrap()
                                && books.take(&entry) {
                                prop_assert!(!replay, "a replayed delivery was taken");
                                earnings.push(earning);
                            }
                        }
                        Step::Refund { earning, line, minor } => {
                            let Some(index) = (!earnings.is_empty()).then(|| earning % earnings.len()) else { continue };
                            let current = earnings[index].clone();
                            let amount = Money::from_minor(*minor, current.currency);
                            let refund_id = format!("r{}", books.entries.len() - usize::from(replay));
                            if let Some((next, entry)) = current.refund(&refund_id, &refund_of(*line, amount), at(day)).unwrap()
                                && books.take(&entry)
                            {
                                prop_assert!(!replay, "a replayed refund was taken");
                                notes.extend(Unpaid::of(&entry));
                                earnings[index] = next;
                            }
                        }
                        Step::Release { days } => {
                            if !replay { day += days; }
                            for currency in currencies {
                                let due: Vec<Earning> = earnings.iter().filter(|e| e.currency == currency).cloned().collect();
                                if let Some((released, entry)) = Earning::release(&due, at(day)).unwrap()
                                    && books.take(&entry) {
                                    notes.extend(Unpaid::of(&entry));
                                    for r in released {
                                        let slot = earnings.iter_mut().find(|e| e.earning_id == r.earning_id).unwrap();
                                        *slot = r;
                                    }
                                }
                            }
                        }
                        Step::Pay => {
                            let vendor = VendorId::parse("acme").unwrap();
                            for currency in currencies {
                                let own: Vec<Unpaid> = notes.iter().filter(|n| n.delta.currency == currency).cloned().collect();
                                let available = books.balance.of(currency).available;
                                if let PayoutPlan::Pay(payout, entry) = Payout::plan(&vendor, currency, available, books.balance.version, &own, None, at(day)) {
                                    prop_assert!(payout.amount.minor <= available && payout.amount.minor > 0);
                                    if books.take(&entry) {
                                        notes.retain(|n| !payout.entries.contains(n));
                                        payouts.push(*payout);
                                    }
                                }
                            }
                        }
                        Step::MarkPaid { payout } => {
                            let Some(index) = (!payouts.is_empty()).then(|| payout % payouts.len()) else { continue };
                            if let Some((paid, entry)) = payouts[index].mark_paid("REF", at(day)).unwrap() {
                                prop_assert!(books.take(&entry));
                                payouts[index] = paid;
                            }
                        }
                    }
                }
                let mut sums = Balance::default();
                for entry in &books.entries {
                    sums.apply(entry);
                }
                prop_assert_eq!(&sums, &books.balance, "every bucket is the sum of its entries");
                for currency in currencies {
                    let b = books.balance.of(currency);
                    let of = |kind: EntryKind| books.entries.iter().filter(|e| e.kind == kind && e.amount.currency == currency).map(|e| e.amount.minor).sum::<i64>();
                    prop_assert_eq!(b.held + b.available + b.in_payout + b.paid_out, of(EntryKind::Held) - of(EntryKind::RefundReversal) - of(EntryKind::Clawback), "paid out + balance = earned - refunded");
                    prop_assert_eq!(b.held, earnings.iter().filter(|e| e.currency == currency).map(|e| e.held().minor).sum::<i64>(), "held is what the earnings hold");
                    prop_assert_eq!(b.available, notes.iter().filter(|n| n.delta.currency == currency).map(|n| n.delta.minor).sum::<i64>(), "available is what no payout covers yet");
                    for e in earnings.iter().filter(|e| e.currency == currency) {
                        prop_assert_eq!(e.earned, e.lines.iter().try_fold(Money::zero(currency), |s, l| s.checked_add(l.earnings(bps).unwrap())).unwrap());
                    }
                }
            }
        }
    }
}
