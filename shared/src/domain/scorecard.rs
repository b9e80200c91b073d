//! Vendor scorecards: the measures big marketplaces run on (late shipment, cancels,
//! valid tracking, on-time delivery), kept per vendor and UTC day as counters.
//!
//! Each vendor order says what it adds to its vendor's day counters (`facts`: a pure
//! function of its state); a commit that changes it adds the difference from what it
//! had added before (`VendorOrder::scored`), in the same transaction, so a replay (whose
//! commit fails on the version) adds nothing, and the counters always equal the sum of
//! every vendor order's facts: what `dropflow scorecards backfill` recounts. A measure is
//! read over its window (`Scorecard::of`) from the day counters of one Query.

use super::sla::SlaPolicy;
use super::vendor_order::{VendorOrder, VoState};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A vendor order's counters: `{yyyy-mm-dd}|{counter}` → how many.
pub type Facts = BTreeMap<String, i64>;

/// Day counters as read: day → counter → how many.
pub type Days = BTreeMap<NaiveDate, BTreeMap<String, i64>>;

/// The longest wait the hour histograms tell apart; longer waits count here.
const MAX_HOURS: i64 = 240;

/// The facts of `vo`: what its vendor's day counters hold of it.
///
/// - `orders` (its creation day) and, of those, `vendor_cancels` (the vendor cancelled it
///   before it shipped) and `refunded` (a refund reached it);
/// - `placed` (the day its last supplier order was placed), `placed_late` (after its
///   clock), `place_h{N}` (N whole hours after it was created); `place_missed` (the day
///   its clock passed, while it was not placed);
/// - `shipped`, `shipped_late`, `ship_h{N}` (its first parcel's day); `ship_missed`;
/// - `parcels` and `tracked` (each parcel's day: the carrier had news of it within
///   `tracking_days`);
/// - `delivered` and `on_time` (by the promise) on its delivery day.
pub fn facts(vo: &VendorOrder, policy: &SlaPolicy, tracking_days: i64) -> Facts {
    let mut facts = Facts::new();
    let mut add = |at: DateTime<Utc>, counter: String| *facts.entry(format!("{}|{counter}", at.date_naive())).or_default() += 1;
    add(vo.created_at, "orders".into());
    if vo.cancelled_by_vendor {
        add(vo.created_at, "vendor_cancels".into());
    }
    if !vo.refunds.is_empty() {
        add(vo.created_at, "refunded".into());
    }
    let place_deadline = vo.created_at + Duration::hours(policy.place_with_supplier_hours);
    let placed_at = vo.supplier_orders.iter().map(|s| s.placed_at).max().filter(|_| vo.state != VoState::AwaitingSupplier);
    match placed_at {
        Some(at) => {
            add(at, "placed".into());
            if at > place_deadline {
                add(at, "placed_late".into());
            }
            add(at, format!("place_h{}", hours(at - vo.created_at)));
        }
        None if vo.breached.contains(&super::sla::ClockKind::PlaceWithSupplier) => add(place_deadline, "place_missed".into()),
        None => {}
    }
    let first_parcel = vo.shipments.iter().map(|s| s.shipped_at).min();
    let ship_deadline = placed_at.map(|at| policy.ship(at).due_at);
    match (first_parcel, ship_deadline) {
        (Some(at), deadline) => {
            add(at, "shipped".into());
            if deadline.is_some_and(|d| at > d) {
                add(at, "shipped_late".into());
            }
            add(at, format!("ship_h{}", hours(at - vo.created_at)));
        }
        (None, Some(deadline)) if vo.breached.contains(&super::sla::ClockKind::Ship) => add(deadline, "ship_missed".into()),
        _ => {}
    }
    for parcel in &vo.shipments {
        add(parcel.shipped_at, "parcels".into());
        if parcel.carrier_seen_at.is_some_and(|seen| seen <= parcel.shipped_at + Duration::days(tracking_days)) {
            add(parcel.shipped_at, "tracked".into());
        }
    }
    if let (VoState::Delivered, Some(delivered), Some(shipped)) = (vo.state, vo.delivered_at, first_parcel) {
        add(delivered, "delivered".into());
        if delivered <= shipped + Duration::days(policy.delivery_promise_days) {
            add(delivered, "on_time".into());
        }
    }
    facts
}

