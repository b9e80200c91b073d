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
    pub commission_bps: crate::domain::money::CommissionBps,
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
    /// Writing shipped parcels back to Shopify (`SHOPIFY_ADMIN_TOKENS`,
    /// `SHOPIFY_ADMIN_ENDPOINT`, `SHOPIFY_NOTIFY_CUSTOMER`).
    pub shopify_admin: ShopifyAdmin,
    /// Writing shipped parcels back to WooCommerce sites (`WOOCOMMERCE_API_KEYS`,
    /// `WOOCOMMERCE_NOTIFY_CUSTOMER`).
    pub woocommerce_api: WooCommerceApi,
    /// `RECONCILE_LOOKBACK_HOURS`: how far back the reconciliation poll reads a shop it
    /// has never read (default 168, a week).
    pub reconcile_lookback_hours: i64,
    /// How long a storefront write-back's claim holds before another delivery may take
    /// the parcel over (`WRITEBACK_LEASE_SECONDS`, 30; the local process uses 10, so a
    /// killed `serve` resumes its write-backs promptly). At least the write's worst
    /// case: its calls are each cut off after 8 seconds.
    pub writeback_lease_seconds: u32,
    /// The keys of the customers' order-status links (`STATUS_LINK_KEYS`, `id:secret`
    /// pairs, newest first); none: mail carries no status link (the local process
    /// makes and keeps a key of its own).
    pub status_keys: Option<crate::domain::status_link::StatusKeys>,
    /// How many days after an order's last delivery its status link still opens
    /// (`STATUS_LINK_DAYS`, 90).
    pub status_link_days: u32,
    /// Whether the status page names each part's seller (`STATUS_SHOW_SELLERS=true`):
    /// off by default, the marketplace's split being its own business.
    pub status_shows_sellers: bool,
    /// Placing and following supplier orders through the suppliers' APIs.
    pub suppliers: SupplierSettings,
    /// `EMAIL_LOOKUP_KEY`: the key of the hash an order is found by its customer's email
    /// (`EMAIL#{keyed hash}`), so that the table holds no address in a key and a leaked
    /// table cannot be searched by address without it; the store name stands in.
    pub email_lookup_key: String,
    /// The vendor scorecards' windows and targets (`SCORECARD_WINDOWS`,
    /// `SCORECARD_TARGETS`: `measure=value` pairs over the defaults).
    pub scorecard: crate::domain::scorecard::ScorecardPolicy,
    /// `SCORECARD_HOLD_FAILING=true`: a vendor whose measure turns failing is held for
    /// review (its new orders wait until the operator releases it). Off by default.
    pub hold_failing: bool,
}

/// How dropflow reaches the suppliers' APIs and keeps their clocks.
#[derive(Clone, PartialEq, Eq)]
pub struct SupplierSettings {
    /// The marketplace's AliExpress app (`ALIEXPRESS_APP_KEY`, `ALIEXPRESS_APP_SECRET`):
    /// without it, no AliExpress account can be connected.
    pub aliexpress_app: Option<(String, String)>,
    /// `ALIEXPRESS_API_URL` (default `https://api-sg.aliexpress.com`).
    pub aliexpress_url: String,
    /// `CJ_API_URL` (default `https://developers.cjdropshipping.com/api2.0/v1`).
    pub cj_url: String,
    /// `SUPPLIER_TIMEOUT_SECONDS` (10): each supplier call is given up after it.
    pub timeout_seconds: u32,
    /// `SUPPLIER_POLL_MINUTES` (60): how often a placed, unshipped supplier order is read
    /// back when no push arrives.
    pub poll_minutes: u32,
    /// `SUPPLIER_PAY_TIMEOUT_HOURS` (20): how long a supplier order may wait for the
    /// vendor's payment before it goes back to the vendor (suppliers close unpaid
    /// orders; AliExpress reportedly after 24 hours).
    pub pay_timeout_hours: u32,
    /// `SUPPLIER_CHECK_COUNTRY` (US): where a new supplier link's shipping method must
    /// be offered to (the marketplace's main market); each order's own country is the
    /// supplier's to check when it is placed.
    pub check_country: String,
    /// `SUPPLIER_CREDENTIALS_KEY`: the local key sealing supplier credentials (base64
    /// of 32 bytes); on AWS the KMS key `SUPPLIER_CREDENTIALS_KMS_KEY` seals them.
    pub credentials_key: Option<String>,
    /// `SUPPLIER_CREDENTIALS_KMS_KEY`: the KMS key (id, ARN or alias) on AWS.
    pub kms_key: Option<String>,
    /// `SUPPLIER_HOOK_KEY`: the key of the hash a CJ push's `openId` is looked up by
    /// (so the table never holds an `openId` in the clear); the store name stands in.
    pub hook_key: String,
}

