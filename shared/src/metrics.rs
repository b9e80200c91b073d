//! What the operator can alarm on, at no cost of an API call: the services count what
//! happened (orders accepted, vendor orders routed, unroutable lines, mails sent, clocks
//! fired, escalations, dead letters, earnings released, payouts), and each Lambda
//! invocation ends with one CloudWatch Embedded Metric Format line on stdout, which
//! CloudWatch Logs turns into metrics in the `dropflow` namespace (per function). A Lambda
//! container runs one invocation at a time, so process-wide counters, taken and reset
//! per invocation, are that invocation's. Locally nothing reads them.

use std::sync::atomic::{AtomicU64, Ordering};

/// A thing worth counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    OrdersAccepted,
    VendorOrdersRouted,
    UnroutableLines,
    MailsSent,
    ClocksFired,
    Escalations,
    DeadLettered,
    EarningsReleased,
    PayoutsCreated,
    /// Addresses suppressed by SES's feedback (bounces, complaints).
    MailsSuppressed,
    /// Mails not sent because their address is suppressed.
    MailsSkipped,
}

impl Metric {
    /// Every metric, in the order they are kept.
    pub const ALL: [Metric; 11] = [
        Metric::OrdersAccepted,
        Metric::VendorOrdersRouted,
        Metric::UnroutableLines,
        Metric::MailsSent,
        Metric::ClocksFired,
        Metric::Escalations,
        Metric::DeadLettered,
        Metric::EarningsReleased,
        Metric::PayoutsCreated,
        Metric::MailsSuppressed,
        Metric::MailsSkipped,
    ];

    /// Its name in CloudWatch.
    pub fn name(self) -> &'static str {
        match self {
            Metric::OrdersAccepted => "OrdersAccepted",
            Metric::VendorOrdersRouted => "VendorOrdersRouted",
            Metric::UnroutableLines => "UnroutableLines",
            Metric::MailsSent => "MailsSent",
            Metric::ClocksFired => "ClocksFired",
            Metric::Escalations => "Escalations",
            Metric::DeadLettered => "DeadLettered",
            Metric::EarningsReleased => "EarningsReleased",
            Metric::PayoutsCreated => "PayoutsCreated",
            Metric::MailsSuppressed => "MailsSuppressed",
            Metric::MailsSkipped => "MailsSkipped",
        }
    }
}

static COUNTS: [AtomicU64; Metric::ALL.len()] = [const { AtomicU64::new(0) }; Metric::ALL.len()];

/// Counts `n` of `metric` in this invocation.
pub fn count(metric: Metric, n: usize) {
    if let Some(slot) = Metric::ALL.iter().position(|m| *m == metric) {
        COUNTS[slot].fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// The invocation's EMF line for `function`, taking (and resetting) the counts: the
/// handler's duration, and each metric that counted something (the rest are left out,
/// so a quiet invocation logs a short line).
pub fn emf_line(function: &str, duration_ms: f64, timestamp_ms: i64) -> String {
    let mut values = serde_json::Map::new();
    let mut declared = vec![serde_json::json!({ "Name": "Duration", "Unit": "Milliseconds" })];
    values.insert("Duration".into(), serde_json::json!((duration_ms * 1000.0).round() / 1000.0));
    for (slot, metric) in Metric::ALL.iter().enumerate() {
        let n = COUNTS[slot].swap(0, Ordering::Relaxed);
        if n > 0 {
            declared.push(serde_json::json!({ "Name": metric.name(), "Unit": "Count" }));
            values.insert(metric.name().into(), serde_json::json!(n));
        }
    }
    values.insert("function".into(), serde_json::json!(function));
    values.insert(
        "_aws".into(),
        serde_json::json!({ "Timestamp": timestamp_ms, "CloudWatchMetrics": [{ "Namespace": "dropflow", "Dimensions": [["function"]], "Metrics": declared }] }),
    );
    serde_json::Value::Object(values).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invocation_logs_one_emf_line_of_what_it_counted_then_starts_again() {
        count(Metric::OrdersAccepted, 1);
        count(Metric::VendorOrdersRouted, 2);
        let line: serde_json::Value = serde_json::from_str(&emf_line("order-intake", 12.3456, 1_700_000_000_000)).unwrap();
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!((directive["Namespace"].as_str(), &directive["Dimensions"]), (Some("dropflow"), &serde_json::json!([["function"]])));
        let names: Vec<&str> = directive["Metrics"].as_array().unwrap().iter().map(|m| m["Name"].as_str().unwrap()).collect();
        for name in &names {
            assert!(line.get(*name).is_some(), "every declared metric has its value: {name}");
        }
        assert!(names.contains(&"OrdersAccepted") && names.contains(&"VendorOrdersRouted") && !names.contains(&"MailsSent"), "{names:?}");
        assert_eq!(
            (line["function"].as_str(), line["Duration"].as_f64(), line["_aws"]["Timestamp"].as_i64()),
            (Some("order-intake"), Some(12.346), Some(1_700_000_000_000))
        );
        let next: serde_json::Value = serde_json::from_str(&emf_line("order-intake", 1.0, 0)).unwrap();
        assert_eq!(next["_aws"]["CloudWatchMetrics"][0]["Metrics"].as_array().unwrap().len(), 1, "the counts start again: {next}");
    }
}
