//! Mail sent (claimed, then marked, once per event and recipient) and the addresses
//! no mail goes to.

use super::*;

/// A sent-mail marker (`SENT#{event}#{sha256 of recipient}`): claimed with a lease,
/// then marked sent with the provider's message id.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SentMarker {
    claimed_until: DateTime<Utc>,
    /// Who holds the claim: a random token per claim, so that a claim whose write landed
    /// but whose answer was lost is recognised as ours on the re-read.
    #[serde(default)]
    claim: String,
    #[serde(default)]
    message_id: Option<String>,
    #[serde(default)]
    sent_at: Option<DateTime<Utc>>,
    version: u64,
    ttl: i64,
}

/// What claiming a mail found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Ours to send until the lease ends; `version` marks it sent or gives it back.
    Taken { version: u64 },
    /// Sent before: nothing to do.
    AlreadySent,
    /// Another delivery holds a live lease on it until then.
    Busy { until: DateTime<Utc> },
}

/// An address no mail is sent to: it bounced for good, or its owner marked mail as spam
/// (SES's feedback, `services::suppression`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    /// The address, lower-cased (as it is looked up).
    pub email: String,
    /// `bounce` or `complaint`.
    pub reason: String,
    /// What the receiving server or the complaint said, when it said anything.
    pub detail: Option<String>,
    pub at: DateTime<Utc>,
}

impl Tables {
    async fn sent_marker(&self, event_id: &str, recipient: &str) -> Result<Option<SentMarker>, StoreError> {
        let (pk, sk) = keys::sent(event_id, recipient);
        self.get_as(&pk, &sk).await
    }

    async fn put_sent_marker(&self, event_id: &str, recipient: &str, marker: &SentMarker, condition: Condition) -> Result<(), StoreError> {
        let (pk, sk) = keys::sent(event_id, recipient);
        self.items.put(item_of(marker, &[("pk", pk), ("sk", sk)])?, condition).await
    }

    /// Claims the right to send `event_id` to `recipient` for `lease`: taken when nobody
    /// has it, or when an earlier claim's lease ended unsent (its holder died between
    /// claim and send, so the mail is not lost). The marker expires (TTL) after
    /// `keep_days`.
    pub async fn claim_sent(&self, event_id: &str, recipient: &str, now: DateTime<Utc>, lease: chrono::Duration, keep_days: i64) -> Result<Claim, StoreError> {
        let current = self.sent_marker(event_id, recipient).await?;
        let (version, condition) = match &current {
            None => (1, Condition::NotExists),
            Some(marker) if marker.message_id.is_some() => return Ok(Claim::AlreadySent),
            Some(marker) if marker.claimed_until > now => return Ok(Claim::Busy { until: marker.claimed_until }),
            Some(marker) => (marker.version + 1, Condition::VersionIs(marker.version)),
        };
        let mut token = [0u8; 12];
        getrandom::fill(&mut token).map_err(|e| StoreError::Unavailable(format!("no randomness for a claim: {e}")))?;
        let claim = hex::encode(token);
        let marker = SentMarker {
            claimed_until: now + lease,
            claim: claim.clone(),
            message_id: None,
            sent_at: None,
            version,
            ttl: (now + chrono::Duration::days(keep_days)).timestamp(),
        };
        match self.put_sent_marker(event_id, recipient, &marker, condition).await {
            Ok(()) => Ok(Claim::Taken { version }),
            // Someone claimed (or sent) it between the read and the write, or our own
            // write landed and only its answer was lost.
            Err(StoreError::ConditionFailed) => match self.sent_marker(event_id, recipient).await? {
                Some(marker) if marker.message_id.is_some() => Ok(Claim::AlreadySent),
                Some(marker) if marker.claim == claim => Ok(Claim::Taken { version: marker.version }),
                Some(marker) => Ok(Claim::Busy { until: marker.claimed_until }),
                None => Err(StoreError::ConditionFailed),
            },
            Err(e) => Err(e),
        }
    }

    /// Gives a claim back after a failed send, so that a retry can send at once. A claim
    /// taken over meanwhile is left to its new holder.
    pub async fn release_sent(&self, event_id: &str, recipient: &str, version: u64, now: DateTime<Utc>) -> Result<(), StoreError> {
        let Some(mut marker) = self.sent_marker(event_id, recipient).await? else { return Ok(()) };
        if marker.version != version || marker.message_id.is_some() {
            return Ok(());
        }
        marker.claimed_until = now;
        marker.version += 1;
        match self.put_sent_marker(event_id, recipient, &marker, Condition::VersionIs(version)).await {
            Ok(()) | Err(StoreError::ConditionFailed) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Marks a claimed mail sent, with the provider's message id. Unconditional: the mail
    /// went out, and that is what the marker must say from now on.
    pub async fn mark_sent(
        &self,
        event_id: &str,
        recipient: &str,
        version: u64,
        message_id: &str,
        now: DateTime<Utc>,
        keep_days: i64,
    ) -> Result<(), StoreError> {
        let marker = SentMarker {
            claimed_until: now,
            claim: String::new(),
            message_id: Some(message_id.to_string()),
            sent_at: Some(now),
            version: version + 1,
            ttl: (now + chrono::Duration::days(keep_days)).timestamp(),
        };
        self.put_sent_marker(event_id, recipient, &marker, Condition::Always).await
    }

    /// Whether `event_id` was mailed to `recipient`, and with which provider message id.
    pub async fn sent_message_id(&self, event_id: &str, recipient: &str) -> Result<Option<String>, StoreError> {
        Ok(self.sent_marker(event_id, recipient).await?.and_then(|m| m.message_id))
    }

    /// Whether mail to `email` is suppressed, and why.
    pub async fn suppression(&self, email: &str) -> Result<Option<Suppression>, StoreError> {
        let (pk, sk) = keys::suppression(email);
        self.get_as(&pk, &sk).await
    }

    /// Suppresses mail to an address (`SUPPRESS#{email}`), filed newest first in the
    /// operator's list (`SUPPRESSIONS` in gsi1). The same address again replaces the
    /// entry with the latest reason.
    pub async fn suppress(&self, suppression: &Suppression) -> Result<(), StoreError> {
        let keys = [
            ("pk", keys::suppression(&suppression.email).0),
            ("sk", keys::suppression(&suppression.email).1),
            ("gsi1pk", keys::SUPPRESSIONS_PK.into()),
            ("gsi1sk", format!("{}#{}", suppression.at.to_rfc3339(), suppression.email)),
        ];
        self.items.put(item_of(suppression, &keys)?, Condition::Always).await
    }

    /// One page of the suppressed addresses, newest first.
    pub async fn suppressions(&self, cursor: Option<String>, limit: usize) -> Result<(Vec<Suppression>, Option<String>), StoreError> {
        self.listing(keys::SUPPRESSIONS_PK.into(), true, cursor, limit).await
    }

    /// Mails an address again (the operator knows its mailbox works now).
    pub async fn unsuppress(&self, email: &str) -> Result<(), StoreError> {
        let (pk, sk) = keys::suppression(email);
        self.items.delete(&pk, &sk).await
    }
}