impl std::fmt::Debug for SupplierSettings {
    /// Never prints a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SupplierSettings")
            .field("aliexpress_app", &self.aliexpress_app.as_ref().map(|(key, _)| key))
            .field("aliexpress_url", &self.aliexpress_url)
            .field("cj_url", &self.cj_url)
            .field("poll_minutes", &self.poll_minutes)
            .finish_non_exhaustive()
    }
}

/// The WooCommerce sites shipped parcels are written back to, and as whom.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct WooCommerceApi {
    /// Per site (its host as orders are filed under it, lower case, with a port when it
    /// has one), the site's base URL and its REST API key
    /// (`https://shop.example=ck_…:cs_…,…`): orders of a site not named here are not
    /// written back.
    pub sites: BTreeMap<String, WooSite>,
    /// `WOOCOMMERCE_NOTIFY_CUSTOMER=shop`: the site's notes are customer notes (the
    /// site mails them) and dropflow sends no shipped mail of its own for its orders;
    /// `dropflow` (the default): private notes, dropflow mails. Never both.
    pub shop_notifies: bool,
}

/// One WooCommerce site's REST API: where, and its consumer key and secret.
#[derive(Clone, PartialEq, Eq)]
pub struct WooSite {
    /// `scheme://host[:port]`, no trailing slash: the REST API is under `/wp-json/`.
    pub base: String,
    pub consumer_key: String,
    pub consumer_secret: String,
}

impl std::fmt::Debug for WooCommerceApi {
    /// Never prints a key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sites: Vec<&str> = self.sites.values().map(|s| s.base.as_str()).collect();
        f.debug_struct("WooCommerceApi").field("sites", &sites).field("shop_notifies", &self.shop_notifies).finish()
    }
}

/// Where and as whom shipped parcels are written back to Shopify's Admin API.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct ShopifyAdmin {
    /// The GraphQL endpoint, `{shop}` standing for the shop's domain (default
    /// `https://{shop}/admin/api/2026-10/graphql.json`; a stand-in in tests).
    pub endpoint: String,
    /// Per shop domain, its Admin API access token (`shop.myshopify.com=shpat_…,…`):
    /// orders of a shop not named here are not written back.
    pub tokens: BTreeMap<String, String>,
    /// `SHOPIFY_NOTIFY_CUSTOMER=shop`: the shop mails the customer of each fulfillment
    /// and dropflow sends no shipped mail of its own for its orders; `dropflow` (the
    /// default) the other way round. Never both.
    pub shop_notifies: bool,
}

impl std::fmt::Debug for ShopifyAdmin {
    /// Never prints a token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShopifyAdmin")
            .field("endpoint", &self.endpoint)
            .field("shops", &self.tokens.keys())
            .field("shop_notifies", &self.shop_notifies)
            .finish()
    }
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

/// The settings as `Config::from_lookup` reads them: a name's value (blank is unset),
/// else its fallback, each parsed or refused with the name and why.
struct Settings<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
    fallback: &'a dyn Fn(&str) -> Option<&'static str>,
}

