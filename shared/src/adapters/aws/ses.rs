//! Mail through SES: one `SendEmail` with the HTML and the text part, from the sender
//! identity; the SES message id is returned for the sent marker. Sends are paced to a
//! rate per process, so that a burst of orders stays under the account's sending quota
//! (the template caps the notifier's concurrency: cap × rate ≤ quota).

use super::describe;
use crate::ports::{Mail, MailError, Mailer, Sender};
use async_trait::async_trait;
use aws_sdk_ses::Client;
use aws_sdk_ses::types::{Body, Content, Destination, Message};

/// The SES `Mailer`.
#[derive(Clone)]
pub struct SesMailer {
    client: super::LazyClient<Client>,
    pacer: std::sync::Arc<Pacer>,
}

impl SesMailer {
    /// Sends through SES (its client built from `sdk` at the first send), at most
    /// `per_second` mails a second from this process.
    pub fn new(sdk: &aws_config::SdkConfig, per_second: f64) -> Self {
        SesMailer { client: super::LazyClient::new(sdk, Client::new), pacer: std::sync::Arc::new(Pacer::new(per_second)) }
    }
}

/// Spaces calls evenly: each takes the next free slot, one interval after the last.
#[derive(Debug)]
pub struct Pacer {
    interval: std::time::Duration,
    next: tokio::sync::Mutex<tokio::time::Instant>,
}

impl Pacer {
    pub fn new(per_second: f64) -> Pacer {
        let interval = if per_second > 0.0 { std::time::Duration::from_secs_f64(1.0 / per_second) } else { std::time::Duration::ZERO };
        Pacer { interval, next: tokio::sync::Mutex::new(tokio::time::Instant::now()) }
    }

    /// Waits for this call's slot.
    pub async fn wait(&self) {
        let slot = {
            let mut next = self.next.lock().await;
            let slot = (*next).max(tokio::time::Instant::now());
            *next = slot + self.interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

fn failed(error: impl std::error::Error + 'static) -> MailError {
    MailError::transient(describe(&error))
}

/// A send SES refused: for good when it refuses this mail or this sender as they are
/// (`MessageRejected`, an unverified MAIL FROM domain, a configuration set that does not
/// exist), which no retry changes; anything else (throttling, an outage, a paused
/// account that will be resumed) may pass later.
fn refused(error: aws_sdk_ses::error::SdkError<aws_sdk_ses::operation::send_email::SendEmailError>) -> MailError {
    let permanent = error
        .as_service_error()
        .is_some_and(|e| e.is_message_rejected() || e.is_mail_from_domain_not_verified_exception() || e.is_configuration_set_does_not_exist_exception());
    MailError { reason: describe(&error), permanent }
}

fn utf8(data: &str) -> Result<Content, MailError> {
    Content::builder().data(data).charset("UTF-8").build().map_err(failed)
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, from: &Sender, mail: &Mail) -> Result<String, MailError> {
        let body = Body::builder().text(utf8(&mail.text)?).html(utf8(&mail.html)?).build();
        let message = Message::builder().subject(utf8(&mail.subject)?).body(body).build();
        self.pacer.wait().await;
        let output = self
            .client
            .get()
            .send_email()
            .source(from.header())
            .destination(Destination::builder().to_addresses(&mail.to).build())
            .set_reply_to_addresses(mail.reply_to.clone().map(|address| vec![address]))
            .message(message)
            .send()
            .await
            .map_err(refused)?;
        Ok(output.message_id)
    }
}

#[cfg(test)]
mod tests {
    use super::Pacer;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn a_burst_is_spaced_to_the_rate() {
        let pacer = Pacer::new(4.0);
        let start = tokio::time::Instant::now();
        for _ in 0..9 {
            pacer.wait().await;
        }
        assert_eq!(start.elapsed(), Duration::from_secs(2), "nine sends at 4 a second: the first at once, the ninth 2 s later");
    }
}
