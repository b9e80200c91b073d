//! Email rendering: every email is a `Message` (heading, paragraphs, sections of rows,
//! one action link) rendered by two templates compiled into the binary, one HTML and one
//! plain text, so that no email can have one part without the other.

use crate::ports::{Mail, Sender};
use askama::Template;

/// A titled block of an email: label/value rows and free lines.
#[derive(Debug, Clone, Default)]
pub struct Section {
    pub title: String,
    pub rows: Vec<(String, String)>,
    pub lines: Vec<String>,
    /// Links dropflow vouches for (a product page the vendor mapped, checked to be an
    /// `https://` address): the only text of a section that becomes a link.
    pub links: Vec<Action>,
}

/// The link an email asks its reader to follow.
#[derive(Debug, Clone)]
pub struct Action {
    pub label: String,
    pub url: String,
}

/// What an email says, before rendering.
#[derive(Debug, Clone, Default)]
pub struct Message {
    pub subject: String,
    pub heading: String,
    pub intro: Vec<String>,
    pub sections: Vec<Section>,
    pub action: Option<Action>,
}

/// Whether `c` may stand in a one-line header value: no control characters (a CR or LF
/// would start a new header) and no bidirectional overrides or isolates (they make a
/// subject read differently from what it says).
fn fits_a_header(c: char) -> bool {
    !c.is_control() && !matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `text` as one line fit for a header: what does not fit is dropped, runs of white
/// space are one space.
pub fn header_text(text: &str) -> String {
    let kept: String = text.chars().map(|c| if c.is_whitespace() { ' ' } else { c }).filter(|c| fits_a_header(*c)).collect();
    kept.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Sender {
    /// The store (by name, cleaned for a header) sending from `address`.
    pub fn new(store_name: &str, address: &str) -> Sender {
        Sender { name: header_text(store_name), address: address.to_string() }
    }

    /// The `From` of every email: the store's name with the sender address, so that
    /// mail reads as coming from the store (`"Lumen Home" <orders@lumen.example>`). A
    /// name outside printable ASCII is a MIME encoded-word (RFC 2047), as SES requires.
    pub fn header(&self) -> String {
        use base64::Engine;
        let (name, address) = (&self.name, &self.address);
        if name.trim().is_empty() {
            return address.to_string();
        }
        if name.is_ascii() {
            let quoted = name.replace('\\', "\\\\").replace('"', "\\\"");
            format!("\"{quoted}\" <{address}>")
        } else {
            format!("=?UTF-8?B?{}?= <{address}>", base64::engine::general_purpose::STANDARD.encode(name.as_bytes()))
        }
    }
}

/// The `From` header of mail from `store_name` at `address` (see `Sender::header`).
pub fn sender(store_name: &str, address: &str) -> String {
    Sender::new(store_name, address).header()
}

#[derive(Template)]
#[template(path = "mail.html", escape = "html")]
struct HtmlMail<'a> {
    store_name: &'a str,
    subject: &'a str,
    heading: &'a str,
    intro: &'a [String],
    sections: &'a [Section],
    action: &'a Option<Action>,
}

#[derive(Template)]
#[template(path = "mail.txt", escape = "none")]
struct TextMail<'a> {
    store_name: &'a str,
    heading: &'a str,
    intro: &'a [String],
    sections: &'a [Section],
    action: &'a Option<Action>,
}

/// `text` with every web address in it made inert: a zero-width space after the
/// scheme's colon and after a leading `www`, so that no mail client turns a carrier name,
/// a variant or a title into a link. Only the action and a section's links are links.
/// Text without an address (an address to copy into a supplier's site) is unchanged.
pub fn inert(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        out.push(c);
        rest = &rest[c.len_utf8()..];
        let www = out.len() >= 3 && out.as_bytes()[out.len() - 3..].eq_ignore_ascii_case(b"www");
        if (c == ':' && rest.starts_with("//")) || (www && rest.starts_with('.')) {
            out.push('\u{200B}');
        }
    }
    out
}

impl Message {
    /// Renders both parts for `to`, in the store's name; `key` says which mail this is
    /// (its event and recipient). The subject is one clean line whatever the data in it.
    pub fn render(&self, store_name: &str, to: &str, key: &str) -> Result<Mail, askama::Error> {
        let heading = inert(&self.heading);
        let intro: Vec<String> = self.intro.iter().map(|p| inert(p)).collect();
        let sections: Vec<Section> = self
            .sections
            .iter()
            .map(|s| Section {
                title: inert(&s.title),
                rows: s.rows.iter().map(|(label, value)| (inert(label), inert(value))).collect(),
                lines: s.lines.iter().map(|l| inert(l)).collect(),
                links: s.links.clone(),
            })
            .collect();
        let (heading, intro, sections) = (&heading, &intro, &sections);
        let html = HtmlMail { store_name, subject: &self.subject, heading, intro, sections, action: &self.action }.render()?;
        let text = TextMail { store_name, heading, intro, sections, action: &self.action }.render()?;
        Ok(Mail {
            to: to.to_string(),
            subject: header_text(&format!("{} | {store_name}", self.subject)),
            text,
            html,
            key: key.to_string(),
            order_id: None,
            reply_to: None,
        })
    }
}