impl Settings<'_> {
    /// The value of `name`, when it is set and not blank.
    fn set(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|v| !v.trim().is_empty())
    }

    /// The value of `name`, or its fallback; an error when it has neither.
    fn get(&self, name: &'static str) -> Result<String, ConfigError> {
        self.set(name).or_else(|| (self.fallback)(name).map(str::to_string)).ok_or(ConfigError::Missing(name))
    }

    /// A whole number, `default` when unset.
    fn number(&self, name: &'static str, default: u32) -> Result<u32, ConfigError> {
        match self.set(name) {
            None => Ok(default),
            Some(v) => v.trim().parse().map_err(|_| ConfigError::Malformed { name, reason: format!("{v:?} is not a whole number") }),
        }
    }

    /// `SHOPIFY_ADMIN_TOKENS`, `SHOPIFY_ADMIN_ENDPOINT` and `SHOPIFY_NOTIFY_CUSTOMER`.
    fn shopify_admin(&self) -> Result<ShopifyAdmin, ConfigError> {
        let name = "SHOPIFY_ADMIN_TOKENS";
        let mut tokens = BTreeMap::new();
        for pair in secret_list(&self.set(name).unwrap_or_default()) {
            let (shop, token) =
                pair.split_once('=').ok_or_else(|| ConfigError::Malformed { name, reason: "expected shop.myshopify.com=token pairs".into() })?;
            let shop = shop.trim().to_ascii_lowercase();
            if shop.is_empty() || token.trim().is_empty() || !shop.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-') {
                return Err(ConfigError::Malformed { name, reason: format!("{shop:?} is not a shop domain with a token") });
            }
            tokens.insert(shop, token.trim().to_string());
        }
        let endpoint = self.set("SHOPIFY_ADMIN_ENDPOINT").unwrap_or_else(|| crate::sources::shopify::admin::DEFAULT_ENDPOINT.to_string());
        if !endpoint.contains("{shop}") && tokens.len() > 1 {
            return Err(ConfigError::Malformed { name: "SHOPIFY_ADMIN_ENDPOINT", reason: "must contain {shop} when several shops have tokens".into() });
        }
        Ok(ShopifyAdmin { endpoint, tokens, shop_notifies: self.shop_notifies("SHOPIFY_NOTIFY_CUSTOMER")? })
    }

    /// Who mails the customer of a storefront's shipments: `dropflow` (the default) or
    /// `shop`.
    fn shop_notifies(&self, name: &'static str) -> Result<bool, ConfigError> {
        match self.set(name).as_deref().map(str::trim) {
            None | Some("dropflow") => Ok(false),
            Some("shop") => Ok(true),
            Some(other) => Err(ConfigError::Malformed { name, reason: format!("{other:?} is neither dropflow nor shop") }),
        }
    }

    /// `WOOCOMMERCE_API_KEYS` (`https://shop.example=ck_…:cs_…,…`) and
    /// `WOOCOMMERCE_NOTIFY_CUSTOMER`. A site is an http(s) URL with nothing after its
    /// host and port; it is matched to orders by its host in lower case.
    fn woocommerce_api(&self) -> Result<WooCommerceApi, ConfigError> {
        let name = "WOOCOMMERCE_API_KEYS";
        let malformed = |reason: String| ConfigError::Malformed { name, reason };
        let mut sites = BTreeMap::new();
        for pair in secret_list(&self.set(name).unwrap_or_default()) {
            let (site, keys) = pair.split_once('=').ok_or_else(|| malformed("expected https://site=ck_…:cs_… pairs".into()))?;
            let (key, secret) = keys.split_once(':').ok_or_else(|| malformed(format!("the key of {site} is not ck_…:cs_…")))?;
            let site = site.trim().trim_end_matches('/');
            let (scheme, host) = site.split_once("://").ok_or_else(|| malformed(format!("{site:?} is not an http(s) URL")))?;
            let host = host.to_ascii_lowercase();
            let plain_host = !host.is_empty() && host.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
            if !matches!(scheme, "http" | "https") || !plain_host || key.trim().is_empty() || secret.trim().is_empty() {
                return Err(malformed(format!("{site:?} is not a site URL with a consumer key and secret")));
            }
            let base = format!("{scheme}://{host}");
            sites.insert(host, WooSite { base, consumer_key: key.trim().to_string(), consumer_secret: secret.trim().to_string() });
        }
        Ok(WooCommerceApi { sites, shop_notifies: self.shop_notifies("WOOCOMMERCE_NOTIFY_CUSTOMER")? })
    }

    /// A number of days or hours that `SlaPolicy` holds as an i64.
    fn span(&self, name: &'static str, default: i64) -> Result<i64, ConfigError> {
        self.number(name, u32::try_from(default).unwrap_or(u32::MAX)).map(i64::from)
    }

    /// An email address (or its fallback).
    fn email(&self, name: &'static str) -> Result<Email, ConfigError> {
        Email::parse(&self.get(name)?).map_err(|e| ConfigError::Malformed { name, reason: e.reason })
    }

    /// Each source's signing secrets, and the shops each source accepts (when limited).
    /// Only the function that verifies webhooks is given the secrets (it requires them
    /// at start-up, `lambda::run_webhooks`); without any, every webhook is a 401. A
    /// secret that is set but blank is a mistake, never a cue to use a default.
    #[allow(clippy::type_complexity)]
    fn webhook_secrets(&self) -> Result<(BTreeMap<&'static str, Vec<String>>, BTreeMap<&'static str, Vec<String>>), ConfigError> {
        let mut webhook_secrets = BTreeMap::new();
        let mut shop_allow_lists = BTreeMap::new();
        for source in crate::sources::SOURCES {
            let name = source.secret_variable();
            let secrets = match (self.lookup)(name) {
                Some(set) if secret_list(&set).is_empty() => {
                    return Err(ConfigError::Malformed { name, reason: "is set but blank: give the secret, or unset it".into() });
                }
                Some(set) => secret_list(&set),
                None => (self.fallback)(name).map(secret_list).unwrap_or_default(),
            };
            webhook_secrets.insert(source.name(), secrets);
            if let Some(shops) = source.shops_variable().and_then(self.lookup).map(|v| secret_list(&v.to_lowercase())) {
                shop_allow_lists.insert(source.name(), shops);
            }
        }
        Ok((webhook_secrets, shop_allow_lists))
    }

    /// The SLA policy: every clock's length, the calendar it counts business days on,
    /// and how long personal data is kept.
    fn sla(&self) -> Result<SlaPolicy, ConfigError> {
        let defaults = SlaPolicy::default();
        let holidays = match self.set("SLA_HOLIDAYS") {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(|d| NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d"))
                .collect::<Result<_, _>>()
                .map_err(|e| ConfigError::Malformed { name: "SLA_HOLIDAYS", reason: format!("{e} (expected YYYY-MM-DD,...)") })?,
        };
        let (window, warning) =
            (self.span("SLA_REFUND_WINDOW_DAYS", defaults.refund_window_days)?, self.span("SLA_REFUND_WARNING_DAYS", defaults.refund_warning_days)?);
        if warning >= window {
            return Err(ConfigError::Malformed {
                name: "SLA_REFUND_WARNING_DAYS",
                reason: format!("{warning} must be less than SLA_REFUND_WINDOW_DAYS ({window}): the warning comes while a refund can still be asked for"),
            });
        }
        let timezone = match self.set("SLA_TIMEZONE") {
            None => defaults.timezone,
            Some(name) => name
                .trim()
                .parse()
                .map_err(|_| ConfigError::Malformed { name: "SLA_TIMEZONE", reason: format!("{name:?} is not an IANA time zone (e.g. Europe/Berlin)") })?,
        };
        Ok(SlaPolicy {
            place_with_supplier_hours: self.span("SLA_PLACE_WITH_SUPPLIER_HOURS", defaults.place_with_supplier_hours)?,
            place_reminder_hours: self.span("SLA_PLACE_REMINDER_HOURS", defaults.place_reminder_hours)?,
            ship_business_days: self.number("SLA_SHIP_BUSINESS_DAYS", defaults.ship_business_days)?,
            tracking_stale_business_days: self.number("SLA_TRACKING_STALE_BUSINESS_DAYS", defaults.tracking_stale_business_days)?,
            delivery_promise_days: self.span("SLA_DELIVERY_PROMISE_DAYS", defaults.delivery_promise_days)?,
            refund_window_days: window,
            refund_warning_days: warning,
            dispute_opens_days: self.span("SLA_DISPUTE_OPENS_DAYS", defaults.dispute_opens_days)?,
            holidays,
            timezone,
            retention_days: self.number("RETENTION_DAYS", defaults.retention_days)?,
            escalation_repeat_hours: self.number("SLA_ESCALATION_REPEAT_HOURS", defaults.escalation_repeat_hours)?,
            // Unset (or blank, as the template passes it) never cancels.
            auto_cancel_hours: self.set("SLA_AUTO_CANCEL_HOURS").map(|_| self.number("SLA_AUTO_CANCEL_HOURS", 0)).transpose()?,
        })
    }

    /// Where links in mail point: an http(s) base without a query, when set.
    fn public_base_url(&self) -> Result<Option<String>, ConfigError> {
        // Set but blank is unset, with no fallback (the template passes it blank).
        let Some(url) = (self.lookup)("PUBLIC_BASE_URL").or_else(|| (self.fallback)("PUBLIC_BASE_URL").map(str::to_string)).filter(|v| !v.trim().is_empty())
        else {
            return Ok(None);
        };
        let reason = format!("{url:?} is not an http(s) address without a query (e.g. https://api.example.com)");
        base_url(url.trim()).map(Some).ok_or(ConfigError::Malformed { name: "PUBLIC_BASE_URL", reason })
    }

    /// The supplier APIs' settings.
    fn suppliers(&self) -> Result<SupplierSettings, ConfigError> {
        let url = |name: &'static str, default: &str| match self.set(name) {
            None => Ok(default.to_string()),
            Some(text) => base_url(text.trim()).ok_or(ConfigError::Malformed { name, reason: format!("{text:?} is not an http(s) base URL") }),
        };
        let aliexpress_app = match (self.set("ALIEXPRESS_APP_KEY"), self.set("ALIEXPRESS_APP_SECRET")) {
            (Some(key), Some(secret)) => Some((key.trim().to_string(), secret.trim().to_string())),
            (None, None) => None,
            (Some(_), None) => return Err(ConfigError::Missing("ALIEXPRESS_APP_SECRET")),
            (None, Some(_)) => return Err(ConfigError::Missing("ALIEXPRESS_APP_KEY")),
        };
        let at_least_one = |name: &'static str, default: u32| match self.number(name, default)? {
            0 => Err(ConfigError::Malformed { name, reason: "must be at least 1".into() }),
            n => Ok(n),
        };
        Ok(SupplierSettings {
            aliexpress_app,
            aliexpress_url: url("ALIEXPRESS_API_URL", crate::suppliers::aliexpress::DEFAULT_API_URL)?,
            cj_url: url("CJ_API_URL", crate::suppliers::cj::DEFAULT_API_URL)?,
            timeout_seconds: at_least_one("SUPPLIER_TIMEOUT_SECONDS", 10)?.min(60),
            poll_minutes: at_least_one("SUPPLIER_POLL_MINUTES", 60)?,
            pay_timeout_hours: at_least_one("SUPPLIER_PAY_TIMEOUT_HOURS", 20)?,
            check_country: match self.set("SUPPLIER_CHECK_COUNTRY").map(|c| c.trim().to_ascii_uppercase()) {
                None => "US".into(),
                Some(code) if crate::domain::address::is_country_code(&code) => code,
                Some(code) => {
                    return Err(ConfigError::Malformed { name: "SUPPLIER_CHECK_COUNTRY", reason: format!("{code:?} is not an ISO 3166 country code") });
                }
            },
            credentials_key: self.set("SUPPLIER_CREDENTIALS_KEY").map(|k| k.trim().to_string()),
            kms_key: self.set("SUPPLIER_CREDENTIALS_KMS_KEY").map(|k| k.trim().to_string()),
            hook_key: self.set("SUPPLIER_HOOK_KEY").unwrap_or_else(|| self.set("STORE_NAME").unwrap_or_default()),
        })
    }

    /// How fast SES may be sent to (mails a second).
    fn ses_max_send_rate(&self) -> Result<f64, ConfigError> {
        let Some(v) = self.set("SES_MAX_SEND_RATE") else { return Ok(7.0) };
        v.trim()
            .parse::<f64>()
            .ok()
            .filter(|r| r.is_finite() && *r > 0.0 && *r <= 1_000.0)
            .ok_or(ConfigError::Malformed { name: "SES_MAX_SEND_RATE", reason: format!("{v:?} is not a rate of mails a second (more than 0, at most 1000)") })
    }
}

