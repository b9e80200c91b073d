//! Mail for local runs: each message is a MIME `.eml` file (text and HTML parts) under
//! `<data-dir>/outbox/`, built by `mail-builder` (encoded headers, random boundaries,
//! transfer-encoded bodies, so no value in a mail can change its structure) and read
//! back by `mail-parser`. A file is named after what the mail is (its event and
//! recipient) and renamed into place, so a re-send replaces it: locally no mail is ever
//! doubled.

use crate::ports::{Mail, MailError, Mailer, Sender};
use async_trait::async_trait;
use mail_builder::MessageBuilder;
use mail_builder::headers::raw::Raw;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The header that orders the outbox: when the mail was written, in nanoseconds.
const SENT_HEADER: &str = "X-Dropflow-Sent";

/// The embedded `Mailer`.
pub struct OutboxMailer {
    folder: PathBuf,
    /// What stamps each mail's sending (the outbox lists mail in that order).
    clock: std::sync::Arc<dyn crate::ports::Clock>,
}

impl OutboxMailer {
    /// The outbox folder under `data_dir`, stamping mail with `clock`'s time.
    pub fn new(data_dir: &Path, clock: std::sync::Arc<dyn crate::ports::Clock>) -> Self {
        OutboxMailer { folder: data_dir.join("outbox"), clock }
    }
}

/// The header naming the order a mail is about, for a redaction to find its copies.
const ORDER_HEADER: &str = "X-Dropflow-Order";

/// What one `.eml` holds, to write it (again).
struct Eml<'a> {
    id: &'a str,
    sent_nanos: i64,
    from: (&'a str, &'a str),
    to: &'a str,
    subject: &'a str,
    text: &'a str,
    html: &'a str,
    order_id: Option<&'a str>,
    reply_to: Option<&'a str>,
}

impl OutboxMailer {
    /// Writes `eml` under its id, through a temporary file renamed into place, so that a
    /// reader never sees half a mail.
    fn write(&self, eml: &Eml) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.folder)?;
        let mut builder = MessageBuilder::new()
            .message_id(format!("{}@dropflow.local", eml.id))
            .date(eml.sent_nanos / 1_000_000_000)
            .from(eml.from)
            .to(eml.to)
            .subject(eml.subject)
            .header(SENT_HEADER, Raw::new(eml.sent_nanos.to_string()))
            .text_body(eml.text)
            .html_body(eml.html);
        if let Some(reply_to) = eml.reply_to {
            builder = builder.reply_to(reply_to);
        }
        if let Some(order_id) = eml.order_id {
            builder = builder.header(ORDER_HEADER, Raw::new(order_id.to_string()));
        }
        let bytes = builder.write_to_vec()?;
        let path = self.folder.join(format!("{}.eml", eml.id));
        let partial = self.folder.join(format!(".{}.tmp", eml.id));
        std::fs::write(&partial, bytes).and_then(|_| std::fs::rename(&partial, &path))
    }
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, from: &Sender, mail: &Mail) -> Result<String, MailError> {
        let id = hex::encode(&Sha256::digest(mail.key.as_bytes())[..16]);
        let order_id = mail.order_id.as_ref().map(|o| o.to_string());
        let sent_nanos = self.clock.now().timestamp_nanos_opt().unwrap_or_default();
        // Creating files is the disk's work: on the blocking pool, not on a worker that
        // serves HTTP.
        let (outbox, from, mail, written_id) =
            (OutboxMailer { folder: self.folder.clone(), clock: self.clock.clone() }, from.clone(), mail.clone(), id.clone());
        let written = tokio::task::spawn_blocking(move || {
            outbox.write(&Eml {
                id: &written_id,
                sent_nanos,
                from: (from.name.as_str(), from.address.as_str()),
                to: &mail.to,
                subject: &mail.subject,
                text: &mail.text,
                html: &mail.html,
                order_id: order_id.as_deref(),
                reply_to: mail.reply_to.as_deref(),
            })
        })
        .await;
        match written {
            Ok(Ok(())) => Ok(id),
            Ok(Err(error)) => Err(MailError::transient(error.to_string())),
            Err(error) => Err(MailError::transient(format!("outbox task failed: {error}"))),
        }
    }

    /// A file write: a claim need not outlive a crash by more than a few seconds.
    fn claim_lease(&self) -> std::time::Duration {
        std::time::Duration::from_secs(5)
    }

    /// The outbox is the copy: every mail sent locally is a file in it.
    fn keeps_copies(&self) -> bool {
        true
    }

    /// Rewrites each mail about `order_id` with `personal` scrubbed from its recipient,
    /// subject and both parts (the HTML part's escaped forms too).
    async fn redact(&self, order_id: &crate::domain::ids::OrderId, personal: &crate::domain::privacy::PersonalData) -> Result<usize, MailError> {
        let failed = |e: std::io::Error| MailError::transient(e.to_string());
        let wanted = order_id.to_string();
        let mut rewritten = 0;
        for path in eml_files(&self.folder).map_err(failed)? {
            let bytes = std::fs::read(&path).map_err(failed)?;
            let Some(message) = mail_parser::MessageParser::default().parse(&bytes) else { continue };
            if message.header_raw(ORDER_HEADER).map(str::trim) != Some(wanted.as_str()) {
                continue;
            }
            let (_, entry) = parse_eml(&path, &bytes).map_err(failed)?;
            let from = message
                .from()
                .and_then(|a| a.first())
                .map(|a| (a.name().unwrap_or_default().to_string(), a.address().unwrap_or_default().to_string()))
                .unwrap_or_default();
            let sent_nanos = message.header_raw(SENT_HEADER).and_then(|v| v.trim().parse().ok()).unwrap_or_default();
            let scrub_html = |html: &str| {
                let mut escaped = personal.clone();
                for value in personal.values() {
                    for form in html_escaped(value) {
                        escaped.add(&form);
                    }
                }
                escaped.scrub(html)
            };
            let to = if personal.found_in(&entry.to) { "redacted@redacted.invalid".to_string() } else { entry.to.clone() };
            let (subject, text, html) = (personal.scrub(&entry.subject), personal.scrub(&entry.text), scrub_html(&entry.html));
            if (to.as_str(), subject.as_str(), text.as_str(), html.as_str())
                == (entry.to.as_str(), entry.subject.as_str(), entry.text.as_str(), entry.html.as_str())
            {
                continue;
            }
            let eml = Eml {
                id: &entry.id,
                sent_nanos,
                from: (&from.0, &from.1),
                to: &to,
                subject: &subject,
                text: &text,
                html: &html,
                order_id: Some(&wanted),
                reply_to: entry.reply_to.as_deref(),
            };
            self.write(&eml).map_err(failed)?;
            rewritten += 1;
        }
        Ok(rewritten)
    }
}

