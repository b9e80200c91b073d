//! AfterShip's tracking API, for `TrackingFeed`: `POST {url}/trackings` with the
//! `as-api-key` header and `{"tracking_number", "slug"}`. AfterShip answers a tracking it
//! has already with meta code 4003, which is success here (a redelivered `shipped`
//! event registers nothing twice). A request AfterShip refuses for good (a number it
//! cannot take) is logged and not retried; a throttle, an outage or a timeout is.

use crate::config::AfterShipApi;
use crate::domain::tracking::Carrier;
use crate::ports::{FeedError, TrackingFeed};
use async_trait::async_trait;

/// How long one registration may take.
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// AfterShip's meta code for "tracking already exists".
const ALREADY_EXISTS: i64 = 4003;

/// AfterShip's name (slug) of a carrier; None lets AfterShip detect it from the number
/// (a national post, a carrier dropflow has no name for).
fn slug(carrier: &Carrier) -> Option<&'static str> {
    Some(match carrier {
        Carrier::Ups => "ups",
        Carrier::Fedex => "fedex",
        Carrier::Usps => "usps",
        Carrier::DhlExpress => "dhl",
        Carrier::DhlEcommerce => "dhl-global-mail",
        Carrier::Cainiao => "cainiao",
        Carrier::Yunexpress => "yunexpress",
        Carrier::FourPx => "4px",
        Carrier::Cjpacket => "cjpacket",
        Carrier::Post | Carrier::Other(_) => return None,
    })
}

/// The `TrackingFeed` on AfterShip's API.
pub struct AfterShipFeed {
    client: crate::adapters::https::Lazy,
    api: AfterShipApi,
}

impl AfterShipFeed {
    pub fn new(api: AfterShipApi) -> AfterShipFeed {
        let client = crate::adapters::https::Lazy::new(TIMEOUT);
        AfterShipFeed { client, api }
    }
}

#[async_trait]
impl TrackingFeed for AfterShipFeed {
    async fn register(&self, tracking_number: &str, carrier: &Carrier) -> Result<(), FeedError> {
        let mut body = serde_json::json!({ "tracking_number": tracking_number });
        if let Some(slug) = slug(carrier) {
            body["slug"] = slug.into();
        }
        let response = self
            .client
            .get()
            .post(format!("{}/trackings", self.api.url))
            .header("as-api-key", &self.api.api_key)
            .json(&body)
            .send()
            .await
            .map_err(|e| FeedError(format!("AfterShip unreachable: {e}")))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let answer: serde_json::Value = response.json().await.unwrap_or_default();
        let code = answer["meta"]["code"].as_i64().unwrap_or_default();
        match status.as_u16() {
            _ if code == ALREADY_EXISTS => Ok(()),
            429 | 500..=599 => Err(FeedError(format!("AfterShip answered {status} ({code})"))),
            _ => {
                tracing::warn!(%status, code, message = %answer["meta"]["message"].as_str().unwrap_or(""), "AfterShip refused a tracking; its news will not be pushed");
                Ok(())
            }
        }
    }
}
