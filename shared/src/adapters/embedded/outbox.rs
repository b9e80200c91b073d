//! Mail for local runs: each message is written as a MIME `.eml` file (text and HTML
//! parts) under `<data-dir>/outbox/`, named so that names sort oldest first.

use crate::ports::{Mail, MailError, Mailer};
use async_trait::async_trait;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

const BOUNDARY: &str = "dropflow-alternative-boundary";

/// The embedded `Mailer`.
pub struct OutboxMailer {
    folder: PathBuf,
    sequence: AtomicU64,
}

impl OutboxMailer {
    pub fn new(data_dir: &Path) -> Self {
        OutboxMailer { folder: data_dir.join("outbox"), sequence: AtomicU64::new(0) }
    }
}

fn header_safe(value: &str) -> String {
    value.replace(['\r', '\n'], " ")
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, from: &str, mail: &Mail) -> Result<String, MailError> {
        std::fs::create_dir_all(&self.folder).map_err(|e| MailError(e.to_string()))?;
        let now = chrono::Utc::now();
        let id = format!(
            "{}-{}-{:04}",
            now.format("%Y%m%dT%H%M%S%.6fZ"),
            std::process::id(),
            self.sequence.fetch_add(1, Ordering::Relaxed) % 10_000
        );
        let eml = format!(
            "Message-ID: <{id}@dropflow.local>\r\nDate: {}\r\nFrom: {}\r\nTo: {}\r\nSubject: {}\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/alternative; boundary=\"{BOUNDARY}\"\r\n\r\n\
             --{BOUNDARY}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}\r\n\
             --{BOUNDARY}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}\r\n\
             --{BOUNDARY}--\r\n",
            now.to_rfc2822(),
            header_safe(from),
            header_safe(&mail.to),
            header_safe(&mail.subject),
            mail.text,
            mail.html
        );
        let path = self.folder.join(format!("{id}.eml"));
        let partial = self.folder.join(format!(".{id}.tmp"));
        std::fs::write(&partial, eml).and_then(|_| std::fs::rename(&partial, &path)).map_err(|e| MailError(e.to_string()))?;
        Ok(id)
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
    let mut names: Vec<PathBuf> = match std::fs::read_dir(&folder) {
        Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "eml")).collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    names.sort();
    names.iter().map(|path| std::fs::read_to_string(path).map(|eml| parse_eml(path, &eml))).collect()
}

fn parse_eml(path: &Path, eml: &str) -> OutboxEntry {
    let (head, body) = eml.split_once("\r\n\r\n").unwrap_or((eml, ""));
    let header = |name: &str| {
        head.lines().find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string())).unwrap_or_default()
    };
    let part = |content_type: &str| {
        body.split(&format!("--{BOUNDARY}"))
            .find(|p| p.contains(content_type))
            .and_then(|p| p.split_once("\r\n\r\n"))
            .map(|(_, content)| content.strip_suffix("\r\n").unwrap_or(content).to_string())
            .unwrap_or_default()
    };
    OutboxEntry {
        id: path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(),
        to: header("To:"),
        subject: header("Subject:"),
        text: part("text/plain"),
        html: part("text/html"),
    }
}
