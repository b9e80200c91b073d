//! Tracking numbers: which carrier a number belongs to, whether its check digit is right,
//! and where a customer can follow it. A vendor's typo is caught here, at entry, rather
//! than by a customer whose tracking link leads nowhere.
//!
//! Formats with a published check digit are verified (UPU S10, UPS 1Z, FedEx, USPS, DHL
//! Express); the dropship carriers with no public checksum (Cainiao, YunExpress, 4PX,
//! CJPacket) are recognised by their shape only.

use super::address::is_country_code;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Who carries a parcel. `Other` keeps a carrier we have no format for, named by the vendor.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Carrier {
    Ups,
    Fedex,
    Usps,
    DhlExpress,
    DhlEcommerce,
    /// A national post, numbered in the UPU S10 format (China Post, Royal Mail, ...).
    Post,
    Cainiao,
    Yunexpress,
    FourPx,
    Cjpacket,
    Other(String),
}

impl Carrier {
    /// Reads a carrier name as a vendor types it ("UPS", "dhl express", "4px").
    pub fn from_name(name: &str) -> Carrier {
        let key: String = name.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_lowercase();
        match key.as_str() {
            "ups" => Carrier::Ups,
            "fedex" => Carrier::Fedex,
            "usps" => Carrier::Usps,
            "dhl" | "dhlexpress" => Carrier::DhlExpress,
            "dhlecommerce" | "dhlglobalmail" => Carrier::DhlEcommerce,
            "post" | "postal" | "s10" | "chinapost" | "royalmail" | "epacket" => Carrier::Post,
            "cainiao" | "aliexpressstandardshipping" => Carrier::Cainiao,
            "yunexpress" | "yun" => Carrier::Yunexpress,
            "4px" | "fourpx" => Carrier::FourPx,
            "cjpacket" | "cj" => Carrier::Cjpacket,
            _ => Carrier::Other(name.trim().to_string()),
        }
    }

    /// The name shown to customers.
    pub fn display_name(&self) -> &str {
        match self {
            Carrier::Ups => "UPS",
            Carrier::Fedex => "FedEx",
            Carrier::Usps => "USPS",
            Carrier::DhlExpress => "DHL Express",
            Carrier::DhlEcommerce => "DHL eCommerce",
            Carrier::Post => "Postal service",
            Carrier::Cainiao => "Cainiao",
            Carrier::Yunexpress => "YunExpress",
            Carrier::FourPx => "4PX",
            Carrier::Cjpacket => "CJPacket",
            Carrier::Other(name) => name,
        }
    }
}

impl fmt::Display for Carrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.display_name())
    }
}

/// Why a tracking number cannot be right.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrackingError {
    #[error("the tracking number is empty")]
    Empty,
    #[error("{0:?} contains characters no tracking number has")]
    BadCharacters(String),
    #[error("{number} looks like a {format} number but its check digit is wrong (a typo?)")]
    BadCheckDigit { number: String, format: &'static str },
    #[error("{number} looks like a UPU S10 number but {country:?} is not a country code")]
    UnknownCountry { number: String, country: String },
    #[error("{number} is not a {carrier} tracking number")]
    NotThisCarrier { number: String, carrier: String },
    #[error("cannot tell which carrier {0} belongs to; say which carrier")]
    UnknownFormat(String),
}

/// A tracking number that passed its format's check, with its carrier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackingNumber {
    pub number: String,
    pub carrier: Carrier,
}

enum Verdict {
    NoMatch,
    Valid,
    Invalid(TrackingError),
}

/// One numbering format: the carrier it belongs to and its check. An `exclusive` format
/// has the last word on numbers of its shape, so that a mistyped S10 or routed USPS
/// number is reported as such rather than passing as a looser format.
struct Format {
    carrier: Carrier,
    exclusive: bool,
    check: fn(&str) -> Verdict,
}

const FORMATS: &[Format] = &[
    Format { carrier: Carrier::Post, exclusive: true, check: s10 },
    Format { carrier: Carrier::Ups, exclusive: true, check: ups },
    Format { carrier: Carrier::Usps, exclusive: true, check: usps },
    Format { carrier: Carrier::Fedex, exclusive: false, check: fedex },
    Format { carrier: Carrier::DhlExpress, exclusive: false, check: dhl_express },
    Format { carrier: Carrier::DhlEcommerce, exclusive: false, check: dhl_ecommerce },
    Format { carrier: Carrier::Cainiao, exclusive: false, check: cainiao },
    Format { carrier: Carrier::Yunexpress, exclusive: false, check: yunexpress },
    Format { carrier: Carrier::FourPx, exclusive: false, check: four_px },
    Format { carrier: Carrier::Cjpacket, exclusive: false, check: cjpacket },
];

