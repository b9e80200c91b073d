//! The clocks a dropshipping order runs on, and the policy numbers that set them
//! (DESIGN, "SLA policy"). A clock is armed and disarmed by the vendor order's own
//! transitions; the sweep fires the ones that are due (`VendorOrder::fire`).

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// The SLA numbers; every one is configuration (DESIGN's defaults in `Default`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaPolicy {
    /// `SLA_PLACE_WITH_SUPPLIER_HOURS`: order from the supplier within this (24).
    pub place_with_supplier_hours: i64,
    /// `SLA_PLACE_REMINDER_HOURS`: the vendor is reminded this long after the order (12).
    pub place_reminder_hours: i64,
    /// `SLA_SHIP_BUSINESS_DAYS`: ship within this many business days of the supplier
    /// order (5).
    pub ship_business_days: u32,
    /// `SLA_TRACKING_STALE_BUSINESS_DAYS`: tracking is stale after this many business
    /// days without a carrier push (5).
    pub tracking_stale_business_days: u32,
    /// `SLA_DELIVERY_PROMISE_DAYS`: delivered within this many days of shipment (20).
    pub delivery_promise_days: i64,
    /// `SLA_REFUND_WINDOW_DAYS`: the supplier takes refund requests this long after its
    /// order (15).
    pub refund_window_days: i64,
    /// `SLA_REFUND_WARNING_DAYS`: the vendor is warned this long after the supplier
    /// order, while it can still ask for a refund (13).
    pub refund_warning_days: i64,
    /// `SLA_DISPUTE_OPENS_DAYS`: the supplier's dispute window opens this long after
    /// shipment (6).
    pub dispute_opens_days: i64,
    /// `SLA_HOLIDAYS`: dates that are not business days.
    pub holidays: Vec<NaiveDate>,
    /// `SLA_TIMEZONE`: where business days are counted (UTC).
    pub timezone: Tz,
    /// `RETENTION_DAYS`: a closed vendor order's customer data is purged this long
    /// after it closed (180; 0 keeps it until the storefront asks).
    pub retention_days: u32,
    /// `SLA_ESCALATION_REPEAT_HOURS`: an overdue step escalates again this long after
    /// its last escalation, until someone acts (24; 0 escalates once).
    pub escalation_repeat_hours: u32,
    /// `SLA_AUTO_CANCEL_HOURS`: an order still not placed with the supplier this long
    /// after its supplier-order deadline is cancelled (unset: never).
    pub auto_cancel_hours: Option<u32>,
}

/// How long after a delivery-delay mail the customer is told to write if the parcel
/// has still not come (the date the mail gives, kept as a clock).
pub const DELIVERY_GRACE_DAYS: i64 = 10;

impl Default for SlaPolicy {
    fn default() -> Self {
        SlaPolicy {
            place_with_supplier_hours: 24,
            place_reminder_hours: 12,
            ship_business_days: 5,
            tracking_stale_business_days: 5,
            delivery_promise_days: 20,
            refund_window_days: 15,
            refund_warning_days: 13,
            dispute_opens_days: 6,
            holidays: Vec::new(),
            timezone: Tz::UTC,
            retention_days: 180,
            escalation_repeat_hours: 24,
            auto_cancel_hours: None,
        }
    }
}

/// Which clock is running (the API's `ClockJson.kind`, by the same names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    /// Half-way to the supplier-order deadline: the vendor is reminded.
    PlaceReminder,
    /// The supplier-order deadline: a breach, escalated to the operator.
    PlaceWithSupplier,
    /// The shipping deadline: vendor reminder, customer delay mail, escalation.
    Ship,
    /// No carrier news for the stale period: the vendor is asked to chase the supplier.
    TrackingStale,
    /// Not delivered when promised: customer delay mail, escalation.
    DeliveryPromise,
    /// The supplier's refund window is about to close on an undelivered order.
    RefundWarning,
    /// The supplier's dispute window opens: the vendor is told if tracking is stale.
    DisputeWindow,
    /// The date a delay mail gave the customer for shipment: if it passes unshipped,
    /// the customer hears again and the operator is told.
    ShipPromised,
    /// The date a delivery-delay mail gave the customer: if it passes undelivered, the
    /// customer hears again and the operator is told.
    DeliveryPromised,
    /// `SLA_AUTO_CANCEL_HOURS` after a missed supplier-order deadline: the order, still
    /// not placed, is cancelled.
    AutoCancel,
}

