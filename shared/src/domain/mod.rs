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

/// Whether `code` is in `codes`: codes of `WIDTH` letters, sorted, one space apart (the
/// ISO lists of this module), found by binary search. A scan of each list with `split`
/// was a tenth of a webhook's CPU (every amount and address of an order checks one:
/// BENCHMARKS.md).
pub(crate) fn listed<const WIDTH: usize>(codes: &str, code: &[u8]) -> bool {
    let (bytes, stride) = (codes.as_bytes(), WIDTH + 1);
    if code.len() != WIDTH || (bytes.len() + 1) % stride != 0 {
        return false;
    }
    let (mut low, mut high) = (0, (bytes.len() + 1) / stride);
    while low < high {
        let middle = (low + high) / 2;
        match bytes[middle * stride..middle * stride + WIDTH].cmp(code) {
            std::cmp::Ordering::Less => low = middle + 1,
            std::cmp::Ordering::Greater => high = middle,
            std::cmp::Ordering::Equal => return true,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    /// Every code of one width from A to Z, for comparing `listed` with a plain scan.
    fn every_code(width: u32) -> impl Iterator<Item = String> {
        (0..26u32.pow(width)).map(move |n| (0..width).rev().map(|i| char::from(b'A' + u8::try_from(n / 26u32.pow(i) % 26).unwrap())).collect())
    }

    #[test]
    fn the_code_lists_are_sorted_fixed_width_and_listed_finds_exactly_their_codes() {
        for (list, width) in [(super::address::COUNTRY_CODES, 2), (super::money::TWO_DECIMAL_CODES, 3)] {
            let codes: Vec<&str> = list.split(' ').collect();
            assert!(codes.iter().all(|c| c.len() == width), "one width");
            assert!(codes.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
            for code in every_code(u32::try_from(width).unwrap()) {
                let found = if width == 2 { super::listed::<2>(list, code.as_bytes()) } else { super::listed::<3>(list, code.as_bytes()) };
                assert_eq!(found, codes.contains(&code.as_str()), "{code}");
            }
        }
        assert!(!super::listed::<2>(super::address::COUNTRY_CODES, b"USA"), "another width is never listed");
        assert!(!super::listed::<2>(super::address::COUNTRY_CODES, b""));
    }
}
