//! `GET /status/{token}` (and `{token}.json`): the customer's order-status page, one
//! small HTML page with inline CSS and no script, rendered by askama like mail, in
//! English or German (the browser's `Accept-Language`; anything else is English),
//! dates in the marketplace's time zone. A token that is wrong, altered or expired, and
//! an order whose data was erased, all answer the same 404 page.

use crate::domain::order_status::{GroupState, OrderStatus, StatusGroup};
use crate::services::App;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;

/// The page's only styles, inline: no script, no request of its own.
const POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'";

/// A language the page speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    De,
}

impl Lang {
    /// The order's language when the storefront gave one the page speaks, else the
    /// browser's (`Accept-Language`), else English.
    pub fn for_order(order: Option<&str>, accept: Option<&str>) -> Lang {
        match order.and_then(|tag| tag.get(..2)).map(str::to_ascii_lowercase).as_deref() {
            Some("de") => Lang::De,
            Some("en") => Lang::En,
            _ => Lang::of(accept),
        }
    }

    /// The first language of an `Accept-Language` header the page speaks, else English.
    pub fn of(accept: Option<&str>) -> Lang {
        let mut ranked: Vec<(u32, &str)> = accept
            .unwrap_or_default()
            .split(',')
            .filter_map(|part| {
                let mut pieces = part.trim().split(';');
                let tag = pieces.next()?.trim();
                let q = pieces.find_map(|p| p.trim().strip_prefix("q=")).and_then(|q| q.parse::<f32>().ok()).unwrap_or(1.0);
                Some(((q.clamp(0.0, 1.0) * 1000.0) as u32, tag))
            })
            .collect();
        ranked.sort_by_key(|r| std::cmp::Reverse(r.0));
        ranked
            .iter()
            .find_map(|(_, tag)| match tag.get(..2).map(str::to_ascii_lowercase).as_deref() {
                Some("de") => Some(Lang::De),
                Some("en") => Some(Lang::En),
                _ => None,
            })
            .unwrap_or(Lang::En)
    }

    fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
        }
    }

    /// `(English, German)`, as this language says it.
    fn say(self, en: String, de: String) -> String {
        match self {
            Lang::En => en,
            Lang::De => de,
        }
    }

    /// A date as the customer reads it: "Thu 17 Dec" / "Do. 17. Dez.".
    fn date(self, at: DateTime<Utc>, tz: Tz) -> String {
        const DAYS_DE: [&str; 7] = ["Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So."];
        const MONTHS_DE: [&str; 12] = ["Jan.", "Feb.", "März", "Apr.", "Mai", "Juni", "Juli", "Aug.", "Sept.", "Okt.", "Nov.", "Dez."];
        let local = at.with_timezone(&tz);
        match self {
            Lang::En => local.format("%a %-d %b %Y").to_string(),
            Lang::De => {
                format!("{} {}. {} {}", DAYS_DE[local.weekday().num_days_from_monday() as usize], local.day(), MONTHS_DE[local.month0() as usize], local.year())
            }
        }
    }
}

/// One group as the page shows it: every text worked out, the template only lays out.
struct ShownGroup {
    heading: String,
    lines: Vec<String>,
    items: Vec<String>,
    tracking: Option<(String, Option<String>)>,
    news: Vec<String>,
    late: bool,
}

#[derive(Template)]
#[template(path = "status.html", escape = "html")]
struct Page<'a> {
    lang: &'a str,
    title: String,
    store: &'a str,
    heading: String,
    ordered: String,
    goes_to: Option<String>,
    groups: Vec<ShownGroup>,
    news_title: String,
    late_word: String,
}

#[derive(Template)]
#[template(path = "status_missing.html", escape = "html")]
struct Missing<'a> {
    lang: &'a str,
    title: String,
    text: String,
}