/// Whole hours, within the histograms' range.
fn hours(span: Duration) -> i64 {
    span.num_hours().clamp(0, MAX_HOURS)
}

/// What `after` adds to its vendor's counters beyond what `before` (its `scored`) had:
/// per day, counter → difference (never zero).
pub fn difference(before: &Facts, after: &Facts) -> BTreeMap<NaiveDate, BTreeMap<String, i64>> {
    let mut days: BTreeMap<NaiveDate, BTreeMap<String, i64>> = BTreeMap::new();
    for key in before.keys().chain(after.keys()) {
        let change = after.get(key).copied().unwrap_or(0) - before.get(key).copied().unwrap_or(0);
        let Some((day, counter)) = key.split_once('|') else { continue };
        let Ok(day) = day.parse::<NaiveDate>() else { continue };
        if change != 0 {
            days.entry(day).or_default().insert(counter.to_string(), change);
        }
    }
    days
}

/// A measure of the scorecard, with its direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    LateSupplierOrderRate,
    LateShipmentRate,
    ValidTrackingRate,
    CancelRate,
    OnTimeDeliveryRate,
    RefundRate,
}

impl Measure {
    pub const ALL: [Measure; 6] = [
        Measure::LateSupplierOrderRate,
        Measure::LateShipmentRate,
        Measure::ValidTrackingRate,
        Measure::CancelRate,
        Measure::OnTimeDeliveryRate,
        Measure::RefundRate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Measure::LateSupplierOrderRate => "late_supplier_order_rate",
            Measure::LateShipmentRate => "late_shipment_rate",
            Measure::ValidTrackingRate => "valid_tracking_rate",
            Measure::CancelRate => "cancel_rate",
            Measure::OnTimeDeliveryRate => "on_time_delivery_rate",
            Measure::RefundRate => "refund_rate",
        }
    }

    /// Whether a higher value is better (a rate of good things).
    fn higher_is_better(self) -> bool {
        matches!(self, Measure::ValidTrackingRate | Measure::OnTimeDeliveryRate)
    }

    /// (numerator counters, denominator counters).
    fn counters(self) -> (&'static [&'static str], &'static [&'static str]) {
        match self {
            Measure::LateSupplierOrderRate => (&["placed_late", "place_missed"], &["placed", "place_missed"]),
            Measure::LateShipmentRate => (&["shipped_late", "ship_missed"], &["shipped", "ship_missed"]),
            Measure::ValidTrackingRate => (&["tracked"], &["parcels"]),
            Measure::CancelRate => (&["vendor_cancels"], &["orders"]),
            Measure::OnTimeDeliveryRate => (&["on_time"], &["delivered"]),
            Measure::RefundRate => (&["refunded"], &["orders"]),
        }
    }

    /// Amazon's thresholds where it has one (late shipment under 4 % over 10 days,
    /// cancels under 2.5 % over 7, valid tracking over 95 % over 30, on-time delivery
    /// over 90 %), and the house's for the others: (window days, target).
    fn default_policy(self) -> (u32, f64) {
        match self {
            Measure::LateSupplierOrderRate => (10, 0.04),
            Measure::LateShipmentRate => (10, 0.04),
            Measure::ValidTrackingRate => (30, 0.95),
            Measure::CancelRate => (7, 0.025),
            Measure::OnTimeDeliveryRate => (30, 0.90),
            Measure::RefundRate => (90, 0.05),
        }
    }

    pub fn parse(text: &str) -> Option<Measure> {
        Measure::ALL.into_iter().find(|m| m.as_str() == text.trim())
    }
}

/// Where a measure stands against its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    Good,
    AtRisk,
    Failing,
}

impl Standing {
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Good => "good",
            Standing::AtRisk => "at_risk",
            Standing::Failing => "failing",
        }
    }
}

/// The operator's scorecard settings: each measure's window and target, and how soon a
/// parcel's first carrier news counts its tracking as valid.
#[derive(Debug, Clone, PartialEq)]
pub struct ScorecardPolicy {
    pub measures: BTreeMap<Measure, (u32, f64)>,
    pub tracking_days: i64,
    /// The median waits are read over this many days.
    pub median_days: u32,
}

impl Default for ScorecardPolicy {
    fn default() -> Self {
        ScorecardPolicy { measures: Measure::ALL.into_iter().map(|m| (m, m.default_policy())).collect(), tracking_days: 7, median_days: 30 }
    }
}

