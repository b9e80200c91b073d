//! Settings, read from the environment the same way in Lambda and locally. A missing or
//! malformed setting is one error line that names it.

use crate::domain::ids::Email;
use crate::domain::sla::SlaPolicy;
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// Everything the services are configured with.
#[derive(Debug, Clone)]
pub struct Config {
    pub store_name: String,
    pub sender_email: Email,
    pub operator_email: Email,
    /// Where customers' replies go (`SUPPORT_EMAIL`, the operator's address when unset):
    /// every customer mail carries it as its Reply-To, since its text invites a reply.
    pub support_email: Email,
    /// The public base of links in mail (`PUBLIC_BASE_URL`, e.g. the API's address):
    /// vendor mails link to their order's page of the dashboard under it. Unset, mail
    /// names the dashboard without a link.
    pub public_base_url: Option<String>,
    /// How long a line no vendor will send waits for the operator before its customer is
    /// told it will be refunded (`UNROUTABLE_NOTICE_HOURS`, default 48).
    pub unroutable_notice_hours: u32,
    /// Webhook signing secrets per source (`sources::SOURCES`, each from its
    /// `secret_variable`); several during a rotation, none in the functions that never
    /// verify a webhook.
    pub webhook_secrets: BTreeMap<&'static str, Vec<String>>,
    /// Per source, the only shops whose webhooks are taken (others get 401), from its
    /// `shops_variable` (`SHOPIFY_SHOP_DOMAINS`); absent takes any shop that signs.
    pub shop_allow_lists: BTreeMap<&'static str, Vec<String>>,
    pub sla: SlaPolicy,
    pub commission_bps: u32,
    /// `HOLDING_DAYS` (default 14): how long a delivered parcel's earnings are held.
    pub holding_days: u32,
    /// `PAYOUT_MINIMUM` ("EUR:50.00,USD:50.00"): the smallest payout per currency; a
    /// currency not named is paid any positive amount.
    pub payout_minimums: crate::domain::ledger::PayoutMinimums,
    /// `SES_MAX_SEND_RATE`: mails a second one notifier may send (default 7; two
    /// notifiers then stay under a new production account's 14). Decimals allowed (0.5
    /// for the SES sandbox's 1 a second).
    pub ses_max_send_rate: f64,
    /// `RETRY_FIRST_BACKOFF_SECONDS`: how long a message whose handling failed waits
    /// before its first retry (default 10); each later receive doubles it, up to 15
    /// minutes (`handlers::next_try`). Short in tests that inject faults.
    pub first_backoff_seconds: u32,
    /// `AFTERSHIP_API_KEY` (and `AFTERSHIP_API_URL`, default AfterShip's tracking API):
    /// when set, each shipped parcel is registered with AfterShip, which pushes only
    /// the trackings it knows.
    pub aftership: Option<AfterShipApi>,
}

/// Where and as whom shipped parcels are registered with AfterShip.
#[derive(Clone, PartialEq, Eq)]
pub struct AfterShipApi {
    /// The API's base, `.../tracking/<version>` (trackings are POSTed to `{url}/trackings`).
    pub url: String,
    pub api_key: String,
}

impl std::fmt::Debug for AfterShipApi {
    /// Never prints the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AfterShipApi").field("url", &self.url).finish_non_exhaustive()
    }
}

/// AfterShip's tracking API, at the version dropflow was written against.
pub const AFTERSHIP_API_URL: &str = "https://api.aftership.com/tracking/2026-07";

/// A setting that stops start-up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error("{name} is malformed: {reason}")]
    Malformed { name: &'static str, reason: String },
}

/// `text` as a base for links (`https://host[/path]`, no trailing slash), or `None` when
/// it is not one: anything else in a link would be the setting's text, not an address.
fn base_url(text: &str) -> Option<String> {
    let url = url::Url::parse(text).ok().filter(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some())?;
    (url.query().is_none() && url.fragment().is_none() && url.username().is_empty()).then(|| url.as_str().trim_end_matches('/').to_string())
}

/// A secret setting's values: one, or several separated by commas (during a rotation;
/// `shop=secret` pairs for the generic webhook). The same in a variable and in a vault.
pub fn secret_list(text: &str) -> Vec<String> {
    text.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
}