impl TrackingNumber {
    /// Checks `raw` (spaces allowed, any case) against the formats of `carrier`, or of
    /// every carrier when none is given, in which case the carrier is inferred.
    pub fn parse(raw: &str, carrier: Option<&Carrier>) -> Result<TrackingNumber, TrackingError> {
        let number: String = raw.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
        if number.is_empty() {
            return Err(TrackingError::Empty);
        }
        if !number.bytes().all(|b| b.is_ascii_alphanumeric()) || number.len() > 40 {
            return Err(TrackingError::BadCharacters(raw.to_string()));
        }
        if let Some(Carrier::Other(_)) = carrier {
            return loose(&number, carrier.cloned().unwrap_or(Carrier::Other(String::new())));
        }
        let mut first_failure = None;
        for format in FORMATS.iter().filter(|f| carrier.is_none_or(|c| *c == f.carrier)) {
            match (format.check)(&number) {
                Verdict::Valid => return Ok(TrackingNumber { number, carrier: format.carrier.clone() }),
                Verdict::Invalid(error) if format.exclusive => return Err(error),
                Verdict::Invalid(error) => {
                    first_failure.get_or_insert(error);
                }
                Verdict::NoMatch => {}
            }
        }
        Err(first_failure.unwrap_or_else(|| match carrier {
            Some(c) => TrackingError::NotThisCarrier { number: number.clone(), carrier: c.to_string() },
            None => TrackingError::UnknownFormat(number.clone()),
        }))
    }

    /// The link to follow the parcel, only for a carrier dropflow knows: a carrier name a
    /// vendor typed never becomes (or picks) a link.
    pub fn link(&self) -> Option<String> {
        (!matches!(self.carrier, Carrier::Other(_))).then(|| self.tracking_url())
    }

    /// The carrier's name as storefronts list tracking companies (Shopify's tracking
    /// companies, WooCommerce Shipment Tracking's providers), else the name dropflow
    /// shows. A national post is named by the country its S10 number ends with.
    pub fn company_name(&self) -> String {
        let named = match &self.carrier {
            Carrier::Ups => "UPS",
            Carrier::Fedex => "FedEx",
            Carrier::Usps => "USPS",
            Carrier::DhlExpress => "DHL Express",
            Carrier::DhlEcommerce => "DHL eCommerce Asia",
            Carrier::Yunexpress => "YunExpress",
            Carrier::FourPx => "4PX",
            Carrier::Post => match self.number.get(self.number.len().saturating_sub(2)..) {
                Some("CN") => "China Post",
                Some("US") => "USPS",
                Some("GB") => "Royal Mail",
                Some("CA") => "Canada Post",
                Some("AU") => "Australia Post",
                Some("DE") => "Deutsche Post",
                Some("SG") => "Singapore Post",
                _ => return self.carrier.display_name().to_string(),
            },
            Carrier::Cainiao | Carrier::Cjpacket | Carrier::Other(_) => return self.carrier.display_name().to_string(),
        };
        named.to_string()
    }

    /// Where the customer follows the parcel: the carrier's own page when it has a
    /// stable one, else 17TRACK, which follows every carrier.
    pub fn tracking_url(&self) -> String {
        let n = &self.number;
        match self.carrier {
            Carrier::Ups => format!("https://www.ups.com/track?tracknum={n}"),
            Carrier::Fedex => format!("https://www.fedex.com/fedextrack/?trknbr={n}"),
            Carrier::Usps => format!("https://tools.usps.com/go/TrackConfirmAction?tLabels={n}"),
            Carrier::DhlExpress | Carrier::DhlEcommerce => {
                format!("https://www.dhl.com/global-en/home/tracking.html?tracking-id={n}")
            }
            Carrier::Cainiao => format!("https://global.cainiao.com/newDetail.htm?mailNoList={n}"),
            _ => format!("https://t.17track.net/en#nums={n}"),
        }
    }
}