impl ScorecardPolicy {
    /// The defaults with `windows` (`late_shipment_rate=10,…`, days) and `targets`
    /// (`late_shipment_rate=0.04,…`, fractions) over them.
    pub fn parse(windows: &str, targets: &str) -> Result<ScorecardPolicy, String> {
        let mut policy = ScorecardPolicy::default();
        for (text, is_window) in [(windows, true), (targets, false)] {
            for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let (name, value) = pair.split_once('=').ok_or_else(|| format!("{pair:?} is not measure=value"))?;
                let measure = Measure::parse(name).ok_or_else(|| format!("{name:?} is not a measure"))?;
                let entry = policy.measures.entry(measure).or_insert(measure.default_policy());
                if is_window {
                    entry.0 = value.trim().parse().ok().filter(|d| (1..=90).contains(d)).ok_or_else(|| format!("{name}: a window is 1-90 days"))?;
                } else {
                    entry.1 =
                        value.trim().parse().ok().filter(|t: &f64| (0.0..=1.0).contains(t)).ok_or_else(|| format!("{name}: a target is a fraction 0-1"))?;
                }
            }
        }
        Ok(policy)
    }

    /// The longest window: how many days a scorecard reads.
    pub fn longest_days(&self) -> u32 {
        self.measures.values().map(|(days, _)| *days).chain([self.median_days]).max().unwrap_or(1)
    }
}

/// One measure as read: its value (None without a denominator), its counts, window,
/// target and standing.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub value: Option<f64>,
    pub numerator: i64,
    pub denominator: i64,
    pub window_days: u32,
    pub target: f64,
    pub standing: Standing,
}

/// A vendor's scorecard on one day.
#[derive(Debug, Clone, PartialEq)]
pub struct Scorecard {
    pub measures: BTreeMap<Measure, Reading>,
    pub median_hours_to_supplier_order: Option<i64>,
    pub median_hours_to_shipment: Option<i64>,
}

impl Scorecard {
    /// The scorecard of `today` from the day counters `days`: each measure summed over
    /// the `window` days up to and including today.
    pub fn of(days: &Days, today: NaiveDate, policy: &ScorecardPolicy) -> Scorecard {
        let within = |window: u32| {
            let from = today - Duration::days(i64::from(window) - 1);
            days.range(from..=today).flat_map(|(_, counters)| counters.iter())
        };
        let sum = |window: u32, names: &[&str]| within(window).filter(|(name, _)| names.contains(&name.as_str())).map(|(_, n)| *n).sum::<i64>();
        let measures = policy
            .measures
            .iter()
            .map(|(measure, (window, target))| {
                let (top, bottom) = measure.counters();
                let (numerator, denominator) = (sum(*window, top), sum(*window, bottom));
                let value = (denominator > 0).then(|| numerator as f64 / denominator as f64);
                (*measure, Reading { value, numerator, denominator, window_days: *window, target: *target, standing: standing(*measure, value, *target) })
            })
            .collect();
        let median = |prefix: &str| {
            let mut histogram: BTreeMap<i64, i64> = BTreeMap::new();
            for (name, n) in within(policy.median_days) {
                if let Some(hours) = name.strip_prefix(prefix).and_then(|h| h.parse::<i64>().ok()) {
                    *histogram.entry(hours).or_default() += n;
                }
            }
            median_of(&histogram)
        };
        Scorecard { measures, median_hours_to_supplier_order: median("place_h"), median_hours_to_shipment: median("ship_h") }
    }
}

/// Where `value` stands against `target`: failing past it, at risk within the last
/// quarter of the way to it (a rate of bad things above three quarters of its target; a
/// rate of good things in the lower half of what lies above its target), else good; good
/// without a value (no orders to judge).
fn standing(measure: Measure, value: Option<f64>, target: f64) -> Standing {
    let Some(value) = value else { return Standing::Good };
    if measure.higher_is_better() {
        if value < target {
            Standing::Failing
        } else if value < target + (1.0 - target) / 2.0 {
            Standing::AtRisk
        } else {
            Standing::Good
        }
    } else if value > target {
        Standing::Failing
    } else if value > target * 0.75 {
        Standing::AtRisk
    } else {
        Standing::Good
    }
}

