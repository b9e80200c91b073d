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
}

impl OutboxMailer {
    pub fn new(data_dir: &Path) -> Self {
        OutboxMailer { folder: data_dir.join("outbox") }
    }
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, from: &Sender, mail: &Mail) -> Result<String, MailError> {
        let failed = |e: std::io::Error| MailError(e.to_string());
        std::fs::create_dir_all(&self.folder).map_err(failed)?;
        let id = hex::encode(&Sha256::digest(mail.key.as_bytes())[..16]);
        let now = chrono::Utc::now();
        let eml = MessageBuilder::new()
            .message_id(format!("{id}@dropflow.local"))
            .date(now.timestamp())
            .from((from.name.as_str(), from.address.as_str()))
            .to(mail.to.as_str())
            .subject(mail.subject.as_str())
            .header(SENT_HEADER, Raw::new(now.timestamp_nanos_opt().unwrap_or_default().to_string()))
            .text_body(mail.text.as_str())
            .html_body(mail.html.as_str())
            .write_to_vec()
            .map_err(failed)?;
        let path = self.folder.join(format!("{id}.eml"));
        let partial = self.folder.join(format!(".{id}.tmp"));
        std::fs::write(&partial, eml).and_then(|_| std::fs::rename(&partial, &path)).map_err(failed)?;
        Ok(id)
    }

    /// A file write: a claim need not outlive a crash by more than a few seconds.
    fn claim_lease(&self) -> std::time::Duration {
        std::time::Duration::from_secs(5)
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
}

/// Every mail in the outbox, oldest first.
pub fn list_outbox(data_dir: &Path) -> std::io::Result<Vec<OutboxEntry>> {
    let folder = data_dir.join("outbox");
    let names: Vec<PathBuf> = match std::fs::read_dir(&folder) {
        Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "eml")).collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
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
    };
    Ok((sent, entry))
}
