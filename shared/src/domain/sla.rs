//! The clocks a dropshipping order runs on, and the policy numbers that set them.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use serde::{Deserialize, Serialize};

/// The SLA numbers; every one is configuration (DESIGN's defaults in `Default`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaPolicy {
    pub place_with_supplier_hours: i64,
    pub place_reminder_hours: i64,
    pub ship_business_days: u32,
    pub delivery_promise_days: i64,
    pub holidays: Vec<NaiveDate>,
}

impl Default for SlaPolicy {
    fn default() -> Self {
        SlaPolicy {
            place_with_supplier_hours: 24,
            place_reminder_hours: 12,
            ship_business_days: 5,
            delivery_promise_days: 20,
            holidays: Vec::new(),
        }
    }
}

/// Which clock is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    PlaceWithSupplier,
    Ship,
    DeliveryPromise,
}

impl ClockKind {
    /// The wire name ("place_with_supplier"), as the API and the due index show it.
    pub fn as_str(self) -> &'static str {
        match self {
            ClockKind::PlaceWithSupplier => "place_with_supplier",
            ClockKind::Ship => "ship",
            ClockKind::DeliveryPromise => "delivery_promise",
        }
    }
}

/// An armed clock: what is due, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clock {
    pub kind: ClockKind,
    pub due_at: DateTime<Utc>,
}

impl SlaPolicy {
    /// The clock armed when a vendor order is created: order from the supplier within 24 h.
    pub fn place_with_supplier(&self, created_at: DateTime<Utc>) -> Clock {
        Clock { kind: ClockKind::PlaceWithSupplier, due_at: created_at + Duration::hours(self.place_with_supplier_hours) }
    }

    /// The clock armed when the supplier order is placed: ship within N business days.
    pub fn ship(&self, placed_at: DateTime<Utc>) -> Clock {
        Clock { kind: ClockKind::Ship, due_at: self.add_business_days(placed_at, self.ship_business_days) }
    }

    /// The clock armed at shipment: delivered within the promised days.
    pub fn delivery_promise(&self, shipped_at: DateTime<Utc>) -> Clock {
        Clock { kind: ClockKind::DeliveryPromise, due_at: shipped_at + Duration::days(self.delivery_promise_days) }
    }

    /// `from` moved forward by `days` business days (weekends and holidays skipped),
    /// keeping the time of day.
    pub fn add_business_days(&self, from: DateTime<Utc>, days: u32) -> DateTime<Utc> {
        let mut at = from;
        let mut left = days;
        while left > 0 {
            at += Duration::days(1);
            if self.is_business_day(at.date_naive()) {
                left -= 1;
            }
        }
        at
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
    fn supplier_order_is_due_a_day_after_creation() {
        let clock = SlaPolicy::default().place_with_supplier(at("2026-11-20T10:00:00Z"));
        assert_eq!(clock.due_at, at("2026-11-21T10:00:00Z"));
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
    }
}
