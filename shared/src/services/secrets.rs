//! The webhook signing secrets a process verifies deliveries with. Locally and in tests
//! they come from the configuration and stay fixed. On AWS each source's secret is a
//! Secrets Manager secret (its ARN in `{SOURCE}_WEBHOOK_SECRET_ARN`, never the value):
//! read once for the container (started as it starts, awaited by the first delivery: the
//! read overlaps the runtime's first fetch of an event instead of delaying it), held,
//! read again when a signature does not
//! verify (at most once a minute per source, so a warm container learns of a rotation
//! and a flood of forgeries costs one read a minute), and during a rotation the value it
//! replaced is accepted too, for `ROTATION_GRACE_HOURS` after the new one was stored.

use crate::ports::{SecretError, SecretVault, SecretVersions};
use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Instant;

/// How long a replaced secret still verifies: longer than Shopify retries a delivery
/// (48 h), so that nothing signed before the switch is refused.
pub const ROTATION_GRACE_HOURS: i64 = 72;

/// The least time between two reads of one source's secret.
const REREAD_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// The least time between two attempts at the first read after one failed: deliveries
/// meanwhile are refused at once with its error, rather than each waiting on (and
/// adding to) a vault that has just failed.
const FIRST_READ_PAUSE: std::time::Duration = std::time::Duration::from_secs(5);

/// Each source's secrets as held now.
#[derive(Debug, Clone, Default)]
struct Held {
    current: Vec<String>,
    previous: Vec<String>,
    since: Option<DateTime<Utc>>,
    read_at: Option<Instant>,
}

impl Held {
    fn from_versions(versions: &SecretVersions) -> Held {
        Held {
            current: crate::config::secret_list(&versions.current),
            previous: versions.previous.as_deref().map(crate::config::secret_list).unwrap_or_default(),
            since: Some(versions.current_since),
            read_at: Some(Instant::now()),
        }
    }
}

/// The secrets each source's deliveries are verified with.
pub struct WebhookSecrets {
    vault: Option<Arc<dyn SecretVault>>,
    /// The vault's secret id of each source read from it.
    ids: BTreeMap<&'static str, String>,
    held: RwLock<BTreeMap<&'static str, Held>>,
    reread_after: std::time::Duration,
    /// Set once every secret of `ids` has been read from the vault; until then a
    /// delivery waits for the read (`ready`).
    first_read: tokio::sync::OnceCell<()>,
    /// When the last attempt at the first read failed, and why.
    first_failure: std::sync::Mutex<Option<(Instant, SecretError)>>,
}

impl WebhookSecrets {
    /// The secrets the configuration gives (the environment, locally), fixed.
    pub fn fixed(secrets: &BTreeMap<&'static str, Vec<String>>) -> WebhookSecrets {
        let held = secrets.iter().map(|(source, current)| (*source, Held { current: current.clone(), ..Held::default() })).collect();
        WebhookSecrets {
            vault: None,
            ids: BTreeMap::new(),
            held: RwLock::new(held),
            reread_after: REREAD_AFTER,
            first_read: tokio::sync::OnceCell::new_with(Some(())),
            first_failure: std::sync::Mutex::new(None),
        }
    }

    /// The secret of each source in `ids` (source name → secret id), to be read from
    /// `vault` by the first `ready` (a Lambda function starts it at start-up, in the
    /// background); the other sources keep what `fixed` gives.
    pub fn from_vault_later(vault: Arc<dyn SecretVault>, ids: BTreeMap<&'static str, String>, fixed: &BTreeMap<&'static str, Vec<String>>) -> WebhookSecrets {
        let secrets = WebhookSecrets::fixed(fixed);
        WebhookSecrets { vault: Some(vault), ids, first_read: tokio::sync::OnceCell::new(), first_failure: std::sync::Mutex::new(None), ..secrets }
    }

