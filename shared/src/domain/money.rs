//! Money: integer minor units with an ISO 4217 currency. Storefronts send decimal strings
//! ("199.00") or JSON numbers (199.5); both are parsed digit by digit, never through
//! floating point, so an amount is exact from the edge to the ledger.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why an amount or a currency was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("unknown currency code {0:?} (expected an ISO 4217 code such as USD)")]
    UnknownCurrency(String),
    #[error("{0:?} is not a decimal amount (digits, one optional '.', no separators)")]
    NotADecimal(String),
    #[error("{amount:?} has more decimals than {currency} allows ({exponent})")]
    TooPrecise { amount: String, currency: String, exponent: u8 },
    #[error("amount {0:?} is too large")]
    Overflow(String),
    #[error("cannot combine {0} with {1}")]
    CurrencyMismatch(String, String),
}

/// An ISO 4217 currency code known to have a fixed minor unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: [u8; 3],
    exponent: u8,
}

/// Codes whose minor unit is not 2 decimals; every other listed code has 2.
const EXPONENT_EXCEPTIONS: &[(&str, u8)] = &[
    ("BIF", 0),
    ("CLP", 0),
    ("DJF", 0),
    ("GNF", 0),
    ("ISK", 0),
    ("JPY", 0),
    ("KMF", 0),
    ("KRW", 0),
    ("PYG", 0),
    ("RWF", 0),
    ("UGX", 0),
    ("UYI", 0),
    ("VND", 0),
    ("VUV", 0),
    ("XAF", 0),
    ("XOF", 0),
    ("XPF", 0),
    ("BHD", 3),
    ("IQD", 3),
    ("JOD", 3),
    ("KWD", 3),
    ("LYD", 3),
    ("OMR", 3),
    ("TND", 3),
    ("CLF", 4),
    ("UYW", 4),
];

/// Active ISO 4217 codes with a two-decimal minor unit.
pub(super) const TWO_DECIMAL_CODES: &str = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB \
BRL BSD BTN BWP BYN BZD CAD CDF CHF CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP \
GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD \
LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP \
PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP \
TRY TTD TWD TZS UAH USD UZS VES WST XCD YER ZAR ZMW ZWG";

impl Currency {
    /// Parses an ISO 4217 code (case-insensitive); unknown codes are refused.
    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        let upper: [u8; 3] = code.trim().as_bytes().try_into().map_err(|_| MoneyError::UnknownCurrency(code.to_string()))?;
        let upper = upper.map(|b| b.to_ascii_uppercase());
        let exponent = EXPONENT_EXCEPTIONS
            .iter()
            .find(|(c, _)| c.as_bytes() == upper)
            .map(|(_, e)| *e)
            .or_else(|| super::listed::<3>(TWO_DECIMAL_CODES, &upper).then_some(2))
            .ok_or_else(|| MoneyError::UnknownCurrency(code.to_string()))?;
        Ok(Currency { code: upper, exponent })
    }

    /// The three-letter code.
    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.code).unwrap_or("XXX")
    }

    /// Decimal places of the minor unit (JPY 0, USD 2, KWD 3).
    pub fn exponent(&self) -> u8 {
        self.exponent
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Currency::parse(&code).map_err(serde::de::Error::custom)
    }
}

/// An exact amount: `minor` units of `currency` (cents for USD, yen for JPY).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    /// An amount already in minor units.
    pub fn from_minor(minor: i64, currency: Currency) -> Self {
        Money { minor, currency }
    }

    /// Zero of a currency.
    pub fn zero(currency: Currency) -> Self {
        Money { minor: 0, currency }
    }

    /// Parses a decimal text such as "199.00", "-5.5" or "1000" exactly. Thousands
    /// separators, exponents and more decimals than the currency has are refused.
    pub fn parse_decimal(text: &str, currency: Currency) -> Result<Self, MoneyError> {
        let not_decimal = || MoneyError::NotADecimal(text.to_string());
        let trimmed = text.trim();
        let (negative, unsigned) = match trimmed.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        let (whole, fraction) = match unsigned.split_once('.') {
            Some((w, f)) => (w, f),
            None => (unsigned, ""),
        };
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) {
            return Err(not_decimal());
        }
        if unsigned.ends_with('.') {
            return Err(not_decimal());
        }
        let exponent = usize::from(currency.exponent);
        let significant = fraction.trim_end_matches('0');
        if significant.len() > exponent {
            return Err(MoneyError::TooPrecise { amount: text.to_string(), currency: currency.code().to_string(), exponent: currency.exponent });
        }
        let overflow = || MoneyError::Overflow(text.to_string());
        let mut minor: i64 = 0;
        let padded = significant.bytes().chain(std::iter::repeat(b'0')).take(exponent);
        for digit in whole.bytes().chain(padded) {
            minor = minor.checked_mul(10).and_then(|m| m.checked_add(i64::from(digit - b'0'))).ok_or_else(overflow)?;
        }
        Ok(Money { minor: if negative { -minor } else { minor }, currency })
    }

    /// Adds two amounts of the same currency.
    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let minor = self.minor.checked_add(other.minor).ok_or_else(|| MoneyError::Overflow(format!("{self} + {other}")))?;
        Ok(Money { minor, ..self })
    }

    /// Subtracts an amount of the same currency.
    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.checked_add(Money { minor: -other.minor, ..other })
    }

    /// Multiplies by a whole quantity (a line's unit price × its quantity).
    pub fn times(self, quantity: u32) -> Result<Money, MoneyError> {
        let minor = self.minor.checked_mul(i64::from(quantity)).ok_or_else(|| MoneyError::Overflow(format!("{self} x {quantity}")))?;
        Ok(Money { minor, ..self })
    }

    /// The share `bps` of this amount, rounded half away from zero. A share is at most
    /// the whole, so the result is never larger than the amount and cannot overflow.
    pub fn basis_points(self, bps: CommissionBps) -> Money {
        let product = i128::from(self.minor) * i128::from(bps.get());
        let rounded = (product.abs() + 5_000) / 10_000 * product.signum();
        Money { minor: i64::try_from(rounded).unwrap_or(self.minor), ..self }
    }

    fn same_currency(self, other: Money) -> Result<(), MoneyError> {
        if self.currency == other.currency { Ok(()) } else { Err(MoneyError::CurrencyMismatch(self.currency.to_string(), other.currency.to_string())) }
    }
}

