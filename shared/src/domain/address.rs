//! Where a parcel goes: the customer's shipping address, checked once at the edge.

use super::ids::InvalidValue;
use serde::{Deserialize, Serialize};

/// ISO 3166-1 alpha-2 codes currently assigned.
pub(super) const COUNTRY_CODES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI \
BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ \
DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU \
GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA \
LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA \
NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB \
SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW \
TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// True when `code` is an assigned ISO 3166-1 alpha-2 country code.
pub fn is_country_code(code: &str) -> bool {
    super::listed::<2>(COUNTRY_CODES, code.as_bytes())
}

/// A shipping address with what a supplier needs to deliver: a name, a street line, a
/// city and a country; region, postcode, company and phone when the storefront has them.
/// The vendor API shows it as it is (`AddressJson` in the OpenAPI document): every field
/// here is one the supplier needs, so a field added here is one the vendor sees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = AddressJson))]
pub struct Address {
    pub name: String,
    pub company: Option<String>,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country_code: String,
    pub phone: Option<String>,
}

#[cfg(test)]
impl Address {
    /// Bob's address in Louisville: what the domain's unit tests ship to.
    pub(crate) fn example() -> Address {
        let parts = AddressParts {
            name: Some("Bob".into()),
            line1: Some("1 Main St".into()),
            city: Some("Louisville".into()),
            country_code: Some("US".into()),
            ..AddressParts::default()
        };
        Address::parse(parts).unwrap()
    }
}

/// The parts of an address as a storefront gives them, before checking.
#[derive(Debug, Default, Clone)]
pub struct AddressParts {
    pub name: Option<String>,
    pub company: Option<String>,
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country_code: Option<String>,
    pub phone: Option<String>,
}

fn present(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

impl Address {
    /// Checks the parts: name, first line, city and a valid country code are required.
    pub fn parse(parts: AddressParts) -> Result<Address, InvalidValue> {
        let required = |value: Option<String>, field: &'static str| present(value).ok_or_else(|| InvalidValue::new(field, "is required for shipping"));
        let country_code = required(parts.country_code, "shipping_address.country_code")?.to_ascii_uppercase();
        if !is_country_code(&country_code) {
            return Err(InvalidValue::new("shipping_address.country_code", format!("{country_code:?} is not an ISO 3166 country code")));
        }
        Ok(Address {
            name: required(parts.name, "shipping_address.name")?,
            company: present(parts.company),
            line1: required(parts.line1, "shipping_address.address1")?,
            line2: present(parts.line2),
            city: required(parts.city, "shipping_address.city")?,
            region: present(parts.region),
            postal_code: present(parts.postal_code),
            country_code,
            phone: present(parts.phone),
        })
    }

    /// The address as lines for a label or an email.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![self.name.clone()];
        lines.extend(self.company.clone());
        lines.push(self.line1.clone());
        lines.extend(self.line2.clone());
        let locality = [Some(self.city.clone()), self.region.clone(), self.postal_code.clone()].into_iter().flatten().collect::<Vec<_>>().join(" ");
        lines.push(locality);
        lines.push(self.country_code.clone());
        lines.extend(self.phone.as_ref().map(|p| format!("Phone: {p}")));
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts() -> AddressParts {
        AddressParts {
            name: Some("Bob Norman".into()),
            line1: Some("Chestnut Street 92".into()),
            line2: Some("".into()),
            city: Some("Louisville".into()),
            region: Some("KY".into()),
            postal_code: Some("40202".into()),
            country_code: Some("us".into()),
            ..AddressParts::default()
        }
    }

    #[test]
    fn a_complete_address_parses_and_drops_empty_parts() {
        let address = Address::parse(parts()).unwrap();
        assert_eq!(address.country_code, "US");
        assert_eq!(address.line2, None);
        assert_eq!(address.lines(), vec!["Bob Norman", "Chestnut Street 92", "Louisville KY 40202", "US"]);
    }

    #[test]
    fn missing_street_or_bad_country_is_refused() {
        let no_street = AddressParts { line1: Some("  ".into()), ..parts() };
        assert_eq!(Address::parse(no_street).unwrap_err().field, "shipping_address.address1");
        let bad_country = AddressParts { country_code: Some("XX".into()), ..parts() };
        assert!(Address::parse(bad_country).is_err());
    }
}