impl Config {
    /// Reads every setting through `lookup` (the environment in production); `fallback`
    /// supplies values for unset names (the local binary's development defaults).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>, fallback: impl Fn(&str) -> Option<&'static str>) -> Result<Config, ConfigError> {
        let get = |name: &'static str| -> Result<String, ConfigError> {
            lookup(name).filter(|v| !v.trim().is_empty()).or_else(|| fallback(name).map(str::to_string)).ok_or(ConfigError::Missing(name))
        };
        let number = |name: &'static str, default: u32| -> Result<u32, ConfigError> {
            match lookup(name).filter(|v| !v.trim().is_empty()) {
                None => Ok(default),
                Some(v) => v.trim().parse().map_err(|_| ConfigError::Malformed { name, reason: format!("{v:?} is not a whole number") }),
            }
        };
        let email =
            |name: &'static str| -> Result<Email, ConfigError> { Email::parse(&get(name)?).map_err(|e| ConfigError::Malformed { name, reason: e.reason }) };
        // Only the function that verifies webhooks is given the secrets (it requires them
        // at start-up, `lambda::run_webhooks`); without any, every webhook is a 401. A
        // secret that is set but blank is a mistake, never a cue to use a default.
        let list = secret_list;
        let mut webhook_secrets = BTreeMap::new();
        let mut shop_allow_lists = BTreeMap::new();
        for source in crate::sources::SOURCES {
            let name = source.secret_variable();
            let secrets = match lookup(name) {
                Some(set) if list(&set).is_empty() => {
                    return Err(ConfigError::Malformed { name, reason: "is set but blank: give the secret, or unset it".into() });
                }
                Some(set) => list(&set),
                None => fallback(name).map(list).unwrap_or_default(),
            };
            webhook_secrets.insert(source.name(), secrets);
            if let Some(shops) = source.shops_variable().and_then(&lookup).map(|v| list(&v.to_lowercase())) {
                shop_allow_lists.insert(source.name(), shops);
            }
        }
        let holidays = match lookup("SLA_HOLIDAYS").filter(|v| !v.trim().is_empty()) {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(|d| NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d"))
                .collect::<Result<_, _>>()
                .map_err(|e| ConfigError::Malformed { name: "SLA_HOLIDAYS", reason: format!("{e} (expected YYYY-MM-DD,...)") })?,
        };
        let defaults = SlaPolicy::default();
        let commission_bps = number("COMMISSION_BPS", 1_000)?;
        let (window, warning) =
            (number("SLA_REFUND_WINDOW_DAYS", defaults.refund_window_days as u32)?, number("SLA_REFUND_WARNING_DAYS", defaults.refund_warning_days as u32)?);
        if warning >= window {
            return Err(ConfigError::Malformed {
                name: "SLA_REFUND_WARNING_DAYS",
                reason: format!("{warning} must be less than SLA_REFUND_WINDOW_DAYS ({window}): the warning comes while a refund can still be asked for"),
            });
        }
        if commission_bps > 10_000 {
            return Err(ConfigError::Malformed { name: "COMMISSION_BPS", reason: "must be at most 10000 (100%)".into() });
        }
        let operator_email = email("OPERATOR_EMAIL")?;
        let support_email = match lookup("SUPPORT_EMAIL").filter(|v| !v.trim().is_empty()) {
            None => operator_email.clone(),
            Some(_) => email("SUPPORT_EMAIL")?,
        };
        let public_base_url = match lookup("PUBLIC_BASE_URL").or_else(|| fallback("PUBLIC_BASE_URL").map(str::to_string)).filter(|v| !v.trim().is_empty()) {
            None => None,
            Some(url) => Some(base_url(url.trim()).ok_or(ConfigError::Malformed {
                name: "PUBLIC_BASE_URL",
                reason: format!("{url:?} is not an http(s) address without a query (e.g. https://api.example.com)"),
            })?),
        };
        Ok(Config {
            store_name: get("STORE_NAME")?,
            sender_email: email("SENDER_EMAIL")?,
            operator_email,
            support_email,
            public_base_url,
            unroutable_notice_hours: number("UNROUTABLE_NOTICE_HOURS", 48)?,
            webhook_secrets,
            shop_allow_lists,
            sla: SlaPolicy {
                place_with_supplier_hours: i64::from(number("SLA_PLACE_WITH_SUPPLIER_HOURS", defaults.place_with_supplier_hours as u32)?),
                place_reminder_hours: i64::from(number("SLA_PLACE_REMINDER_HOURS", defaults.place_reminder_hours as u32)?),
                ship_business_days: number("SLA_SHIP_BUSINESS_DAYS", defaults.ship_business_days)?,
                tracking_stale_business_days: number("SLA_TRACKING_STALE_BUSINESS_DAYS", defaults.tracking_stale_business_days)?,
                delivery_promise_days: i64::from(number("SLA_DELIVERY_PROMISE_DAYS", defaults.delivery_promise_days as u32)?),
                refund_window_days: i64::from(window),
                refund_warning_days: i64::from(warning),
                dispute_opens_days: i64::from(number("SLA_DISPUTE_OPENS_DAYS", defaults.dispute_opens_days as u32)?),
                holidays,
                timezone: match lookup("SLA_TIMEZONE").filter(|v| !v.trim().is_empty()) {
                    None => defaults.timezone,
                    Some(name) => name.trim().parse().map_err(|_| ConfigError::Malformed {
                        name: "SLA_TIMEZONE",
                        reason: format!("{name:?} is not an IANA time zone (e.g. Europe/Berlin)"),
                    })?,
                },
                retention_days: number("RETENTION_DAYS", defaults.retention_days)?,
                escalation_repeat_hours: number("SLA_ESCALATION_REPEAT_HOURS", defaults.escalation_repeat_hours)?,
                // Unset (or blank, as the template passes it) never cancels.
                auto_cancel_hours: match lookup("SLA_AUTO_CANCEL_HOURS").filter(|v| !v.trim().is_empty()) {
                    None => None,
                    Some(_) => Some(number("SLA_AUTO_CANCEL_HOURS", 0)?),
                },
            },
            commission_bps,
            holding_days: number("HOLDING_DAYS", 14)?,
            payout_minimums: crate::domain::ledger::PayoutMinimums::parse(&lookup("PAYOUT_MINIMUM").unwrap_or_default())
                .map_err(|reason| ConfigError::Malformed { name: "PAYOUT_MINIMUM", reason: format!("{reason} (expected e.g. EUR:50.00,USD:50.00)") })?,
            aftership: lookup("AFTERSHIP_API_KEY").map(|k| k.trim().to_string()).filter(|k| !k.is_empty()).map(|api_key| AfterShipApi {
                url: lookup("AFTERSHIP_API_URL")
                    .map(|u| u.trim().trim_end_matches('/').to_string())
                    .filter(|u| !u.is_empty())
                    .unwrap_or_else(|| AFTERSHIP_API_URL.to_string()),
                api_key,
            }),
            first_backoff_seconds: match number("RETRY_FIRST_BACKOFF_SECONDS", 10)? {
                0 => return Err(ConfigError::Malformed { name: "RETRY_FIRST_BACKOFF_SECONDS", reason: "must be at least 1".into() }),
                seconds => seconds.min(900),
            },
            ses_max_send_rate: match lookup("SES_MAX_SEND_RATE").filter(|v| !v.trim().is_empty()) {
                None => 7.0,
                Some(v) => v.trim().parse::<f64>().ok().filter(|r| r.is_finite() && *r > 0.0 && *r <= 1_000.0).ok_or(ConfigError::Malformed {
                    name: "SES_MAX_SEND_RATE",
                    reason: format!("{v:?} is not a rate of mails a second (more than 0, at most 1000)"),
                })?,
            },
        })
    }

    /// Each source's configured secrets as one value (comma-separated), for a vault
    /// (`dropflow aws bootstrap` stores them); sources without any are left out.
    pub fn webhook_secret_values(&self) -> Vec<(&'static str, String)> {
        self.webhook_secrets.iter().filter(|(_, secrets)| !secrets.is_empty()).map(|(source, secrets)| (*source, secrets.join(","))).collect()
    }

    /// The signing secrets of the source named `source` (none when it has none).
    pub fn secrets(&self, source: &str) -> &[String] {
        self.webhook_secrets.get(source).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Reads the process environment with no fallback (what a Lambda function does).
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok(), |_| None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| map.get(name).cloned()
    }

    const BASE: &[(&str, &str)] =
        &[("STORE_NAME", "Shop"), ("SENDER_EMAIL", "orders@shop.example"), ("OPERATOR_EMAIL", "ops@shop.example"), ("SHOPIFY_WEBHOOK_SECRET", "old, new")];

    #[test]
    fn reads_settings_and_defaults_the_policy() {
        let config = Config::from_lookup(env(BASE), |_| None).unwrap();
        assert_eq!(config.secrets("shopify"), ["old", "new"]);
        assert_eq!(config.sla, SlaPolicy::default());
        assert_eq!(config.commission_bps, 1_000);
    }

    #[test]
    fn a_function_without_webhook_secrets_has_none() {
        let config = Config::from_lookup(env(&BASE[..3]), |_| None).unwrap();
        assert!(config.secrets("shopify").is_empty());
    }

    #[test]
    fn a_blank_secret_is_refused_not_replaced_by_the_default() {
        let mut blank = BASE[..3].to_vec();
        blank.push(("SHOPIFY_WEBHOOK_SECRET", " , "));
        let error = Config::from_lookup(env(&blank), |name| (name == "SHOPIFY_WEBHOOK_SECRET").then_some("public-default")).unwrap_err();
        assert!(error.to_string().starts_with("SHOPIFY_WEBHOOK_SECRET is malformed"), "{error}");
        let unset = Config::from_lookup(env(&BASE[..3]), |name| (name == "SHOPIFY_WEBHOOK_SECRET").then_some("public-default")).unwrap();
        assert_eq!(unset.secrets("shopify"), ["public-default"]);
    }

    #[test]
    fn a_missing_or_malformed_setting_is_named() {
        let missing = Config::from_lookup(env(&BASE[1..]), |_| None).unwrap_err();
        assert_eq!(missing.to_string(), "STORE_NAME is not set");
        let mut bad = BASE.to_vec();
        bad.push(("SLA_SHIP_BUSINESS_DAYS", "five"));
        let malformed = Config::from_lookup(env(&bad), |_| None).unwrap_err();
        assert!(malformed.to_string().starts_with("SLA_SHIP_BUSINESS_DAYS is malformed"), "{malformed}");
    }

    #[test]
    fn replies_go_to_the_operator_unless_a_support_address_is_set() {
        let config = Config::from_lookup(env(BASE), |_| None).unwrap();
        assert_eq!(config.support_email.as_str(), "ops@shop.example");
        let mut with = BASE.to_vec();
        with.push(("SUPPORT_EMAIL", "help@shop.example"));
        assert_eq!(Config::from_lookup(env(&with), |_| None).unwrap().support_email.as_str(), "help@shop.example");
        for bad in ["not an address", "help@shop.example\r\nBcc: x@y.example"] {
            let bad = BASE.iter().copied().chain([("SUPPORT_EMAIL", bad)]).collect::<Vec<_>>();
            assert!(Config::from_lookup(env(&bad), |_| None).unwrap_err().to_string().starts_with("SUPPORT_EMAIL is malformed"));
        }
    }

    #[test]
    fn the_public_base_url_is_an_address_or_refused() {
        let with = |url: &'static str| Config::from_lookup(env(&BASE.iter().copied().chain([("PUBLIC_BASE_URL", url)]).collect::<Vec<_>>()), |_| None);
        assert_eq!(with("https://api.shop.example/").unwrap().public_base_url.as_deref(), Some("https://api.shop.example"));
        assert_eq!(with("https://x.example/prod").unwrap().public_base_url.as_deref(), Some("https://x.example/prod"));
        assert_eq!(Config::from_lookup(env(BASE), |_| None).unwrap().public_base_url, None);
        for bad in ["javascript:alert(1)", "api.shop.example", "https://x.example/?a=1", "ftp://x.example"] {
            assert!(with(bad).unwrap_err().to_string().starts_with("PUBLIC_BASE_URL is malformed"), "{bad}");
        }
    }
}