impl Config {
    /// Reads every setting through `lookup` (the environment in production); `fallback`
    /// supplies values for unset names (the local binary's development defaults).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>, fallback: impl Fn(&str) -> Option<&'static str>) -> Result<Config, ConfigError> {
        let settings = Settings { lookup: &lookup, fallback: &fallback };
        let (webhook_secrets, shop_allow_lists) = settings.webhook_secrets()?;
        let commission_bps = crate::domain::money::CommissionBps::new(settings.number("COMMISSION_BPS", 1_000)?)
            .map_err(|e| ConfigError::Malformed { name: "COMMISSION_BPS", reason: e.to_string() })?;
        let operator_email = settings.email("OPERATOR_EMAIL")?;
        let support_email = match settings.set("SUPPORT_EMAIL") {
            None => operator_email.clone(),
            Some(_) => settings.email("SUPPORT_EMAIL")?,
        };
        Ok(Config {
            store_name: settings.get("STORE_NAME")?,
            sender_email: settings.email("SENDER_EMAIL")?,
            operator_email,
            support_email,
            public_base_url: settings.public_base_url()?,
            unroutable_notice_hours: settings.number("UNROUTABLE_NOTICE_HOURS", 48)?,
            webhook_secrets,
            shop_allow_lists,
            sla: settings.sla()?,
            commission_bps,
            holding_days: settings.number("HOLDING_DAYS", 14)?,
            payout_minimums: crate::domain::ledger::PayoutMinimums::parse(&lookup("PAYOUT_MINIMUM").unwrap_or_default())
                .map_err(|reason| ConfigError::Malformed { name: "PAYOUT_MINIMUM", reason: format!("{reason} (expected e.g. EUR:50.00,USD:50.00)") })?,
            aftership: settings.set("AFTERSHIP_API_KEY").map(|api_key| AfterShipApi {
                url: settings.set("AFTERSHIP_API_URL").map(|u| u.trim().trim_end_matches('/').to_string()).unwrap_or_else(|| AFTERSHIP_API_URL.to_string()),
                api_key: api_key.trim().to_string(),
            }),
            first_backoff_seconds: match settings.number("RETRY_FIRST_BACKOFF_SECONDS", 10)? {
                0 => return Err(ConfigError::Malformed { name: "RETRY_FIRST_BACKOFF_SECONDS", reason: "must be at least 1".into() }),
                seconds => seconds.min(900),
            },
            ses_max_send_rate: settings.ses_max_send_rate()?,
            shopify_admin: settings.shopify_admin()?,
            woocommerce_api: settings.woocommerce_api()?,
            reconcile_lookback_hours: settings.span("RECONCILE_LOOKBACK_HOURS", 168)?,
            writeback_lease_seconds: match settings.get("WRITEBACK_LEASE_SECONDS").ok().map(|v| v.trim().parse::<u32>()) {
                None => 30,
                Some(Ok(seconds @ 10..=900)) => seconds,
                Some(_) => {
                    return Err(ConfigError::Malformed { name: "WRITEBACK_LEASE_SECONDS", reason: "must be a whole number of seconds from 10 to 900".into() });
                }
            },
            status_keys: match settings.set("STATUS_LINK_KEYS") {
                None => None,
                Some(text) => {
                    Some(crate::domain::status_link::StatusKeys::parse(&text).map_err(|reason| ConfigError::Malformed { name: "STATUS_LINK_KEYS", reason })?)
                }
            },
            status_shows_sellers: match settings.set("STATUS_SHOW_SELLERS").map(|v| v.trim().to_ascii_lowercase()).as_deref() {
                None | Some("false") => false,
                Some("true") => true,
                Some(other) => return Err(ConfigError::Malformed { name: "STATUS_SHOW_SELLERS", reason: format!("{other:?} is not true or false") }),
            },
            status_link_days: match settings.number("STATUS_LINK_DAYS", 90)? {
                0 => return Err(ConfigError::Malformed { name: "STATUS_LINK_DAYS", reason: "must be at least 1".into() }),
                days => days,
            },
            suppliers: settings.suppliers()?,
            email_lookup_key: settings.set("EMAIL_LOOKUP_KEY").unwrap_or_else(|| settings.set("STORE_NAME").unwrap_or_default()),
            scorecard: crate::domain::scorecard::ScorecardPolicy::parse(
                &settings.set("SCORECARD_WINDOWS").unwrap_or_default(),
                &settings.set("SCORECARD_TARGETS").unwrap_or_default(),
            )
            .map_err(|reason| ConfigError::Malformed { name: "SCORECARD_WINDOWS/SCORECARD_TARGETS", reason })?,
            hold_failing: match settings.set("SCORECARD_HOLD_FAILING").map(|v| v.trim().to_ascii_lowercase()).as_deref() {
                None | Some("false") => false,
                Some("true") => true,
                Some(other) => return Err(ConfigError::Malformed { name: "SCORECARD_HOLD_FAILING", reason: format!("{other:?} is not true or false") }),
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
    fn a_write_backs_lease_is_thirty_seconds_unless_set_and_never_shorter_than_its_calls() {
        assert_eq!(Config::from_lookup(env(BASE), |_| None).unwrap().writeback_lease_seconds, 30);
        let local = |name: &str| (name == "WRITEBACK_LEASE_SECONDS").then_some("10");
        assert_eq!(Config::from_lookup(env(BASE), local).unwrap().writeback_lease_seconds, 10);
        for odd in ["9", "901", "ten", "-1"] {
            let settings = [BASE, &[("WRITEBACK_LEASE_SECONDS", odd)]].concat();
            assert!(Config::from_lookup(env(&settings), |_| None).is_err(), "{odd}");
        }
        // The status page's seller switch is off unless said, and only true or false.
        assert!(!Config::from_lookup(env(BASE), |_| None).unwrap().status_shows_sellers);
        let shown = [BASE, &[("STATUS_SHOW_SELLERS", " True ")]].concat();
        assert!(Config::from_lookup(env(&shown), |_| None).unwrap().status_shows_sellers);
        assert!(Config::from_lookup(env(&[BASE, &[("STATUS_SHOW_SELLERS", "yes")]].concat()), |_| None).is_err());
    }

    #[test]
    fn reads_settings_and_defaults_the_policy() {
        let config = Config::from_lookup(env(BASE), |_| None).unwrap();
        assert_eq!(config.secrets("shopify"), ["old", "new"]);
        assert_eq!(config.sla, SlaPolicy::default());
        assert_eq!(config.commission_bps.get(), 1_000);
    }

    #[test]
    fn shopify_admin_tokens_are_read_per_shop_and_never_printed() {
        let mut with = BASE.to_vec();
        with.push(("SHOPIFY_ADMIN_TOKENS", "Lumen.myshopify.com=shpat_one, other.myshopify.com=shpat_two"));
        let admin = Config::from_lookup(env(&with), |_| None).unwrap().shopify_admin;
        assert_eq!(admin.tokens.get("lumen.myshopify.com").map(String::as_str), Some("shpat_one"));
        assert_eq!((admin.endpoint.as_str(), admin.shop_notifies), ("https://{shop}/admin/api/2026-10/graphql.json", false));
        assert!(!format!("{admin:?}").contains("shpat_"), "{admin:?}");
        for (name, bad) in [("SHOPIFY_ADMIN_TOKENS", "lumen.myshopify.com"), ("SHOPIFY_ADMIN_TOKENS", "a b=c"), ("SHOPIFY_NOTIFY_CUSTOMER", "both")] {
            let mut wrong = BASE.to_vec();
            wrong.push((name, bad));
            let error = Config::from_lookup(env(&wrong), |_| None).unwrap_err().to_string();
            assert!(error.starts_with(&format!("{name} is malformed")) && !error.contains("shpat"), "{error}");
        }
    }

    #[test]
    fn woocommerce_keys_are_read_per_site_by_host_and_never_printed() {
        let mut with = BASE.to_vec();
        with.push(("WOOCOMMERCE_API_KEYS", "https://Shop.Example/=ck_one:cs_one, http://127.0.0.1:8080=ck_two:cs_two"));
        with.push(("WOOCOMMERCE_NOTIFY_CUSTOMER", "shop"));
        let api = Config::from_lookup(env(&with), |_| None).unwrap().woocommerce_api;
        let site = &api.sites["shop.example"];
        assert_eq!((site.base.as_str(), site.consumer_key.as_str(), site.consumer_secret.as_str()), ("https://shop.example", "ck_one", "cs_one"));
        assert_eq!(api.sites["127.0.0.1:8080"].base, "http://127.0.0.1:8080");
        assert!(api.shop_notifies);
        assert!(!format!("{api:?}").contains("cs_"), "{api:?}");
        for bad in [
            "shop.example=ck:cs_hidden",
            "https://shop.example=ck_only",
            "ftp://shop.example=ck:cs_hidden",
            "https://shop.example/wp=ck:cs_hidden",
            "https://=ck:cs_hidden",
        ] {
            let mut wrong = BASE.to_vec();
            wrong.push(("WOOCOMMERCE_API_KEYS", bad));
            let error = Config::from_lookup(env(&wrong), |_| None).unwrap_err().to_string();
            assert!(error.starts_with("WOOCOMMERCE_API_KEYS is malformed") && !error.contains("hidden"), "{bad}: {error}");
        }
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
