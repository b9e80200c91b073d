//! The money side of a vendor order's life (DESIGN, "Money"): what a change of a vendor
//! order earns or takes back, written in the same transaction as the change; the
//! `payout-release` run (holds that ended become available, then payouts); the
//! operator's payment run. Every movement is a ledger entry and an `ADD` to the balance
//! in one transaction, keyed by its cause, so a replay cannot apply it twice.

use super::{App, ServiceError};
use crate::domain::events::{Envelope, EventType, PayoutNamed, RefundRecorded, Released, ReleasedOrder};
use crate::domain::ids::VendorId;
use crate::domain::ledger::{Balance, Earning, LedgerEntry, Payout, PayoutPlan, Unpaid};
use crate::domain::money::{Currency, MoneyError};
use crate::domain::vendor_order::VendorOrder;
use crate::ports::{StoreError, Write};
use crate::store::{DUE_SHARDS, Tables};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// Earnings released in one transaction: one write each, plus the entry, the balance,
/// the unpaid note and the event, within DynamoDB's 100 writes.
const RELEASE_CHUNK: usize = 90;

/// How often a payout that lost a race (a refund, a second run) is read and tried again
/// in one run. Not `retry_on_conflict`: one run may make several payouts of a vendor,
/// and a balance whose notes do not add up is read again as a lost race is, then
/// refused for a person.
const RACE_ROUNDS: usize = super::RACE_ROUNDS;

fn money_error(error: MoneyError) -> ServiceError {
    ServiceError::Unprocessable(format!("money: {error}"))
}

/// What a vendor-order change does to its vendor's money: the writes, and the ledger
/// entries they make (for the change's mail to say what moved).
#[derive(Debug, Default)]
pub struct Effects {
    pub writes: Vec<Write>,
    pub entries: Vec<LedgerEntry>,
}

/// What a vendor-order change from `before` to `after` at `now` causes in the vendor's
/// money: each parcel it delivered earns (held), and each refund it recorded on a
/// delivered parcel's lines takes back what that line earned less (from `held`, or from
/// `available` once released). Nothing for any other change.
pub async fn effects(app: &App, before: &VendorOrder, after: &VendorOrder, now: DateTime<Utc>) -> Result<Effects, ServiceError> {
    let delivered: Vec<usize> = (0..after.shipments.len())
        .filter(|i| after.shipments[*i].delivered_at.is_some() && before.shipments.get(*i).is_none_or(|s| s.delivered_at.is_none()))
        .collect();
    let refunds = &after.refunds[before.refunds.len().min(after.refunds.len())..];
    if delivered.is_empty() && refunds.is_empty() {
        return Ok(Effects::default());
    }
    let mut writes = Vec::new();
    let mut entries = Vec::new();
    if !delivered.is_empty() {
        let bps = app.tables.vendor(&after.vendor_id).await?.map_or(app.config.commission_bps, |v| v.commission_bps);
        for parcel in delivered {
            if let Some((earning, entry)) = Earning::at_delivery(after, parcel, bps, app.config.holding_days, now).map_err(money_error)? {
                writes.push(Tables::put_earning(&earning, None)?);
                entries.push(entry);
            }
        }
    }
    if let Some(first) = refunds.first() {
        for (parcel, shipment) in before.shipments.iter().enumerate().filter(|(_, s)| s.delivered_at.is_some()) {
            let own: Vec<_> = refunds.iter().filter(|r| shipment.line_ids.contains(&r.line_id)).cloned().collect();
            if own.is_empty() {
                continue;
            }
            let Some(earning) = app.tables.earning(&after.vendor_id, &format!("{}-{}", after.id(), parcel + 1)).await? else { continue };
            if let Some((next, entry)) = earning.refund(&first.refund_id, &own, now).map_err(money_error)? {
                writes.push(Tables::put_earning(&next, Some(earning.version))?);
                entries.push(entry);
            }
        }
    }
    writes.extend(entry_writes(&after.vendor_id, &entries, None)?);
    Ok(Effects { writes, entries })
}