/// The median of a histogram of whole hours (the lower middle of an even count).
fn median_of(histogram: &BTreeMap<i64, i64>) -> Option<i64> {
    let total: i64 = histogram.values().filter(|n| **n > 0).sum();
    if total == 0 {
        return None;
    }
    let middle = (total + 1) / 2;
    let mut seen = 0;
    for (hours, n) in histogram.iter().filter(|(_, n)| **n > 0) {
        seen += n;
        if seen >= middle {
            return Some(*hours);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn days(entries: &[(&str, &str, i64)]) -> Days {
        let mut days = Days::new();
        for (d, counter, n) in entries {
            *days.entry(day(d)).or_default().entry(counter.to_string()).or_default() += n;
        }
        days
    }

    #[test]
    fn a_measure_sums_its_own_window_only() {
        let policy = ScorecardPolicy::default();
        // Cancels are read over 7 days, refunds over 90.
        let counters = days(&[("2026-12-06", "orders", 10), ("2026-12-06", "vendor_cancels", 1), ("2026-11-20", "orders", 10), ("2026-11-20", "refunded", 2)]);
        let card = Scorecard::of(&counters, day("2026-12-06"), &policy);
        let cancels = &card.measures[&Measure::CancelRate];
        assert_eq!((cancels.numerator, cancels.denominator, cancels.window_days), (1, 10, 7));
        assert_eq!(cancels.standing, Standing::Failing, "10 % is over 2.5 %");
        let refunds = &card.measures[&Measure::RefundRate];
        assert_eq!((refunds.numerator, refunds.denominator), (2, 20));
        assert_eq!(refunds.standing, Standing::Failing);
    }

    #[test]
    fn standings_follow_each_measures_direction() {
        assert_eq!(standing(Measure::LateShipmentRate, Some(0.02), 0.04), Standing::Good);
        assert_eq!(standing(Measure::LateShipmentRate, Some(0.035), 0.04), Standing::AtRisk);
        assert_eq!(standing(Measure::LateShipmentRate, Some(0.05), 0.04), Standing::Failing);
        assert_eq!(standing(Measure::ValidTrackingRate, Some(0.99), 0.95), Standing::Good);
        assert_eq!(standing(Measure::ValidTrackingRate, Some(0.96), 0.95), Standing::AtRisk);
        assert_eq!(standing(Measure::ValidTrackingRate, Some(0.90), 0.95), Standing::Failing);
        assert_eq!(standing(Measure::CancelRate, None, 0.025), Standing::Good, "no orders, nothing to judge");
    }

    #[test]
    fn the_median_wait_reads_the_hour_histograms() {
        let counters = days(&[("2026-12-01", "ship_h20", 1), ("2026-12-02", "ship_h50", 1), ("2026-12-03", "ship_h30", 1), ("2026-12-03", "place_h3", 2)]);
        let card = Scorecard::of(&counters, day("2026-12-06"), &ScorecardPolicy::default());
        assert_eq!(card.median_hours_to_shipment, Some(30));
        assert_eq!(card.median_hours_to_supplier_order, Some(3));
    }

    #[test]
    fn a_difference_names_only_what_changed_and_undoes_what_went() {
        let before: Facts = [("2026-12-01|orders".to_string(), 1), ("2026-12-03|ship_missed".to_string(), 1)].into();
        let after: Facts = [("2026-12-01|orders".to_string(), 1), ("2026-12-04|shipped".to_string(), 1), ("2026-12-04|shipped_late".to_string(), 1)].into();
        let diff = difference(&before, &after);
        assert_eq!(diff[&day("2026-12-03")]["ship_missed"], -1);
        assert_eq!(diff[&day("2026-12-04")]["shipped_late"], 1);
        assert!(!diff.contains_key(&day("2026-12-01")), "unchanged counts add nothing");
    }

    #[test]
    fn the_policy_takes_windows_and_targets_and_refuses_nonsense() {
        let policy = ScorecardPolicy::parse("cancel_rate=14", "late_shipment_rate=0.1").unwrap();
        assert_eq!(policy.measures[&Measure::CancelRate], (14, 0.025));
        assert_eq!(policy.measures[&Measure::LateShipmentRate], (10, 0.1));
        assert!(ScorecardPolicy::parse("cancel_rate=0", "").is_err());
        assert!(ScorecardPolicy::parse("", "speed=0.5").is_err());
        assert!(ScorecardPolicy::parse("", "cancel_rate=2").is_err());
    }
}