/// The words of one group.
fn shown(group: &StatusGroup, lang: Lang, tz: Tz) -> ShownGroup {
    let date = |at: DateTime<Utc>| lang.date(at, tz);
    let carrier = group.tracking.as_ref().map(|t| t.carrier.clone()).unwrap_or_default();
    let heading = match group.state {
        GroupState::Preparing => lang.say("Being prepared by the maker".into(), "Wird beim Hersteller vorbereitet".into()),
        GroupState::Ordered => match group.expected_by {
            Some(by) => lang.say(format!("Ordered, expected to ship by {}", date(by)), format!("Bestellt, Versand bis voraussichtlich {}", date(by))),
            None => lang.say("Ordered, being prepared for shipping".into(), "Bestellt, wird für den Versand vorbereitet".into()),
        },
        GroupState::InTransit => lang.say(format!("On its way with {carrier}"), format!("Unterwegs mit {carrier}")),
        GroupState::AtPickupPoint => lang.say("Waiting for you at the pickup point".into(), "Liegt für Sie an der Abholstelle bereit".into()),
        GroupState::Problem => lang.say(
            format!("{carrier} reports a problem with the delivery: we are on it"),
            format!("{carrier} meldet ein Problem bei der Zustellung: wir kümmern uns darum"),
        ),
        GroupState::Delivered => match group.delivered_at {
            Some(at) => lang.say(format!("Delivered on {}", date(at)), format!("Zugestellt am {}", date(at))),
            None => lang.say("Delivered".into(), "Zugestellt".into()),
        },
        GroupState::Cancelled => lang.say("Cancelled: it will be refunded".into(), "Storniert: wird erstattet".into()),
        GroupState::NotSent => lang.say("This item cannot be sent: it will be refunded".into(), "Kann nicht versendet werden: wird erstattet".into()),
    };
    let mut lines = Vec::new();
    if let Some(seller) = &group.sold_by {
        lines.push(lang.say(format!("Sold by {seller}"), format!("Verkauft von {seller}")));
    }
    if let (Some(by), GroupState::InTransit | GroupState::AtPickupPoint | GroupState::Problem) = (group.expected_by, group.state) {
        lines.push(lang.say(format!("Expected by {}", date(by)), format!("Erwartet bis {}", date(by))));
    }
    if let (Some(last), GroupState::InTransit | GroupState::AtPickupPoint | GroupState::Problem) = (group.history.last(), group.state) {
        let said = last.message.clone().unwrap_or_else(|| last.tag.clone());
        lines.push(lang.say(format!("Last news: {said}, {}", date(last.at)), format!("Letzte Meldung: {said}, {}", date(last.at))));
    }
    let items = group
        .items
        .iter()
        .map(|i| {
            let mut text = format!("{} × {}", i.quantity, i.title);
            if let Some(variant) = &i.variant {
                text.push_str(&format!(" ({variant})"));
            }
            if i.refunded > 0 {
                text.push_str(&lang.say(format!(", {} refunded", i.refunded), format!(", {} erstattet", i.refunded)));
            }
            text
        })
        .collect();
    let tracking = group.tracking.as_ref().map(|t| (lang.say(format!("Tracking {}", t.number), format!("Sendungsnummer {}", t.number)), t.url.clone()));
    let news = group
        .history
        .iter()
        .rev()
        .map(|e| {
            let said = e.message.clone().unwrap_or_else(|| e.tag.clone());
            match &e.location {
                Some(place) => format!("{}: {said} ({place})", date(e.at)),
                None => format!("{}: {said}", date(e.at)),
            }
        })
        .collect();
    ShownGroup { heading, lines, items, tracking, news, late: group.late }
}

/// The page of `status` in `lang`.
pub fn render(status: &OrderStatus, lang: Lang, tz: Tz) -> Result<String, askama::Error> {
    let number = &status.order_number;
    let goes_to = match (&status.city, &status.country) {
        (Some(city), Some(country)) => Some(lang.say(format!("Going to {city}, {country}"), format!("Geht nach {city}, {country}"))),
        _ => None,
    };
    Page {
        lang: lang.code(),
        title: lang.say(format!("Order {number} · {}", status.store), format!("Bestellung {number} · {}", status.store)),
        store: &status.store,
        heading: lang.say(format!("Your order {number}"), format!("Ihre Bestellung {number}")),
        ordered: lang.say(format!("Ordered on {}", lang.date(status.ordered_at, tz)), format!("Bestellt am {}", lang.date(status.ordered_at, tz))),
        goes_to,
        groups: status.groups.iter().map(|g| shown(g, lang, tz)).collect(),
        news_title: lang.say("What the carrier said".into(), "Was der Versanddienst meldet".into()),
        late_word: lang.say("Later than expected".into(), "Später als erwartet".into()),
    }
    .render()
}