/// A carrier we have no format for: any plausible number (6-40 letters and digits, at
/// least one digit) is taken as the vendor typed it.
fn loose(number: &str, carrier: Carrier) -> Result<TrackingNumber, TrackingError> {
    if number.len() >= 6 && number.bytes().any(|b| b.is_ascii_digit()) {
        Ok(TrackingNumber { number: number.to_string(), carrier })
    } else {
        Err(TrackingError::NotThisCarrier { number: number.to_string(), carrier: carrier.to_string() })
    }
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn value(b: u8) -> u32 {
    if b.is_ascii_digit() { u32::from(b - b'0') } else { (u32::from(b) - 3) % 10 }
}

fn check_digit(s: &str) -> u32 {
    value(s.as_bytes()[s.len() - 1])
}

/// The weighted mod-10 family (GS1, UPS): weight `evens` at even 0-based positions,
/// `odds` at odd ones; letters count as (ASCII - 3) mod 10.
fn mod10(sequence: &str, evens: u32, odds: u32) -> u32 {
    let total: u32 = sequence.bytes().enumerate().map(|(i, b)| value(b) * if i % 2 == 0 { evens } else { odds }).sum();
    (10 - total % 10) % 10
}

/// FedEx's weighted sum, reduced mod 11 then mod 10.
fn weighted_mod11(sequence: &str, weights: &[u32]) -> u32 {
    let total: u32 = sequence.bytes().zip(weights.iter().cycle()).map(|(b, w)| value(b) * w).sum();
    total % 11 % 10
}

fn verdict(ok: bool, number: &str, format: &'static str) -> Verdict {
    if ok { Verdict::Valid } else { Verdict::Invalid(TrackingError::BadCheckDigit { number: number.to_string(), format }) }
}

/// UPU S10: two letters, eight digits, a mod-11 check digit, the issuing country.
fn s10(n: &str) -> Verdict {
    let b = n.as_bytes();
    let shape = n.len() == 13 && b[..2].iter().all(u8::is_ascii_uppercase) && digits(&n[2..11]) && b[11..].iter().all(u8::is_ascii_uppercase);
    if !shape {
        return Verdict::NoMatch;
    }
    let total: u32 = n[2..10].bytes().zip([8, 6, 4, 2, 3, 5, 9, 7]).map(|(d, w)| value(d) * w).sum();
    let expected = match total % 11 {
        0 => 5,
        1 => 0,
        r => 11 - r,
    };
    if expected != value(b[10]) {
        return verdict(false, n, "UPU S10");
    }
    if !is_country_code(&n[11..]) {
        return Verdict::Invalid(TrackingError::UnknownCountry { number: n.to_string(), country: n[11..].to_string() });
    }
    Verdict::Valid
}

/// UPS: "1Z" + fifteen letters or digits, or a waybill (A/H/J/K/T/V + nine digits), each
/// with a mod-10 check digit (odd positions doubled).
fn ups(n: &str) -> Verdict {
    let last_is_digit = n.as_bytes()[n.len() - 1].is_ascii_digit();
    if n.len() == 18 && n.starts_with("1Z") && last_is_digit {
        return verdict(mod10(&n[2..17], 1, 2) == check_digit(n), n, "UPS 1Z");
    }
    if n.len() == 11 && n.starts_with(['A', 'H', 'J', 'K', 'T', 'V']) && digits(&n[1..]) {
        return verdict(mod10(&n[1..10], 1, 2) == check_digit(n), n, "UPS waybill");
    }
    Verdict::NoMatch
}

/// FedEx: Express 12, Ground 15, SSCC-18, Ground 96 (22), ASTRA 32, Express/GSN 34.
fn fedex(n: &str) -> Verdict {
    const EXPRESS: [u32; 3] = [3, 1, 7];
    const LONG: [u32; 3] = [1, 7, 3];
    if !digits(n) {
        return Verdict::NoMatch;
    }
    let check = check_digit(n);
    let ok = match n.len() {
        12 => weighted_mod11(&n[..11], &EXPRESS) == check,
        15 => mod10(&n[..14], 1, 3) == check,
        18 => mod10(&n[2..17], 3, 1) == check,
        22 if n.starts_with("96") => mod10(&n[7..21], 1, 3) == check,
        32 if n.starts_with('3') => weighted_mod11(&n[16..27], &EXPRESS) == value(n.as_bytes()[27]),
        34 if !n.starts_with('9') || n.starts_with("96") => weighted_mod11(&n[20..33], &LONG) == check,
        _ => return Verdict::NoMatch,
    };
    verdict(ok, n, "FedEx")
}

/// USPS: 20-digit, legacy 91 and IMpb (22, 26, 30 digits), each optionally preceded by
/// the "420" + ZIP (+4) routing code; GS1 mod-10 over the serial.
fn usps(n: &str) -> Verdict {
    if !digits(n) {
        return Verdict::NoMatch;
    }
    let mut bodies = vec![n];
    if n.starts_with("420") {
        bodies.extend([8, 12].into_iter().filter(|&skip| n.len() > skip).map(|skip| &n[skip..]));
    }
    let mut shaped = false;
    for body in bodies {
        let serial = &body[..body.len() - 1];
        let check = check_digit(body);
        let ok = match body.len() {
            20 => {
                shaped = true;
                mod10(serial, 3, 1) == check || mod10(&format!("91{serial}"), 3, 1) == check
            }
            22 | 26 | 30 if matches!(&body[..2], "91" | "92" | "93" | "94" | "95") => {
                shaped = true;
                mod10(serial, 3, 1) == check
            }
            _ => false,
        };
        if ok {
            return Verdict::Valid;
        }
    }
    if shaped && n.starts_with("420") {
        verdict(false, n, "USPS")
    } else if shaped {
        usps_unrouted_failure(n)
    } else {
        Verdict::NoMatch
    }
}

/// An unrouted USPS-shaped number that fails its check: 20-digit numbers are also other
/// carriers' shapes, so only the unmistakable 9x IMpb prefixes are reported as USPS typos.
fn usps_unrouted_failure(n: &str) -> Verdict {
    if n.len() != 20 { verdict(false, n, "USPS") } else { Verdict::NoMatch }
}

/// DHL Express: ten (or eleven) digits, the last the rest mod 7; and its piece ids, "J"
/// and 2-3 letters and 9-10 digits (no public checksum), which are DHL Express's, not DHL
/// eCommerce's (tracking_number_data's "DHL Express (Piece ID)").
fn dhl_express(n: &str) -> Verdict {
    let b = n.as_bytes();
    let letters = b.iter().take_while(|c| c.is_ascii_uppercase()).count();
    if b.first() == Some(&b'J') && (3..=4).contains(&letters) && (9..=10).contains(&(n.len() - letters)) && digits(&n[letters..]) {
        return Verdict::Valid;
    }
    if !digits(n) || !(10..=11).contains(&n.len()) {
        return Verdict::NoMatch;
    }
    let serial: u64 = n[..n.len() - 1].parse().unwrap_or(u64::MAX);
    verdict(serial % 7 == u64::from(check_digit(n)), n, "DHL Express")
}

/// DHL eCommerce (no public checksum): the GM/LX/RX/... prefixed numbers, and bare
/// 14-digit numbers.
fn dhl_ecommerce(n: &str) -> Verdict {
    const PREFIXES: [&str; 10] = ["GM", "LX", "RX", "UV", "CN", "SG", "TH", "IN", "HK", "MY"];
    let prefixed = PREFIXES.iter().any(|p| n.starts_with(p)) && (10..=39).contains(&(n.len() - 2)) && n[2..].bytes().any(|c| c.is_ascii_digit());
    let fourteen = n.len() == 14 && digits(n);
    if prefixed || fourteen { Verdict::Valid } else { Verdict::NoMatch }
}

fn prefixed_digits(n: &str, prefix: &str, lengths: std::ops::RangeInclusive<usize>) -> Verdict {
    match n.strip_prefix(prefix) {
        Some(rest) if digits(rest) && lengths.contains(&rest.len()) => Verdict::Valid,
        _ => Verdict::NoMatch,
    }
}

/// Cainiao (AliExpress Standard Shipping): "LP" + 14-16 digits.
fn cainiao(n: &str) -> Verdict {
    prefixed_digits(n, "LP", 14..=16)
}

/// YunExpress: "YT" + 16 digits.
fn yunexpress(n: &str) -> Verdict {
    prefixed_digits(n, "YT", 16..=16)
}

/// 4PX: "4PX" + 10-16 digits, often followed by "CN".
fn four_px(n: &str) -> Verdict {
    let n = n.strip_suffix("CN").unwrap_or(n);
    prefixed_digits(n, "4PX", 10..=16)
}

/// CJPacket: "CJ" + 10-20 letters and digits, with digits.
fn cjpacket(n: &str) -> Verdict {
    match n.strip_prefix("CJ") {
        Some(rest) if (10..=20).contains(&rest.len()) && rest.bytes().filter(u8::is_ascii_digit).count() >= 8 => Verdict::Valid,
        _ => Verdict::NoMatch,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infers_the_carrier_and_builds_its_link() {
        let ups = TrackingNumber::parse("1z5r8939 0357567127", None).unwrap();
        assert_eq!(ups.carrier, Carrier::Ups);
        assert_eq!(ups.number, "1Z5R89390357567127");
        assert_eq!(ups.tracking_url(), "https://www.ups.com/track?tracknum=1Z5R89390357567127");
        let post = TrackingNumber::parse("RB123456785GB", None).unwrap();
        assert_eq!(post.carrier, Carrier::Post);
        assert!(post.tracking_url().starts_with("https://t.17track.net/"));
        let typed = TrackingNumber::parse("ABC123456", Some(&Carrier::from_name("<a href=x>Fast Cargo</a>"))).unwrap();
        assert_eq!(typed.link(), None, "a carrier name a vendor typed never becomes a link");
        assert!(ups.link().is_some());
    }

    #[test]
    fn a_wrong_check_digit_says_so() {
        let error = TrackingNumber::parse("1Z5R89390357567128", None).unwrap_err();
        assert!(matches!(error, TrackingError::BadCheckDigit { format: "UPS 1Z", .. }), "{error:?}");
        assert!(error.to_string().contains("check digit"));
    }

    #[test]
    fn a_mistyped_s10_is_not_taken_for_a_looser_format() {
        // "CN" is also a DHL eCommerce prefix; the S10 shape decides.
        assert!(matches!(TrackingNumber::parse("CN123456786US", None), Err(TrackingError::BadCheckDigit { .. })));
        assert!(matches!(TrackingNumber::parse("RB123456785XX", None), Err(TrackingError::UnknownCountry { .. })));
    }

    #[test]
    fn a_given_carrier_restricts_the_formats() {
        assert!(TrackingNumber::parse("1Z5R89390357567127", Some(&Carrier::Fedex)).is_err());
        assert!(TrackingNumber::parse("986578788855", Some(&Carrier::Fedex)).is_ok());
        let other = TrackingNumber::parse("SF1234567890", Some(&Carrier::from_name("SF Express"))).unwrap();
        assert_eq!(other.carrier, Carrier::Other("SF Express".into()));
    }

    #[test]
    fn dropship_carriers_are_recognised_by_shape() {
        let cases = [
            ("LP00123456789012", Carrier::Cainiao),
            ("YT2012345678901234", Carrier::Yunexpress),
            ("4PX3001234567890CN", Carrier::FourPx),
            ("CJPKL7012345678901", Carrier::Cjpacket),
        ];
        for (number, carrier) in cases {
            assert_eq!(TrackingNumber::parse(number, None).unwrap().carrier, carrier, "{number}");
        }
    }

    #[test]
    fn garbage_is_refused() {
        assert_eq!(TrackingNumber::parse("  ", None), Err(TrackingError::Empty));
        assert!(matches!(TrackingNumber::parse("12-34", None), Err(TrackingError::BadCharacters(_))));
        assert!(matches!(TrackingNumber::parse("HELLO", None), Err(TrackingError::UnknownFormat(_))));
    }

    #[test]
    fn a_dhl_express_piece_id_is_dhl_express() {
        for number in ["JJD0099999999", "JVGL0999999990"] {
            assert_eq!(TrackingNumber::parse(number, None).map(|t| t.carrier), Ok(Carrier::DhlExpress), "{number}");
        }
        assert_eq!(TrackingNumber::parse("GM2951173225174494", None).map(|t| t.carrier), Ok(Carrier::DhlEcommerce));
    }

    /// Every vector of the public tracking_number_data files, read where they live.
    #[test]
    fn every_published_test_vector_is_classified_right() {
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/tracking");
        let mut checked = 0;
        for (file, carriers) in [
            ("s10.json", vec![Carrier::Post]),
            ("ups.json", vec![Carrier::Ups]),
            ("fedex.json", vec![Carrier::Fedex]),
            ("usps.json", vec![Carrier::Usps]),
            ("dhl.json", vec![Carrier::DhlExpress, Carrier::DhlEcommerce]),
        ] {
            let text = std::fs::read_to_string(folder.join(file)).expect("tests/fixtures");
            let data: serde_json::Value = serde_json::from_str(&text).unwrap();
            for format in data["tracking_numbers"].as_array().unwrap() {
                let vectors = &format["test_numbers"];
                for valid in vectors["valid"].as_array().unwrap() {
                    let number = valid.as_str().unwrap();
                    let parsed = TrackingNumber::parse(number, None);
                    assert!(parsed.as_ref().is_ok_and(|t| carriers.contains(&t.carrier)), "{file} {}: valid {number:?} gave {parsed:?}", format["name"]);
                    checked += 1;
                }
                for invalid in vectors["invalid"].as_array().into_iter().flatten() {
                    let number = invalid.as_str().unwrap();
                    let parsed = TrackingNumber::parse(number, None);
                    assert!(parsed.is_err(), "{file} {}: invalid {number:?} gave {parsed:?}", format["name"]);
                    checked += 1;
                }
            }
        }
        assert!(checked > 100, "only {checked} vectors found");
    }
}