impl Money {
    /// The exact decimal with exactly the currency's minor digits ("199.00", "1500",
    /// "-0.250"): the API's `amount`.
    pub fn decimal(&self) -> String {
        let exponent = u32::from(self.currency.exponent);
        let sign = if self.minor < 0 { "-" } else { "" };
        let magnitude = self.minor.unsigned_abs();
        if exponent == 0 {
            return format!("{sign}{magnitude}");
        }
        let scale = 10u64.pow(exponent);
        let width = exponent as usize;
        format!("{sign}{}.{:0width$}", magnitude / scale, magnitude % scale)
    }
}

/// The marketplace's share of a line's net, in basis points (1/10 000): 0 to 10 000.
/// It is parsed where it enters (configuration, the CLI, a stored profile), so a share
/// larger than the whole never reaches the ledger; it reads and writes as a bare number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct CommissionBps(u16);

/// Why a commission was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("commission must be at most 10000 basis points (100 %), not {0}")]
pub struct CommissionTooLarge(pub u32);

impl CommissionBps {
    /// The whole amount: 100 %.
    pub const WHOLE: u32 = 10_000;

    /// `bps` basis points, refused above the whole.
    pub fn new(bps: u32) -> Result<CommissionBps, CommissionTooLarge> {
        u16::try_from(bps).ok().filter(|b| u32::from(*b) <= Self::WHOLE).map(CommissionBps).ok_or(CommissionTooLarge(bps))
    }

    /// The basis points as a number, for storage and display.
    pub fn get(self) -> u32 {
        u32::from(self.0)
    }
}

impl TryFrom<u32> for CommissionBps {
    type Error = CommissionTooLarge;
    fn try_from(bps: u32) -> Result<Self, Self::Error> {
        CommissionBps::new(bps)
    }
}

impl From<CommissionBps> for u32 {
    fn from(bps: CommissionBps) -> u32 {
        bps.get()
    }
}

impl std::str::FromStr for CommissionBps {
    type Err = String;
    /// A whole number of basis points, as the CLI and configuration take it.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bps: u32 = text.trim().parse().map_err(|_| format!("{text:?} is not a whole number of basis points (1000 is 10 %)"))?;
        CommissionBps::new(bps).map_err(|e| e.to_string())
    }
}

impl fmt::Display for CommissionBps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} bps", self.0)
    }
}

impl fmt::Display for Money {
    /// "199.00 USD", "1500 JPY", "-0.250 KWD": the exact decimal, then the code.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.decimal(), self.currency)
    }
}

/// A decimal amount as a storefront wrote it: a JSON string ("199.00") or a JSON number
/// (199.5), kept as its exact text so that it can be parsed once the currency is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecimalText(pub String);

impl<'de> Deserialize<'de> for DecimalText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = <Box<serde_json::value::RawValue>>::deserialize(d)?;
        let text = raw.get();
        match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
            Some(inner) => Ok(DecimalText(inner.to_string())),
            None => Ok(DecimalText(text.to_string())),
        }
    }
}