/// Who a mail is for, which decides what it carries besides its text: a customer's
/// mail a Reply-To (the store's support address: its text invites a reply), a vendor's
/// a link to the dashboard page it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    Customer(String),
    Vendor(String, Page),
    Operator(String),
}

/// The dashboard page a vendor's mail is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    /// One vendor order (its public id).
    Order(String),
    /// The balance, holds and payouts.
    Money,
    /// The vendor's scorecard.
    Scorecard,
}

impl Recipient {
    /// The address the mail goes to.
    pub fn address(&self) -> &str {
        match self {
            Recipient::Customer(a) | Recipient::Vendor(a, _) | Recipient::Operator(a) => a,
        }
    }
}

/// The vendor dashboard's address of `page` under `base` (`PUBLIC_BASE_URL`): the
/// single-page app routes on the fragment (`#orders/{id}`, `#money`).
pub fn dashboard_url(base: &str, page: &Page) -> String {
    match page {
        Page::Order(id) => format!("{base}/vendor/app#orders/{id}"),
        Page::Money => format!("{base}/vendor/app#money"),
        Page::Scorecard => format!("{base}/vendor/app#scorecard"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_comes_from_the_store_by_name() {
        assert_eq!(sender("Lumen Home", "orders@lumen.example"), "\"Lumen Home\" <orders@lumen.example>");
        assert_eq!(sender("Joe \"Lamps\" Co", "a@b.example"), "\"Joe \\\"Lamps\\\" Co\" <a@b.example>");
        assert_eq!(sender("Zoë", "a@b.example"), "=?UTF-8?B?Wm/Dqw==?= <a@b.example>");
        assert_eq!(sender(" ", "a@b.example"), "a@b.example");
        assert_eq!(sender("Evil\r\nBcc: x@y.example", "a@b.example"), "\"Evil Bcc: x@y.example\" <a@b.example>");
    }

    #[test]
    fn a_subject_is_one_line_without_controls_or_bidi_overrides() {
        let message = Message { subject: "Order #1\r\nBcc: victim@x.example \u{202E}gpj.exe\u{0007}".into(), ..Message::default() };
        let mail = message.render("Shop", "a@b.example", "k").unwrap();
        assert_eq!(mail.subject, "Order #1 Bcc: victim@x.example gpj.exe | Shop");
    }

    #[test]
    fn both_parts_carry_the_content_and_html_is_escaped() {
        let message = Message {
            subject: "Hi".into(),
            heading: "Order <#1>".into(),
            intro: vec!["Thanks & welcome".into()],
            sections: vec![Section {
                links: Vec::new(),
                title: "Lines".into(),
                rows: vec![("URL".into(), "https://x.example/p?a=1".into())],
                lines: vec!["1 x Thing".into()],
            }],
            action: Some(Action { label: "Track".into(), url: "https://t.example/1".into() }),
        };
        let mail = message.render("Shop", "a@b.example", "k").unwrap();
        assert_eq!(mail.subject, "Hi | Shop");
        assert!(
            mail.text.contains("Order <#1>") && mail.text.contains("URL: https:\u{200B}//x.example/p?a=1") && mail.text.contains("Track: https://t.example/1")
        );
        assert!(mail.html.contains("Order &#60;#1&#62;") || mail.html.contains("Order &lt;#1&gt;"), "{}", mail.html);
        assert!(mail.html.contains("Thanks &#38; welcome") || mail.html.contains("Thanks &amp; welcome"));
        assert!(mail.html.contains("href=\"https://t.example/1\""));
        assert_eq!(mail.html.matches("href=").count(), 1, "only the action is a link: {}", mail.html);
    }

    #[test]
    fn free_text_never_becomes_a_link() {
        assert_eq!(inert("https://evil.example/x"), "https:\u{200B}//evil.example/x");
        assert_eq!(inert("Fast Cargo (see WWW.evil.example)"), "Fast Cargo (see WWW\u{200B}.evil.example)");
        assert_eq!(inert("Chestnut St. 92, Apt 3: rear"), "Chestnut St. 92, Apt 3: rear", "an address is copied as it is");
        assert_eq!(inert("Größe: XL"), "Größe: XL");
        let message = Message {
            sections: vec![Section {
                links: Vec::new(),
                title: "Items".into(),
                rows: vec![("Carrier".into(), "https://evil.example".into())],
                lines: vec!["Variant: www.evil.example".into()],
            }],
            ..Message::default()
        };
        let mail = message.render("Shop", "a@b.example", "k").unwrap();
        assert!(!mail.html.contains("href") && !mail.html.contains("https://") && !mail.html.contains("www.e"), "{}", mail.html);
        assert!(!mail.text.contains("https://") && !mail.text.contains("www.e"), "{}", mail.text);
    }
}
