//! Email rendering: every email is a `Message` (heading, paragraphs, sections of rows,
//! one action link) rendered by two templates compiled into the binary, one HTML and one
//! plain text, so that no email can have one part without the other.

use crate::ports::Mail;
use askama::Template;

/// A titled block of an email: label/value rows and free lines.
#[derive(Debug, Clone, Default)]
pub struct Section {
    pub title: String,
    pub rows: Vec<(String, String)>,
    pub lines: Vec<String>,
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

/// The `From` of every email: the store's name with the sender address, so that mail
/// reads as coming from the store (`"Lumen Home" <orders@lumen.example>`). A name
/// outside printable ASCII is a MIME encoded-word (RFC 2047), as SES requires.
pub fn sender(store_name: &str, address: &str) -> String {
    use base64::Engine;
    let name: String = store_name.chars().filter(|c| !c.is_control()).collect();
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

impl Message {
    /// Renders both parts for `to`, in the store's name.
    pub fn render(&self, store_name: &str, to: &str) -> Result<Mail, askama::Error> {
        let html = HtmlMail {
            store_name,
            subject: &self.subject,
            heading: &self.heading,
            intro: &self.intro,
            sections: &self.sections,
            action: &self.action,
        }
        .render()?;
        let text = TextMail { store_name, heading: &self.heading, intro: &self.intro, sections: &self.sections, action: &self.action }.render()?;
        Ok(Mail { to: to.to_string(), subject: format!("{} | {store_name}", self.subject), text, html })
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
    }

    #[test]
    fn both_parts_carry_the_content_and_html_is_escaped() {
        let message = Message {
            subject: "Hi".into(),
            heading: "Order <#1>".into(),
            intro: vec!["Thanks & welcome".into()],
            sections: vec![Section { title: "Lines".into(), rows: vec![("URL".into(), "https://x.example/p?a=1".into())], lines: vec!["1 x Thing".into()] }],
            action: Some(Action { label: "Track".into(), url: "https://t.example/1".into() }),
        };
        let mail = message.render("Shop", "a@b.example").unwrap();
        assert_eq!(mail.subject, "Hi | Shop");
        assert!(mail.text.contains("Order <#1>") && mail.text.contains("URL: https://x.example/p?a=1") && mail.text.contains("Track: https://t.example/1"));
        assert!(mail.html.contains("Order &#60;#1&#62;") || mail.html.contains("Order &lt;#1&gt;"), "{}", mail.html);
        assert!(mail.html.contains("Thanks &#38; welcome") || mail.html.contains("Thanks &amp; welcome"));
        assert!(mail.html.contains("href=\"https://t.example/1\""));
    }
}