impl ClockKind {
    /// Every clock, in the order they are declared (the API document lists them so).
    pub const ALL: [ClockKind; 10] = [
        ClockKind::PlaceReminder,
        ClockKind::PlaceWithSupplier,
        ClockKind::Ship,
        ClockKind::TrackingStale,
        ClockKind::DeliveryPromise,
        ClockKind::RefundWarning,
        ClockKind::DisputeWindow,
        ClockKind::ShipPromised,
        ClockKind::DeliveryPromised,
        ClockKind::AutoCancel,
    ];

    /// The wire name ("place_with_supplier"), as the API and the due index show it.
    pub fn as_str(self) -> &'static str {
        match self {
            ClockKind::PlaceReminder => "place_reminder",
            ClockKind::PlaceWithSupplier => "place_with_supplier",
            ClockKind::Ship => "ship",
            ClockKind::TrackingStale => "tracking_stale",
            ClockKind::DeliveryPromise => "delivery_promise",
            ClockKind::RefundWarning => "refund_warning",
            ClockKind::DisputeWindow => "dispute_window",
            ClockKind::ShipPromised => "ship_promised",
            ClockKind::DeliveryPromised => "delivery_promised",
            ClockKind::AutoCancel => "auto_cancel",
        }
    }

    /// Reads a wire name.
    pub fn parse(text: &str) -> Option<ClockKind> {
        ClockKind::ALL.into_iter().find(|k| k.as_str() == text.trim())
    }

    /// Whether its firing is an escalation: listed in the operator's digest.
    pub fn escalates(self) -> bool {
        matches!(self, ClockKind::PlaceWithSupplier | ClockKind::Ship | ClockKind::DeliveryPromise | ClockKind::ShipPromised | ClockKind::DeliveryPromised)
    }

    /// Whether it is a step's own deadline (order from the supplier, ship, deliver): a
    /// missed one makes the step overdue and escalates again until the step is done. A
    /// broken promise to the customer is told once (the step's own repeats go on).
    pub fn is_step(self) -> bool {
        matches!(self, ClockKind::PlaceWithSupplier | ClockKind::Ship | ClockKind::DeliveryPromise)
    }
}

/// An armed clock: what is due, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clock {
    pub kind: ClockKind,
    pub due_at: DateTime<Utc>,
    /// A repeat of an escalation (`SLA_ESCALATION_REPEAT_HOURS`): the deadline the step
    /// first missed, so each repeat says how late it is. None on a first arming.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overdue_since: Option<DateTime<Utc>>,
}

impl Clock {
    /// A clock due at `due_at`, to the second (the API and the due index show seconds;
    /// a clock is due at the second it shows).
    pub fn new(kind: ClockKind, due_at: DateTime<Utc>) -> Clock {
        Clock { kind, due_at: chrono::SubsecRound::trunc_subsecs(due_at, 0), overdue_since: None }
    }

    /// The deadline this clock stands for: its own, or the first one missed when it is
    /// a repeat.
    pub fn deadline(&self) -> DateTime<Utc> {
        self.overdue_since.unwrap_or(self.due_at)
    }
}

impl SlaPolicy {
    /// The clocks armed when a vendor order is created: the reminder, then the deadline
    /// to order from the supplier.
    pub fn on_created(&self, created_at: DateTime<Utc>) -> Vec<Clock> {
        vec![
            Clock::new(ClockKind::PlaceReminder, created_at + Duration::hours(self.place_reminder_hours)),
            Clock::new(ClockKind::PlaceWithSupplier, created_at + Duration::hours(self.place_with_supplier_hours)),
        ]
    }

    /// The clock armed when the supplier order is placed: ship within N business days.
    pub fn ship(&self, placed_at: DateTime<Utc>) -> Clock {
        Clock::new(ClockKind::Ship, self.add_business_days(placed_at, self.ship_business_days))
    }