/// The page every link that opens nothing gets.
fn missing(lang: Lang) -> Response {
    let page = Missing {
        lang: lang.code(),
        title: lang.say("Order not found".into(), "Bestellung nicht gefunden".into()),
        text: lang.say(
            "This order status link is not valid or has expired. The link in your most recent email from the shop is the one to use; if it does not open either, reply to that email.".into(),
            "Dieser Link zum Bestellstatus ist ungültig oder abgelaufen. Bitte nutzen Sie den Link aus der neuesten E-Mail des Shops; öffnet auch dieser nicht, antworten Sie auf diese E-Mail.".into(),
        ),
    }
    .render()
    .unwrap_or_default();
    respond(StatusCode::NOT_FOUND, "text/html; charset=utf-8", page)
}

fn respond(status: StatusCode, content_type: &'static str, body: String) -> Response {
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY)),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        (header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=60")),
        (header::VARY, HeaderValue::from_static("Accept-Language")),
    ];
    (status, headers, body).into_response()
}

/// `GET /status/{token}` and `GET /status/{token}.json`.
pub async fn serve(State(app): State<App>, Path(token): Path<String>, headers: HeaderMap) -> Response {
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    let lang = Lang::of(accept);
    let (token, json) = match token.strip_suffix(".json") {
        Some(token) => (token.to_string(), true),
        None => (token, false),
    };
    match crate::services::status::order_status(&app, &token).await {
        Ok(Some(status)) if json => respond(StatusCode::OK, "application/json", serde_json::to_string(&status).unwrap_or_default()),
        Ok(Some(status)) => match render(&status, Lang::for_order(status.language.as_deref(), accept), app.config.sla.timezone) {
            Ok(page) => respond(StatusCode::OK, "text/html; charset=utf-8", page),
            Err(error) => super::Problem::new(StatusCode::INTERNAL_SERVER_ERROR, format!("the page did not render: {error}")).into_response(),
        },
        Ok(None) if json => super::Problem::new(StatusCode::NOT_FOUND, "no such order status").into_response(),
        Ok(None) => missing(lang),
        Err(error) => super::Problem::from(error).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_speaks_german_to_a_german_browser_and_english_to_everyone_else() {
        assert_eq!(Lang::of(Some("de-DE,de;q=0.9,en;q=0.8")), Lang::De);
        assert_eq!(Lang::of(Some("fr-FR,fr;q=0.9,de;q=0.5,en;q=0.7")), Lang::En);
        assert_eq!(Lang::of(Some("fr, de;q=0.4")), Lang::De);
        assert_eq!(Lang::of(Some("fr")), Lang::En);
        assert_eq!(Lang::of(None), Lang::En);
        assert_eq!(Lang::of(Some(";;,q=x,ü")), Lang::En);
        assert_eq!(Lang::for_order(Some("de-AT"), Some("en")), Lang::De, "the storefront's word first");
        assert_eq!(Lang::for_order(Some("fr"), Some("de")), Lang::De, "a language the page does not speak: the browser's");
        assert_eq!(Lang::for_order(None, None), Lang::En);
    }

    #[test]
    fn dates_read_in_the_marketplaces_time_zone_and_language() {
        let at = DateTime::parse_from_rfc3339("2026-12-17T23:30:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(Lang::En.date(at, Tz::UTC), "Thu 17 Dec 2026");
        assert_eq!(Lang::En.date(at, Tz::Europe__Berlin), "Fri 18 Dec 2026");
        assert_eq!(Lang::De.date(at, Tz::Europe__Berlin), "Fr. 18. Dez. 2026");
    }
}