impl DecimalText {
    /// The exact amount in `currency`.
    pub fn to_money(&self, currency: Currency) -> Result<Money, MoneyError> {
        Money::parse_decimal(&self.0, currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn usd() -> Currency {
        Currency::parse("USD").unwrap()
    }

    #[test]
    fn a_commission_is_at_most_the_whole_and_reads_as_a_bare_number() {
        assert_eq!(CommissionBps::new(0).unwrap().get(), 0);
        assert_eq!(CommissionBps::new(10_000).unwrap().get(), 10_000);
        for too_much in [10_001, 65_536, u32::MAX] {
            assert_eq!(CommissionBps::new(too_much), Err(CommissionTooLarge(too_much)));
        }
        assert_eq!("1000".parse::<CommissionBps>().unwrap().get(), 1_000);
        assert!("10%".parse::<CommissionBps>().is_err());
        assert!("-5".parse::<CommissionBps>().is_err());
        assert_eq!(serde_json::to_string(&CommissionBps::new(1_250).unwrap()).unwrap(), "1250");
        assert_eq!(serde_json::from_str::<CommissionBps>("1250").unwrap().get(), 1_250);
        assert!(serde_json::from_str::<CommissionBps>("10001").is_err(), "a stored share above the whole is refused, not trusted");
    }

    #[test]
    fn parses_storefront_decimal_strings_exactly() {
        assert_eq!(Money::parse_decimal("199.00", usd()).unwrap().minor, 19_900);
        assert_eq!(Money::parse_decimal("0.1", usd()).unwrap().minor, 10);
        assert_eq!(Money::parse_decimal("199", usd()).unwrap().minor, 19_900);
        assert_eq!(Money::parse_decimal("-5.55", usd()).unwrap().minor, -555);
        assert_eq!(Money::parse_decimal("10.500", usd()).unwrap().minor, 1_050);
    }

    #[test]
    fn refuses_separators_exponents_and_garbage() {
        for bad in ["1,000", "1e3", "", ".5", "5.", "12.3.4", "abc", "+5", "1 000", "NaN"] {
            assert!(Money::parse_decimal(bad, usd()).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn minor_unit_follows_the_currency() {
        let jpy = Currency::parse("JPY").unwrap();
        let kwd = Currency::parse("kwd").unwrap();
        let bhd = Currency::parse("BHD").unwrap();
        assert_eq!(Money::parse_decimal("1500", jpy).unwrap().minor, 1_500);
        assert!(matches!(Money::parse_decimal("1500.5", jpy), Err(MoneyError::TooPrecise { .. })));
        assert_eq!(Money::parse_decimal("1.234", kwd).unwrap().minor, 1_234);
        assert_eq!(Money::parse_decimal("0.5", bhd).unwrap().minor, 500);
        assert!(Money::parse_decimal("1.2345", kwd).is_err());
    }

    #[test]
    fn unknown_currency_is_refused() {
        assert!(Currency::parse("XYZ").is_err());
        assert!(Currency::parse("US").is_err());
    }

    #[test]
    fn json_numbers_and_strings_are_read_exactly() {
        let amounts: Vec<DecimalText> = serde_json::from_str(r#"["199.00", 199, 0.1, 12.35, "3"]"#).unwrap();
        let minor: Vec<i64> = amounts.iter().map(|a| a.to_money(usd()).unwrap().minor).collect();
        assert_eq!(minor, vec![19_900, 19_900, 10, 1_235, 300]);
    }

    #[test]
    fn displays_the_exact_decimal() {
        assert_eq!(Money::from_minor(19_900, usd()).to_string(), "199.00 USD");
        assert_eq!(Money::from_minor(-5, usd()).to_string(), "-0.05 USD");
        assert_eq!(Money::from_minor(1_500, Currency::parse("JPY").unwrap()).to_string(), "1500 JPY");
        assert_eq!(Money::from_minor(250, Currency::parse("KWD").unwrap()).to_string(), "0.250 KWD");
    }

    #[test]
    fn mixing_currencies_is_an_error() {
        let eur = Money::from_minor(1, Currency::parse("EUR").unwrap());
        assert!(Money::from_minor(1, usd()).checked_add(eur).is_err());
    }

    #[test]
    fn commission_rounds_half_away_from_zero() {
        let bps = |n| CommissionBps::new(n).unwrap();
        assert_eq!(Money::from_minor(19_900, usd()).basis_points(bps(1_000)).minor, 1_990);
        assert_eq!(Money::from_minor(5, usd()).basis_points(bps(5_000)).minor, 3);
        assert_eq!(Money::from_minor(-5, usd()).basis_points(bps(5_000)).minor, -3);
        assert_eq!(Money::from_minor(i64::MAX, usd()).basis_points(bps(10_000)).minor, i64::MAX);
    }

    fn currency_strategy() -> impl Strategy<Value = Currency> {
        prop::sample::select(vec!["USD", "JPY", "KWD", "EUR", "CLF"]).prop_map(|c| Currency::parse(c).unwrap())
    }

    proptest! {
        #[test]
        fn display_then_parse_is_identity(minor in -1_000_000_000_000i64..1_000_000_000_000, currency in currency_strategy()) {
            let money = Money::from_minor(minor, currency);
            let text = money.to_string();
            let decimal = text.rsplit_once(' ').unwrap().0;
            prop_assert_eq!(Money::parse_decimal(decimal, currency).unwrap(), money);
        }

        #[test]
        fn parse_never_panics(text in "\\PC{0,24}") {
            let _ = Money::parse_decimal(&text, usd());
        }

        #[test]
        fn addition_is_exact(a in -1_000_000_000i64..1_000_000_000, b in -1_000_000_000i64..1_000_000_000) {
            let sum = Money::from_minor(a, usd()).checked_add(Money::from_minor(b, usd())).unwrap();
            prop_assert_eq!(sum.minor, a + b);
        }
    }
}