/// The `refunded` event's payload of refund `refund_id`: what it took back from the
/// vendor, from held earnings (a reversal) and from the available balance (a clawback,
/// after release), as `entries` (the change's own) say.
pub fn taken_back(refund_id: &str, entries: &[LedgerEntry]) -> RefundRecorded {
    let mut payload = RefundRecorded { refund_id: refund_id.to_string(), ..RefundRecorded::default() };
    for entry in entries {
        let sum = match entry.kind {
            crate::domain::ledger::EntryKind::RefundReversal => &mut payload.from_held,
            crate::domain::ledger::EntryKind::Clawback => &mut payload.from_available,
            _ => continue,
        };
        // One vendor order is one currency; a sum past i64 cannot be a refund.
        *sum = Some(sum.map_or(entry.amount, |s| s.checked_add(entry.amount).unwrap_or(s)));
    }
    payload
}

/// The entries' own writes, the `ADD` of them to the balance (conditional on the
/// balance version read, when given) and a note of each that moved `available`.
fn entry_writes(vendor_id: &VendorId, entries: &[LedgerEntry], read_version: Option<u64>) -> Result<Vec<Write>, StoreError> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let mut writes = Vec::with_capacity(entries.len() * 2 + 1);
    for entry in entries {
        writes.push(Tables::put_entry(entry)?);
        if let Some(note) = Unpaid::of(entry) {
            writes.push(Tables::put_unpaid(&note)?);
        }
    }
    writes.push(Tables::add_to_balance(vendor_id, entries, read_version));
    Ok(writes)
}

/// Merges the unconditional `ADD`s of one item in `writes` into one (DynamoDB refuses
/// two writes of an item in one transaction: two vendor orders of one vendor in one
/// refund both move its balance).
pub fn merge_adds(writes: Vec<Write>) -> Vec<Write> {
    let mut merged: Vec<Write> = Vec::with_capacity(writes.len());
    for write in writes {
        if let Write::Add { pk, sk, add, condition: crate::ports::Condition::Always } = &write
            && let Some(Write::Add { add: into, .. }) =
                merged.iter_mut().find(|w| matches!(w, Write::Add { pk: p, sk: s, condition: crate::ports::Condition::Always, .. } if p == pk && s == sk))
        {
            for (name, amount) in add {
                match into.iter_mut().find(|(n, _)| n == name) {
                    Some((_, sum)) => *sum += amount,
                    None => into.push((name.clone(), *amount)),
                }
            }
            continue;
        }
        merged.push(write);
    }
    merged
}

/// What one `payout-release` run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PayoutReport {
    /// Earnings whose hold ended and that were released.
    pub released: usize,
    /// Payouts created.
    pub payouts: Vec<String>,
    /// Vendors and currencies owed less than the minimum (they wait).
    pub below_minimum: usize,
    /// Vendors and currencies whose notes do not add up to their balance (refused; a
    /// person looks).
    pub refused: Vec<String>,
    /// Scorecard measures that turned at risk or failing today (each mailed once).
    pub scorecards_turned: usize,
    /// Whether everything due was done before the deadline.
    pub complete: bool,
}