    /// Waits until every vault secret has been read once, reading them (all at once)
    /// unless another caller is doing so. A read that fails is an error for this caller
    /// and for those that come within `FIRST_READ_PAUSE` (or the re-read pause, if
    /// shorter) of it; the next after that tries again. A delivery is answered 503 and
    /// redelivered, never verified against no secret.
    pub async fn ready(&self) -> Result<(), SecretError> {
        let Some(vault) = &self.vault else { return Ok(()) };
        if self.first_read.initialized() {
            return Ok(());
        }
        let pause = FIRST_READ_PAUSE.min(self.reread_after);
        if let Some((at, error)) = &*self.first_failure.lock().unwrap_or_else(|e| e.into_inner())
            && at.elapsed() < pause
        {
            return Err(error.clone());
        }
        let read: Result<&(), SecretError> = self
            .first_read
            .get_or_try_init(|| async {
                let reads = self.ids.iter().map(|(source, id)| async move { vault.read(id).await.map(|versions| (*source, versions)) });
                for (source, versions) in futures_util::future::try_join_all(reads).await? {
                    self.held.write().unwrap_or_else(|e| e.into_inner()).insert(source, Held::from_versions(&versions));
                }
                Ok(())
            })
            .await;
        if let Err(error) = &read {
            *self.first_failure.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), error.clone()));
        }
        read.map(|_| ())
    }

    /// The same, read now.
    pub async fn from_vault(
        vault: Arc<dyn SecretVault>,
        ids: BTreeMap<&'static str, String>,
        fixed: &BTreeMap<&'static str, Vec<String>>,
    ) -> Result<WebhookSecrets, SecretError> {
        let secrets = WebhookSecrets::from_vault_later(vault, ids, fixed);
        secrets.ready().await?;
        Ok(secrets)
    }

    /// The same from secrets read already (source name → its id and versions), so that
    /// a caller that had to read them to find out which exist reads each once.
    pub fn from_read(
        vault: Arc<dyn SecretVault>,
        read: BTreeMap<&'static str, (String, SecretVersions)>,
        fixed: &BTreeMap<&'static str, Vec<String>>,
    ) -> WebhookSecrets {
        let secrets = WebhookSecrets::fixed(fixed);
        let mut ids = BTreeMap::new();
        {
            let mut held = secrets.held.write().unwrap_or_else(|e| e.into_inner());
            for (source, (id, versions)) in read {
                held.insert(source, Held::from_versions(&versions));
                ids.insert(source, id);
            }
        }
        WebhookSecrets { vault: Some(vault), ids, ..secrets }
    }

    /// The same, reading a secret again after `pause` at the least instead of a minute
    /// (a test that rotates a secret does not wait a minute).
    pub fn reread_after(self, pause: std::time::Duration) -> WebhookSecrets {
        WebhookSecrets { reread_after: pause, ..self }
    }

    /// What verifies a delivery of `source` at `now`: the current secrets, and while a
    /// rotation is younger than the grace period, the ones they replaced.
    pub fn accepted(&self, source: &str, now: DateTime<Utc>) -> Vec<String> {
        let held = self.held.read().unwrap_or_else(|e| e.into_inner());
        let Some(secrets) = held.get(source) else { return Vec::new() };
        let in_grace = secrets.since.is_some_and(|since| now < since + Duration::hours(ROTATION_GRACE_HOURS));
        let mut accepted = secrets.current.clone();
        if in_grace {
            accepted.extend(secrets.previous.iter().cloned());
        }
        accepted
    }

    /// Reads `source`'s secret from the vault again, unless it comes from the
    /// configuration or was read within the last minute; true when what it holds
    /// changed (a delivery that did not verify is then checked again).
    pub async fn reread(&self, source: &str) -> bool {
        let (Some(vault), Some((name, id))) = (&self.vault, self.ids.get_key_value(source)) else { return false };
        {
            let held = self.held.read().unwrap_or_else(|e| e.into_inner());
            if held.get(source).and_then(|h| h.read_at).is_some_and(|at| at.elapsed() < self.reread_after) {
                return false;
            }
        }
        // Counted as a read even when it fails, so that a vault outage is not hammered.
        self.held.write().unwrap_or_else(|e| e.into_inner()).entry(name).or_default().read_at = Some(Instant::now());
        match vault.read(id).await {
            Ok(versions) => {
                let fresh = Held::from_versions(&versions);
                let mut held = self.held.write().unwrap_or_else(|e| e.into_inner());
                let changed = held.get(source).is_none_or(|old| old.current != fresh.current || old.previous != fresh.previous || old.since != fresh.since);
                held.insert(name, fresh);
                changed
            }
            Err(error) => {
                tracing::warn!(source, %error, "could not read the webhook secret again; keeping the one held");
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use std::sync::Mutex;

    /// A vault whose secret the test rotates, counting reads.
    struct Rotating(Mutex<(SecretVersions, u32)>);

    #[async_trait]
    impl SecretVault for Rotating {
        async fn read(&self, _id: &str) -> Result<SecretVersions, SecretError> {
            let mut state = self.0.lock().unwrap();
            state.1 += 1;
            Ok(state.0.clone())
        }
    }

    fn at(hours: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-22T00:00:00Z").unwrap().with_timezone(&Utc) + Duration::hours(hours)
    }

    #[tokio::test]
    async fn a_rotation_accepts_both_secrets_for_the_grace_period_then_only_the_new_one() {
        let vault = Arc::new(Rotating(Mutex::new((SecretVersions { current: "old".into(), current_since: at(0), previous: None }, 0))));
        let secrets = WebhookSecrets::from_vault(vault.clone(), BTreeMap::from([("shopify", "arn:shopify".to_string())]), &BTreeMap::new()).await.unwrap();
        assert_eq!(secrets.accepted("shopify", at(1)), ["old"]);
        vault.0.lock().unwrap().0 = SecretVersions { current: "new".into(), current_since: at(10), previous: Some("old".into()) };
        assert!(!secrets.reread("shopify").await, "read at start-up under a minute ago: not read again");
        assert_eq!(vault.0.lock().unwrap().1, 1);
        secrets.held.write().unwrap().get_mut("shopify").unwrap().read_at = Some(Instant::now() - REREAD_AFTER);
        assert!(secrets.reread("shopify").await, "a minute later: the rotation is learnt");
        assert_eq!(secrets.accepted("shopify", at(11)), ["new", "old"]);
        assert_eq!(secrets.accepted("shopify", at(10 + ROTATION_GRACE_HOURS)), ["new"], "the grace is over");
        assert!(!secrets.reread("shopify").await, "and not read again for a minute");
        assert!(secrets.accepted("woocommerce", at(11)).is_empty());
    }

    /// A vault that is down for its first `.1` reads, counting reads.
    struct DownAtFirst(Mutex<(u32, u32)>);

    #[async_trait]
    impl SecretVault for DownAtFirst {
        async fn read(&self, id: &str) -> Result<SecretVersions, SecretError> {
            let mut state = self.0.lock().unwrap();
            state.0 += 1;
            if state.0 <= state.1 {
                return Err(SecretError::Unavailable(format!("{id}: down")));
            }
            Ok(SecretVersions { current: format!("secret of {id}"), current_since: at(0), previous: None })
        }
    }

    #[tokio::test]
    async fn a_first_read_that_fails_is_tried_again_by_the_next_delivery_and_nothing_verifies_meanwhile() {
        let vault = Arc::new(DownAtFirst(Mutex::new((0, 1))));
        let ids = BTreeMap::from([("shopify", "s".to_string()), ("woocommerce", "w".to_string())]);
        let secrets =
            WebhookSecrets::from_vault_later(vault.clone(), ids, &BTreeMap::from([("generic", vec!["g".to_string()])])).reread_after(std::time::Duration::ZERO);
        assert!(secrets.accepted("shopify", at(0)).is_empty(), "nothing is held before the read");
        assert_eq!(vault.0.lock().unwrap().0, 0, "built without reading");
        assert!(matches!(secrets.ready().await, Err(SecretError::Unavailable(_))), "the vault is down: the delivery waiting is refused");
        assert!(secrets.accepted("shopify", at(0)).is_empty());
        let (first, second) = tokio::join!(secrets.ready(), secrets.ready());
        assert!(first.is_ok() && second.is_ok(), "the next deliveries read it, once between them");
        assert_eq!(vault.0.lock().unwrap().0, 3, "one failed read, then each secret once");
        assert_eq!(secrets.accepted("shopify", at(1)), ["secret of s"]);
        assert_eq!(secrets.accepted("woocommerce", at(1)), ["secret of w"]);
        assert_eq!(secrets.accepted("generic", at(1)), ["g"], "the configured one is kept");
        secrets.ready().await.unwrap();
        assert_eq!(vault.0.lock().unwrap().0, 3, "read once for the container");
    }

    #[tokio::test]
    async fn deliveries_right_after_a_failed_first_read_are_refused_without_reading_again() {
        let vault = Arc::new(DownAtFirst(Mutex::new((0, 1))));
        let secrets = WebhookSecrets::from_vault_later(vault.clone(), BTreeMap::from([("shopify", "s".to_string())]), &BTreeMap::new());
        assert!(secrets.ready().await.is_err());
        assert!(matches!(secrets.ready().await, Err(SecretError::Unavailable(_))), "within the pause: the same refusal");
        assert_eq!(vault.0.lock().unwrap().0, 1, "one read while the vault has just failed");
        secrets.first_failure.lock().unwrap().as_mut().unwrap().0 = Instant::now() - FIRST_READ_PAUSE;
        secrets.ready().await.unwrap();
        assert_eq!(vault.0.lock().unwrap().0, 2, "after the pause, read again");
        assert_eq!(secrets.accepted("shopify", at(1)), ["secret of s"]);
    }

    #[tokio::test]
    async fn configured_secrets_are_never_read_from_a_vault() {
        let secrets = WebhookSecrets::fixed(&BTreeMap::from([("shopify", vec!["a".to_string(), "b".to_string()])]));
        assert_eq!(secrets.accepted("shopify", at(0)), ["a", "b"]);
        assert!(!secrets.reread("shopify").await);
    }
}