    /// The warning armed with the first supplier order, before its refund window closes.
    pub fn refund_warning(&self, placed_at: DateTime<Utc>) -> Clock {
        Clock::new(ClockKind::RefundWarning, placed_at + Duration::days(self.refund_warning_days))
    }

    /// The tracking-stale clock, from the shipment or the last carrier push received.
    pub fn tracking_stale(&self, last_news_at: DateTime<Utc>) -> Clock {
        Clock::new(ClockKind::TrackingStale, self.add_business_days(last_news_at, self.tracking_stale_business_days))
    }

    /// When the customer data of a vendor order that closed at `closed_at` is due to
    /// be purged; None when retention is off.
    pub fn purge_at(&self, closed_at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        (self.retention_days > 0).then(|| closed_at + Duration::days(i64::from(self.retention_days)))
    }

    /// The clocks armed at shipment: tracking stale, the delivery promise, the dispute
    /// window.
    pub fn on_shipped(&self, shipped_at: DateTime<Utc>) -> Vec<Clock> {
        vec![
            self.tracking_stale(shipped_at),
            Clock::new(ClockKind::DeliveryPromise, shipped_at + Duration::days(self.delivery_promise_days)),
            Clock::new(ClockKind::DisputeWindow, shipped_at + Duration::days(self.dispute_opens_days)),
        ]
    }

    /// The next escalation of an overdue step whose `clock` fired at `now`, while no
    /// one has acted: its own arming, which fires once. None when repeats are off or
    /// the clock does not escalate.
    pub fn escalate_again(&self, clock: &Clock, now: DateTime<Utc>) -> Option<Clock> {
        (self.escalation_repeat_hours > 0 && clock.kind.is_step())
            .then(|| Clock { overdue_since: Some(clock.deadline()), ..Clock::new(clock.kind, now + Duration::hours(i64::from(self.escalation_repeat_hours))) })
    }

    /// What a first escalation at `now` of `clock` promises or decides next: the new
    /// shipping date the customer's delay mail gives (a missed ship deadline), the date
    /// after which a late parcel is to be written about (a missed delivery promise), or
    /// the auto-cancel of an order never placed with the supplier (when configured).
    pub fn after_first_escalation(&self, clock: &Clock, now: DateTime<Utc>) -> Option<Clock> {
        if clock.overdue_since.is_some() {
            return None;
        }
        match clock.kind {
            ClockKind::Ship => Some(Clock::new(ClockKind::ShipPromised, self.add_business_days(now, self.ship_business_days))),
            ClockKind::DeliveryPromise => Some(Clock::new(ClockKind::DeliveryPromised, now + Duration::days(DELIVERY_GRACE_DAYS))),
            ClockKind::PlaceWithSupplier => {
                self.auto_cancel_hours.map(|hours| Clock::new(ClockKind::AutoCancel, clock.due_at + Duration::hours(i64::from(hours))))
            }
            _ => None,
        }
    }

    /// Whether tracking last heard of at `last_news_at` is stale at `now`: from the
    /// second its clock shows (a clock is due at the second it shows, so a check made
    /// as that clock fires agrees with it).
    pub fn is_stale(&self, last_news_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        self.tracking_stale(last_news_at).due_at <= now
    }

    /// Whether the supplier's dispute window of a parcel shipped at `shipped_at` is open
    /// at `now`, from the second its clock shows.
    pub fn dispute_open(&self, shipped_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        Clock::new(ClockKind::DisputeWindow, shipped_at + Duration::days(self.dispute_opens_days)).due_at <= now
    }

    /// `from` moved forward by `days` business days (weekends and holidays, as dates in
    /// the policy's time zone, skipped), keeping the local time of day. A local time
    /// that a daylight-saving change skips is taken an hour later.
    pub fn add_business_days(&self, from: DateTime<Utc>, days: u32) -> DateTime<Utc> {
        let local = from.with_timezone(&self.timezone).naive_local();
        let mut date = local.date();
        let mut left = days;
        while left > 0 {
            date = date.succ_opt().unwrap_or(date);
            if self.is_business_day(date) {
                left -= 1;
            }
        }
        let naive = date.and_time(local.time());
        let resolved =
            self.timezone.from_local_datetime(&naive).earliest().or_else(|| self.timezone.from_local_datetime(&(naive + Duration::hours(1))).earliest());
        resolved.map(|t| t.with_timezone(&Utc)).unwrap_or(from + Duration::days(i64::from(days)))
    }