/// `text` as an HTML template may have escaped it (quotes have two usual forms).
fn html_escaped(text: &str) -> [String; 2] {
    let base = text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    [base.replace('"', "&#34;").replace('\'', "&#39;"), base.replace('"', "&quot;").replace('\'', "&#x27;")]
}

/// The `.eml` files of an outbox folder (none when it does not exist yet).
fn eml_files(folder: &Path) -> std::io::Result<Vec<PathBuf>> {
    match std::fs::read_dir(folder) {
        Ok(entries) => Ok(entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "eml")).collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// A mail read back from the outbox, as `GET /_local/outbox` lists it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct OutboxEntry {
    pub id: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Where a reply goes, when the mail says (customer mail).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
}

/// Every mail in the outbox, oldest first.
pub fn list_outbox(data_dir: &Path) -> std::io::Result<Vec<OutboxEntry>> {
    let names = eml_files(&data_dir.join("outbox"))?;
    let mut mail = Vec::with_capacity(names.len());
    for path in names {
        let eml = std::fs::read(&path)?;
        mail.push(parse_eml(&path, &eml)?);
    }
    mail.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.id.cmp(&b.1.id)));
    Ok(mail.into_iter().map(|(_, entry)| entry).collect())
}

/// One `.eml` as (when it was written, what it says).
fn parse_eml(path: &Path, eml: &[u8]) -> std::io::Result<(u128, OutboxEntry)> {
    let unreadable = || std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{} is not a MIME message", path.display()));
    let message = mail_parser::MessageParser::default().parse(eml).ok_or_else(unreadable)?;
    let sent = message.header_raw(SENT_HEADER).and_then(|v| v.trim().parse().ok()).unwrap_or_default();
    let entry = OutboxEntry {
        id: path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(),
        to: message.to().and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or_default().to_string(),
        subject: message.subject().unwrap_or_default().to_string(),
        text: message.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
        html: message.body_html(0).map(|t| t.into_owned()).unwrap_or_default(),
        reply_to: message.reply_to().and_then(|a| a.first()).and_then(|a| a.address()).map(str::to_string),
    };
    Ok((sent, entry))
}