/// The `payout-release` run as of `now`: releases every hold that ended, then builds one
/// payout per vendor and currency owed at least the minimum. Stops early (incomplete)
/// once `deadline` passes; the next run carries on.
pub async fn run(app: &App, now: DateTime<Utc>, deadline: Option<std::time::Instant>) -> Result<PayoutReport, ServiceError> {
    let mut report = PayoutReport { complete: true, ..PayoutReport::default() };
    let late = || deadline.is_some_and(|d| std::time::Instant::now() >= d);
    for shard in 0..DUE_SHARDS {
        let mut cursor = None;
        loop {
            if late() {
                report.complete = false;
                return Ok(report);
            }
            let (keys, next) = app.tables.due(crate::store::Due::Holds, shard, now, cursor, 100).await?;
            // Each earning is read once (consistently: the index may lag), then released
            // with the others of its vendor and currency.
            let mut due: BTreeMap<(VendorId, Currency), Vec<Earning>> = BTreeMap::new();
            for key in keys {
                let Some(earning) = app.tables.earning_at(&key).await? else { continue };
                due.entry((earning.vendor_id.clone(), earning.currency)).or_default().push(earning);
            }
            for ((vendor_id, _), earnings) in due {
                for chunk in earnings.chunks(RELEASE_CHUNK) {
                    report.released += release(app, &vendor_id, chunk.to_vec(), now).await?;
                }
            }
            match next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
    }
    for shard in 0..DUE_SHARDS {
        for (vendor_id, currency) in app.tables.unpaid_groups(shard).await? {
            if late() {
                report.complete = false;
                return Ok(report);
            }
            pay(app, &vendor_id, currency, now, &mut report).await?;
        }
    }
    // The daily evaluation of the vendors' scorecards rides the daily run.
    report.scorecards_turned = super::scorecards::evaluate(app, now).await?;
    Ok(report)
}

/// Releases `earnings` (one vendor and currency, as read) whose hold ended by `now`, in
/// one transaction; returns how many. A refund racing it makes it read them again.
async fn release(app: &App, vendor_id: &VendorId, earnings: Vec<Earning>, now: DateTime<Utc>) -> Result<usize, ServiceError> {
    let raced = std::sync::atomic::AtomicBool::new(false);
    let attempt = || async {
        // After a lost race, what is stored now of the same earnings.
        // The first try takes them as read, without a copy.
        let current: std::borrow::Cow<[Earning]> = if raced.swap(true, std::sync::atomic::Ordering::Relaxed) {
            let mut fresh = Vec::with_capacity(earnings.len());
            for earning in &earnings {
                fresh.extend(app.tables.earning(vendor_id, &earning.earning_id).await?);
            }
            fresh.into()
        } else {
            earnings.as_slice().into()
        };
        release_once(app, vendor_id, &current, now).await
    };
    match super::retry_on_conflict("releasing earnings", attempt).await {
        Err(ServiceError::Store(StoreError::ConditionFailed)) => Ok(0),
        outcome => outcome,
    }
}

/// Releases what of `earnings` is due, conditional on the versions read; how many.
async fn release_once(app: &App, vendor_id: &VendorId, earnings: &[Earning], now: DateTime<Utc>) -> Result<usize, ServiceError> {
    let Some((released, entry)) = Earning::release(earnings, now).map_err(money_error)? else { return Ok(0) };
    let mut writes = Vec::with_capacity(released.len() + 4);
    for earning in &released {
        writes.push(Tables::put_earning(earning, Some(earning.version - 1))?);
    }
    writes.extend(entry_writes(vendor_id, std::slice::from_ref(&entry), None)?);
    let orders = released.iter().map(|e| ReleasedOrder { order_number: e.order_number.clone(), amount: e.earned.to_string() }).collect();
    let event =
        Envelope::about_vendor(EventType::EarningsReleased, vendor_id, &entry.entry_id, now).with(&Released { amount: entry.amount.to_string(), orders });
    app.commit(writes, &[event]).await?;
    crate::metrics::count(crate::metrics::Metric::EarningsReleased, released.len());
    Ok(released.len())
}

/// Pays the vendor what it is owed in `currency`, if at least the minimum: the balance
/// read, its unpaid notes read after it, one payout of their sum, conditional on the
/// balance not having moved since (so a payout is never more than what is available,
/// and two runs never both pay). More notes than one payout covers make several.
async fn pay(app: &App, vendor_id: &VendorId, currency: Currency, now: DateTime<Utc>, report: &mut PayoutReport) -> Result<(), ServiceError> {
    let mut lost = 0;
    while lost < RACE_ROUNDS {
        let balance = app.tables.balance(vendor_id).await?;
        let notes = app.tables.unpaid(vendor_id, currency).await?;
        let plan = Payout::plan(vendor_id, currency, balance.of(currency).available, balance.version, &notes, app.config.payout_minimums.of(currency), now);
        let (payout, entry) = match plan {
            PayoutPlan::Pay(payout, entry) => (*payout, entry),
            PayoutPlan::NothingOwed => return Ok(()),
            PayoutPlan::BelowMinimum(_) => {
                report.below_minimum += 1;
                return Ok(());
            }
            // A movement between the two reads also looks like this: read again first.
            PayoutPlan::Mismatch { available, notes } => {
                lost += 1;
                if lost == RACE_ROUNDS {
                    tracing::error!(vendor = %vendor_id, %available, %notes, "a vendor's unpaid notes do not add up to its available balance; no payout");
                    report.refused.push(format!("{vendor_id} {currency}: available {available}, unpaid entries {notes}"));
                }
                continue;
            }
        };
        let mut writes = vec![Tables::put_payout(&payout, None)?];
        writes.extend(payout.entries.iter().map(Tables::delete_unpaid));
        writes.extend(entry_writes(vendor_id, std::slice::from_ref(&entry), Some(balance.version))?);
        let event =
            Envelope::about_vendor(EventType::PayoutCreated, vendor_id, &payout.payout_id, now).with(&PayoutNamed { payout_id: payout.payout_id.clone() });
        match app.commit(writes, &[event]).await {
            Ok(()) => {
                crate::metrics::count(crate::metrics::Metric::PayoutsCreated, 1);
                report.payouts.push(payout.payout_id);
            }
            Err(StoreError::ConditionFailed) => lost += 1,
            Err(error) => return Err(error.into()),
        }
    }
    Ok(())
}

/// The operator transferred payout `payout_id` with `reference`: it is marked paid and
/// its amount moves from `in_payout` to `paid_out`. Again with the same reference
/// changes nothing; with another, 409.
pub async fn mark_paid(app: &App, payout_id: &str, reference: &str) -> Result<Payout, ServiceError> {
    match super::retry_on_conflict("marking a payout paid", || mark_paid_once(app, payout_id, reference)).await {
        Err(ServiceError::Store(StoreError::ConditionFailed)) => Err(ServiceError::Conflict(format!("payout {payout_id} kept changing; try again"))),
        outcome => outcome,
    }
}

/// Reads the payout and marks it paid, conditional on the version read.
async fn mark_paid_once(app: &App, payout_id: &str, reference: &str) -> Result<Payout, ServiceError> {
    let payout = app.tables.payout(payout_id).await?.ok_or_else(|| ServiceError::NotFound(format!("no payout {payout_id:?}")))?;
    let now = app.clock.now();
    let Some((paid, entry)) = payout.mark_paid(reference, now).map_err(ServiceError::Conflict)? else { return Ok(payout) };
    let mut writes = vec![Tables::put_payout(&paid, Some(payout.version))?];
    writes.extend(entry_writes(&payout.vendor_id, std::slice::from_ref(&entry), None)?);
    let event =
        Envelope::about_vendor(EventType::PayoutPaid, &payout.vendor_id, &payout.payout_id, now).with(&PayoutNamed { payout_id: payout.payout_id.clone() });
    app.commit(writes, &[event]).await?;
    Ok(paid)
}

/// The vendor's balance.
pub async fn balance(app: &App, vendor_id: &VendorId) -> Result<Balance, ServiceError> {
    Ok(app.tables.balance(vendor_id).await?)
}

/// The pending payouts with their vendors (None for a vendor no longer on file), oldest
/// first: what the operator's payment run transfers.
pub async fn payment_run(app: &App) -> Result<Vec<(Payout, Option<crate::store::VendorProfile>)>, ServiceError> {
    let mut run = Vec::new();
    for payout in app.tables.pending_payouts().await? {
        let vendor = app.tables.vendor(&payout.vendor_id).await?;
        run.push((payout, vendor));
    }
    Ok(run)
}

/// The payment run as a CSV (`dropflow payouts export --csv`, `GET
/// /operator/payouts/export`): vendor, name, email, payee, currency, amount and payout
/// id per pending payout, and the payouts left out because their vendor has no payee (a
/// row without one is a transfer nobody can make, so the run never pays an empty
/// account). Cells a spreadsheet would take for a formula are made text.
pub async fn payment_run_csv(app: &App) -> Result<(String, Vec<Payout>), ServiceError> {
    let mut csv = csv::Writer::from_writer(Vec::new());
    let mut left_out = Vec::new();
    let unwritable = |e: csv::Error| ServiceError::Internal(format!("the payment run's CSV: {e}"));
    csv.write_record(["vendor_id", "name", "email", "payee", "currency", "amount", "payout_id"]).map_err(unwritable)?;
    for (payout, vendor) in payment_run(app).await? {
        let Some((vendor, payee)) = vendor.and_then(|v| v.payee.clone().map(|payee| (v, payee))) else {
            left_out.push(payout);
            continue;
        };
        let amount = payout.amount.decimal();
        let row = [payout.vendor_id.as_str(), &vendor.name, vendor.email.as_str(), &payee, payout.amount.currency.code(), &amount, &payout.payout_id];
        csv.write_record(row.iter().map(|cell| spreadsheet_safe(cell))).map_err(unwritable)?;
    }
    let bytes = csv.into_inner().map_err(|e| ServiceError::Internal(format!("the payment run's CSV: {e}")))?;
    Ok((String::from_utf8_lossy(&bytes).into_owned(), left_out))
}

/// A CSV cell a spreadsheet shows as text: a vendor's name or payee note that starts
/// like a formula (`=`, `+`, `-`, `@`, a tab or a return) gets a leading `'` (OWASP's
/// advice against CSV injection). Amounts are never negative here, so none is touched.
fn spreadsheet_safe(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_string(),
    }
}