    fn is_business_day(&self, date: NaiveDate) -> bool {
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && !self.holidays.contains(&date)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_new_vendor_order_is_reminded_at_twelve_hours_and_due_at_a_day() {
        let clocks = SlaPolicy::default().on_created(at("2026-11-20T10:00:00Z"));
        assert_eq!(clocks[0], Clock::new(ClockKind::PlaceReminder, at("2026-11-20T22:00:00Z")));
        assert_eq!(clocks[1], Clock::new(ClockKind::PlaceWithSupplier, at("2026-11-21T10:00:00Z")));
    }

    #[test]
    fn shipping_skips_weekends() {
        // Friday + 5 business days = next Friday.
        let clock = SlaPolicy::default().ship(at("2026-11-20T10:00:00Z"));
        assert_eq!(clock.due_at, at("2026-11-27T10:00:00Z"));
        // Saturday + 1 business day = Monday.
        assert_eq!(SlaPolicy::default().add_business_days(at("2026-11-21T09:00:00Z"), 1), at("2026-11-23T09:00:00Z"));
    }

    #[test]
    fn holidays_are_not_business_days() {
        let policy = SlaPolicy { holidays: vec![NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()], ..SlaPolicy::default() };
        assert_eq!(policy.add_business_days(at("2026-11-25T09:00:00Z"), 1), at("2026-11-27T09:00:00Z"));
        // Over a weekend and a holiday: Wed 25th + 5 = Fri 27, Mon 30, Tue 1, Wed 2, Thu 3.
        assert_eq!(policy.add_business_days(at("2026-11-25T09:00:00Z"), 5), at("2026-12-03T09:00:00Z"));
    }

    #[test]
    fn business_days_are_counted_in_the_configured_time_zone() {
        // Friday 23:30 UTC is Saturday 08:30 in Tokyo: one business day on is Monday
        // 08:30 there, which is Sunday 23:30 UTC. Counted in UTC, it is Monday 23:30.
        let tokyo = SlaPolicy { timezone: "Asia/Tokyo".parse().unwrap(), ..SlaPolicy::default() };
        assert_eq!(tokyo.add_business_days(at("2026-11-20T23:30:00Z"), 1), at("2026-11-22T23:30:00Z"));
        assert_eq!(SlaPolicy::default().add_business_days(at("2026-11-20T23:30:00Z"), 1), at("2026-11-23T23:30:00Z"));
        // Across New York's change to winter time the local time of day is kept.
        let new_york = SlaPolicy { timezone: "America/New_York".parse().unwrap(), ..SlaPolicy::default() };
        assert_eq!(new_york.add_business_days(at("2026-10-30T13:00:00Z"), 1), at("2026-11-02T14:00:00Z"));
    }

    #[test]
    fn stale_and_the_dispute_window_count_from_the_second_their_clocks_show() {
        // Shipped at a fraction of a second: the clocks show the second, and the checks
        // made as they fire agree with them.
        let policy = SlaPolicy::default();
        let shipped = at("2026-11-28T10:00:00.750Z"); // a Saturday
        let stale = policy.tracking_stale(shipped).due_at;
        assert_eq!(stale, at("2026-12-04T10:00:00Z"));
        assert!(policy.is_stale(shipped, stale) && !policy.is_stale(shipped, stale - Duration::seconds(1)));
        assert!(policy.dispute_open(shipped, at("2026-12-04T10:00:00Z")) && !policy.dispute_open(shipped, at("2026-12-04T09:59:59Z")));
    }

    #[test]
    fn tracking_is_stale_after_the_business_days_without_news() {
        let policy = SlaPolicy::default();
        let shipped = at("2026-11-23T10:00:00Z"); // a Monday
        assert!(!policy.is_stale(shipped, at("2026-11-30T09:59:59Z")));
        assert!(policy.is_stale(shipped, at("2026-11-30T10:00:00Z")));
    }
}
