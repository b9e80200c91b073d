//! Storefront refunds against the lines they name (DESIGN, "Money"): an amount is a real
//! one, never negative, and never more than what is left to refund on its line; what
//! breaks that is kept for the operator, never applied. A line can be refunded before
//! any vendor holds it (Shopify does not order its webhooks, and an unroutable line's
//! mail tells the operator to refund it): the refund is kept on the order and goes with
//! the line when it is routed; a line refunded in full is never routed.

use super::money::{Money, MoneyError};
use super::order::OrderLine;
use super::vendor_order::LineRefund;

/// The sum of `refunds` made on `line_id`, in `zero`'s currency.
pub fn refunded_on<'a>(line_id: &str, refunds: impl IntoIterator<Item = &'a LineRefund>, zero: Money) -> Result<Money, MoneyError> {
    refunds.into_iter().filter(|r| r.line_id == line_id).try_fold(zero, |sum, r| sum.checked_add(r.amount))
}

/// What is left of `paid` after `refunded`: never below zero, never above what was paid
/// (the vendor's view and the ledger both count a line's money so, whatever refunds an
/// older release recorded).
pub fn net_of_refunds(paid: Money, refunded: Money) -> Result<Money, MoneyError> {
    let left = paid.checked_sub(refunded)?;
    Ok(Money::from_minor(left.minor.clamp(0, paid.minor.max(0)), paid.currency))
}

/// What a line is worth to its vendor after `refunded`: what is left of what the
/// customer paid, and never more than what was paid for the units still to be sent (an
/// edit that removed units without a refund leaves the difference with the store, owed
/// to the customer; a refund that cancels units and the edit that removes them are one
/// fact, not two).
pub fn line_value(line: &OrderLine, refunded: Money) -> Result<Money, MoneyError> {
    Ok(at_most(net_of_refunds(line.paid, refunded)?, Some(line.paid_for_kept())))
}

/// `left`, or `kept` when that is less (never below zero): how `line_value` caps what is
/// left of a line by what its kept units cost, for an earning that stored both.
pub fn at_most(left: Money, kept: Option<Money>) -> Money {
    match kept {
        Some(kept) if kept.minor < left.minor => Money::from_minor(kept.minor.max(0), left.currency),
        _ => left,
    }
}

/// Why `refund` cannot be applied to `line`, which has had `earlier` refunds; None when
/// it can.
pub fn problem(line: &OrderLine, refund: &LineRefund, earlier: &[LineRefund]) -> Option<String> {
    if refund.amount.currency != line.paid.currency {
        return Some(format!("line {}: the refund is in {}, the line in {}", line.line_id, refund.amount.currency, line.paid.currency));
    }
    if refund.amount.minor < 0 {
        return Some(format!("line {}: a refund of {} is negative", line.line_id, refund.amount));
    }
    let left = match refunded_on(&line.line_id, earlier, Money::zero(line.paid.currency)).and_then(|done| line.paid.checked_sub(done)) {
        Ok(left) => left,
        Err(error) => return Some(format!("line {}: {error}", line.line_id)),
    };
    (refund.amount.minor > left.minor).then(|| format!("line {}: a refund of {} is more than the {} left to refund on it", line.line_id, refund.amount, left))
}

/// Whether `line` has been refunded in full by `refunds` (it has nothing left to send).
pub fn refunded_in_full(line: &OrderLine, refunds: &[LineRefund]) -> bool {
    refunds.iter().any(|r| r.line_id == line.line_id)
        && refunded_on(&line.line_id, refunds, Money::zero(line.paid.currency)).is_ok_and(|done| done.minor >= line.paid.minor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::Currency;

    fn usd(minor: i64) -> Money {
        Money::from_minor(minor, Currency::parse("USD").unwrap())
    }

    fn line(paid: i64) -> OrderLine {
        OrderLine {
            line_id: "1".into(),
            sku: None,
            title: "Thing".into(),
            variant: None,
            quantity: 2,
            unit_price: usd(paid / 2),
            paid: usd(paid),
            problem: None,
            removed: 0,
        }
    }

    fn refund(id: &str, amount: Money) -> LineRefund {
        LineRefund { refund_id: id.into(), line_id: "1".into(), quantity: 0, amount }
    }

    #[test]
    fn a_refund_is_never_negative_nor_more_than_is_left_on_its_line() {
        let line = line(10_000);
        assert_eq!(problem(&line, &refund("r1", usd(10_000)), &[]), None, "all of it, once");
        assert!(problem(&line, &refund("r1", usd(-40_000)), &[]).is_some_and(|p| p.contains("negative")));
        assert!(problem(&line, &refund("r1", usd(40_000)), &[]).is_some_and(|p| p.contains("more than the 100.00")));
        let earlier = [refund("r1", usd(6_000))];
        assert_eq!(problem(&line, &refund("r2", usd(4_000)), &earlier), None);
        assert!(problem(&line, &refund("r2", usd(4_001)), &earlier).is_some_and(|p| p.contains("40.00 USD left")));
        let euros = LineRefund { amount: Money::from_minor(1, Currency::parse("EUR").unwrap()), ..refund("r3", usd(0)) };
        assert!(problem(&line, &euros, &[]).is_some());
    }

    #[test]
    fn what_is_left_of_a_line_is_between_nothing_and_what_was_paid() {
        assert_eq!(net_of_refunds(usd(10_000), usd(2_500)), Ok(usd(7_500)));
        assert_eq!(net_of_refunds(usd(10_000), usd(50_000)), Ok(usd(0)));
        assert_eq!(net_of_refunds(usd(10_000), usd(-40_000)), Ok(usd(10_000)), "a negative refund never adds");
    }

    #[test]
    fn a_line_with_units_removed_is_worth_what_its_kept_units_cost_and_a_refund_of_them_is_not_counted_twice() {
        let two = line(10_000);
        let one_removed = OrderLine { quantity: 1, removed: 1, ..two.clone() };
        assert_eq!(line_value(&two, usd(0)), Ok(usd(10_000)));
        assert_eq!(line_value(&one_removed, usd(0)), Ok(usd(5_000)), "removed without a refund: the store keeps it for the customer");
        assert_eq!(line_value(&one_removed, usd(5_000)), Ok(usd(5_000)), "the refund of the removed unit");
        assert_eq!(line_value(&one_removed, usd(8_000)), Ok(usd(2_000)), "a further goodwill refund");
        let all_removed = OrderLine { quantity: 0, removed: 2, ..two.clone() };
        assert_eq!(line_value(&all_removed, usd(0)), Ok(usd(0)));
        let odd = OrderLine { quantity: 1, removed: 2, paid: usd(1_000), ..two };
        assert_eq!(line_value(&odd, usd(0)), Ok(usd(333)), "rounded down");
    }

    #[test]
    fn a_line_is_refunded_in_full_once_its_refunds_reach_what_was_paid() {
        let line = line(10_000);
        assert!(!refunded_in_full(&line, &[]));
        assert!(!refunded_in_full(&line, &[refund("r1", usd(9_999))]));
        assert!(refunded_in_full(&line, &[refund("r1", usd(5_000)), refund("r2", usd(5_000))]));
        let free = OrderLine { paid: usd(0), unit_price: usd(0), ..line.clone() };
        assert!(!refunded_in_full(&free, &[]), "a free gift without a refund still ships");
    }
}
