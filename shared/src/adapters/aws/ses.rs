//! Mail through SES: one `SendEmail` with the HTML and the text part, from the sender
//! identity; the SES message id is returned for the sent marker.

use super::describe;
use crate::ports::{Mail, MailError, Mailer, Sender};
use async_trait::async_trait;
use aws_sdk_ses::Client;
use aws_sdk_ses::types::{Body, Content, Destination, Message};

/// The SES `Mailer`.
#[derive(Clone)]
pub struct SesMailer {
    client: Client,
}

impl SesMailer {
    pub fn new(client: Client) -> Self {
        SesMailer { client }
    }
}

fn failed(error: impl std::error::Error + 'static) -> MailError {
    MailError(describe(&error))
}

fn utf8(data: &str) -> Result<Content, MailError> {
    Content::builder().data(data).charset("UTF-8").build().map_err(failed)
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, from: &Sender, mail: &Mail) -> Result<String, MailError> {
        let body = Body::builder().text(utf8(&mail.text)?).html(utf8(&mail.html)?).build();
        let message = Message::builder().subject(utf8(&mail.subject)?).body(body).build();
        let output = self
            .client
            .send_email()
            .source(from.header())
            .destination(Destination::builder().to_addresses(&mail.to).build())
            .message(message)
            .send()
            .await
            .map_err(failed)?;
        Ok(output.message_id)
    }
}
