//! Fault injection at every port: wrappers that make the store, the queues, the stream
//! and the mailer fail the way real ones do, for the tests and `dropflow serve --chaos
//! <rate>`. A fault is an error before the call had any effect (an outage), throttling
//! (likewise, with the provider's word for it), or a timeout after the call took effect
//! (the write landed, the message was sent, the mail went out; the caller hears an
//! error all the same). The services must end with nothing lost and nothing doubled
//! through all three.

use crate::ports::{
    ChangeRecord, Condition, DeadLetter, DeadLetterQueue, EventFeed, Item, ItemStore, Mail, MailError, Mailer, Page, Publisher, Query, QueueConsumer,
    QueueError, QueueName, Received, Sender, StoreError, Write,
};
use crate::ports::{FollowedOrder, PlacedOrder, SupplierClient, SupplierCredentials, SupplierError, SupplierOrderRequest};
use async_trait::async_trait;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// One injected failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Fails before any effect: the service could not be reached.
    Error,
    /// Fails before any effect: the provider's rate limit.
    Throttle,
    /// Fails after the effect: the write landed, the caller timed out.
    TimeoutAfterEffect,
    /// Succeeds, after `SLOW_CALL`: a provider answering late, which lets a test hold
    /// one call open while something else happens. Queued, it waits (like a timeout
    /// after the effect) for a call with an effect: a slow write, a slow send.
    Slow,
    /// The process dies between two port calls: this call and every later one, on
    /// every port, fail before any effect until the process is restarted
    /// (`Chaos::restart`). Drawn only by the process-wide injector (`Chaos::process`),
    /// which sits outside the retry layer, so nothing retries into a dead process.
    Kill,
}

/// How long a `Fault::Slow` call takes.
pub const SLOW_CALL: std::time::Duration = std::time::Duration::from_secs(2);

/// When one port fails: a random share of calls, and any faults queued by a test for
/// the next calls. Counts what it injected.
#[derive(Debug)]
pub struct Faults {
    /// Failures per million calls.
    rate_ppm: AtomicU64,
    state: AtomicU64,
    queued: Mutex<VecDeque<Fault>>,
    injected: AtomicU64,
    /// Draws kills instead of the three call faults: the injector of a whole process.
    kills: bool,
    /// Set by a kill: the process is down until `restart`.
    down: AtomicBool,
}

impl Faults {
    /// Fails `rate` (0.0–1.0) of calls at random, each with one of the three faults.
    pub fn random(rate: f64, seed: u64) -> Faults {
        let ppm = (rate.clamp(0.0, 1.0) * 1_000_000.0).round() as u64;
        Faults {
            rate_ppm: AtomicU64::new(ppm),
            state: AtomicU64::new(seed | 1),
            queued: Mutex::new(VecDeque::new()),
            injected: AtomicU64::new(0),
            kills: false,
            down: AtomicBool::new(false),
        }
    }

    /// Kills the process at `rate` (0.0–1.0) of its port calls: the injector that
    /// `Chaos::process` puts around every port, outside the retry layer.
    pub fn killing(rate: f64, seed: u64) -> Faults {
        Faults { kills: true, ..Faults::random(rate, seed) }
    }

    /// Whether a kill has taken the process down (and no restart has brought it back).
    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::Relaxed)
    }

    /// Brings a killed process back; whether it was down.
    pub fn restart(&self) -> bool {
        self.down.swap(false, Ordering::Relaxed)
    }

    /// Never fails until told to.
    pub fn none() -> Faults {
        Faults::random(0.0, 1)
    }

    /// The next calls fail with `faults`, in order.
    pub fn queue(&self, faults: impl IntoIterator<Item = Fault>) {
        self.queued.lock().unwrap_or_else(|e| e.into_inner()).extend(faults);
    }

    /// How many queued faults are still to come (a test waits for a call to take one).
    pub fn pending(&self) -> usize {
        self.queued.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Sets the random failure rate (0 stops random faults).
    pub fn set_rate(&self, rate: f64) {
        self.rate_ppm.store((rate.clamp(0.0, 1.0) * 1_000_000.0).round() as u64, Ordering::Relaxed);
    }

    /// How many faults were injected so far.
    pub fn injected(&self) -> u64 {
        self.injected.load(Ordering::Relaxed)
    }

    /// xorshift64: enough randomness to scatter faults, reproducible from the seed.
    fn next_random(&self) -> u64 {
        let mut x = self.state.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.state.store(x, Ordering::Relaxed);
        x
    }

    /// The fault for this call, if any; `after_effect_possible` says whether the call has
    /// an effect that can land before a timeout (a read has none).
    fn draw(&self, after_effect_possible: bool) -> Option<Fault> {
        if self.is_down() {
            return Some(Fault::Kill);
        }
        // A queued timeout-after-effect or slow call waits for a call that has an effect
        // (a write), so a test can aim it past the reads before it.
        let queued = {
            let mut queued = self.queued.lock().unwrap_or_else(|e| e.into_inner());
            match queued.front() {
                Some(Fault::TimeoutAfterEffect | Fault::Slow) if !after_effect_possible => None,
                _ => queued.pop_front(),
            }
        };
        let fault = queued.or_else(|| {
            let ppm = self.rate_ppm.load(Ordering::Relaxed);
            if ppm == 0 || self.next_random() % 1_000_000 >= ppm {
                return None;
            }
            Some(match self.next_random() % 3 {
                _ if self.kills => Fault::Kill,
                0 => Fault::Error,
                1 => Fault::Throttle,
                _ => Fault::TimeoutAfterEffect,
            })
        })?;
        self.injected.fetch_add(1, Ordering::Relaxed);
        if fault == Fault::Kill {
            self.down.store(true, Ordering::Relaxed);
        }
        Some(if fault == Fault::TimeoutAfterEffect && !after_effect_possible { Fault::Error } else { fault })
    }
}

fn describe(fault: Fault) -> String {
    match fault {
        Fault::Error => "injected fault: service unavailable".into(),
        Fault::Throttle => "injected fault: throttled (rate exceeded)".into(),
        Fault::TimeoutAfterEffect => "injected fault: timed out after the call took effect".into(),
        Fault::Slow => "injected fault: a slow answer".into(),
        Fault::Kill => "injected fault: the process was killed".into(),
    }
}

/// Runs `call` under `faults`: a fault before the effect skips the call, one after it
/// runs the call and reports an error anyway.
async fn inject<T, E>(faults: &Faults, effect: bool, error: impl Fn(String) -> E, call: impl Future<Output = Result<T, E>>) -> Result<T, E> {
    match faults.draw(effect) {
        None => call.await,
        Some(Fault::TimeoutAfterEffect) => {
            call.await?;
            Err(error(describe(Fault::TimeoutAfterEffect)))
        }
        Some(Fault::Slow) => {
            tokio::time::sleep(SLOW_CALL).await;
            call.await
        }
        Some(fault) => Err(error(describe(fault))),
    }
}

/// A port wrapped with its fault injector.
pub struct Faulty<T> {
    inner: T,
    faults: std::sync::Arc<Faults>,
}

impl<T> Faulty<T> {
    pub fn new(inner: T, faults: std::sync::Arc<Faults>) -> Faulty<T> {
        Faulty { inner, faults }
    }
}

#[async_trait]
impl<T: ItemStore> ItemStore for Faulty<T> {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        inject(&self.faults, false, StoreError::Unavailable, self.inner.get(pk, sk)).await
    }
    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        inject(&self.faults, true, StoreError::Unavailable, self.inner.put(item, condition)).await
    }
    async fn delete(&self, pk: &str, sk: &str) -> Result<(), StoreError> {
        inject(&self.faults, true, StoreError::Unavailable, self.inner.delete(pk, sk)).await
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        inject(&self.faults, true, StoreError::Unavailable, self.inner.transact(writes)).await
    }
    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        inject(&self.faults, false, StoreError::Unavailable, self.inner.query(query)).await
    }
}

#[async_trait]
impl<T: Publisher> Publisher for Faulty<T> {
    async fn publish(&self, queue: QueueName, body: String) -> Result<(), QueueError> {
        inject(&self.faults, true, QueueError, self.inner.publish(queue, body)).await
    }
    async fn publish_batch(&self, queue: QueueName, bodies: Vec<String>) -> Vec<Result<(), QueueError>> {
        match self.faults.draw(true) {
            None => self.inner.publish_batch(queue, bodies).await,
            Some(Fault::Slow) => {
                tokio::time::sleep(SLOW_CALL).await;
                self.inner.publish_batch(queue, bodies).await
            }
            Some(Fault::TimeoutAfterEffect) => {
                let sent = self.inner.publish_batch(queue, bodies).await;
                sent.into_iter().map(|r| r.and(Err(QueueError(describe(Fault::TimeoutAfterEffect))))).collect()
            }
            Some(fault) => bodies.iter().map(|_| Err(QueueError(describe(fault)))).collect(),
        }
    }
    async fn park(&self, dead_letters: DeadLetterQueue, body: String, reason: &str) -> Result<(), QueueError> {
        inject(&self.faults, true, QueueError, self.inner.park(dead_letters, body, reason)).await
    }
}

#[async_trait]
impl<T: QueueConsumer> QueueConsumer for Faulty<T> {
    /// Fails before taking anything: a receive that leased messages and lost them would
    /// only delay them by the lease, which the queue's own tests cover.
    async fn receive(&self, queue: QueueName, max: usize, wait: std::time::Duration) -> Result<Vec<Received>, QueueError> {
        inject(&self.faults, false, QueueError, self.inner.receive(queue, max, wait)).await
    }
    async fn delete(&self, queue: QueueName, receipt: &str) -> Result<(), QueueError> {
        inject(&self.faults, true, QueueError, self.inner.delete(queue, receipt)).await
    }
    async fn retry_after(&self, queue: QueueName, receipt: &str, delay: std::time::Duration) -> Result<(), QueueError> {
        inject(&self.faults, true, QueueError, self.inner.retry_after(queue, receipt, delay)).await
    }
    async fn dead_letters(&self, dead_letters: DeadLetterQueue) -> Result<Vec<DeadLetter>, QueueError> {
        self.inner.dead_letters(dead_letters).await
    }
    async fn replay_dead_letters(&self, dead_letters: DeadLetterQueue) -> Result<usize, QueueError> {
        self.inner.replay_dead_letters(dead_letters).await
    }
    async fn discard_dead_letter(&self, dead_letters: DeadLetterQueue, message_id: &str) -> Result<bool, QueueError> {
        self.inner.discard_dead_letter(dead_letters, message_id).await
    }
}

#[async_trait]
impl<T: Mailer> Mailer for Faulty<T> {
    async fn send(&self, from: &Sender, mail: &Mail) -> Result<String, MailError> {
        inject(&self.faults, true, MailError::transient, self.inner.send(from, mail)).await
    }
    fn claim_lease(&self) -> std::time::Duration {
        self.inner.claim_lease()
    }
    fn keeps_copies(&self) -> bool {
        self.inner.keeps_copies()
    }
    async fn redact(&self, order_id: &crate::domain::ids::OrderId, personal: &crate::domain::privacy::PersonalData) -> Result<usize, MailError> {
        inject(&self.faults, true, MailError::transient, self.inner.redact(order_id, personal)).await
    }
}

#[async_trait]
impl<T: EventFeed> EventFeed for Faulty<T> {
    async fn next_batch(&self, max: usize) -> Result<Vec<ChangeRecord>, StoreError> {
        inject(&self.faults, false, StoreError::Unavailable, self.inner.next_batch(max)).await
    }
    async fn acknowledge(&self, records: &[ChangeRecord]) -> Result<(), StoreError> {
        inject(&self.faults, true, StoreError::Unavailable, self.inner.acknowledge(records)).await
    }
}

#[async_trait]
impl SupplierClient for Faulty<std::sync::Arc<dyn SupplierClient>> {
    fn api(&self) -> crate::domain::supplier::SupplierApi {
        self.inner.api()
    }
    async fn connect(&self, grant: &str, now: chrono::DateTime<chrono::Utc>) -> Result<SupplierCredentials, SupplierError> {
        inject(&self.faults, false, unavailable, self.inner.connect(grant, now)).await
    }
    async fn refresh(&self, credentials: &SupplierCredentials, now: chrono::DateTime<chrono::Utc>) -> Result<SupplierCredentials, SupplierError> {
        inject(&self.faults, false, unavailable, self.inner.refresh(credentials, now)).await
    }
    /// A timeout after the effect: the supplier created the order, the answer was lost.
    async fn place(&self, credentials: &SupplierCredentials, order: &SupplierOrderRequest) -> Result<PlacedOrder, SupplierError> {
        inject(&self.faults, true, unavailable, self.inner.place(credentials, order)).await
    }
    async fn find(&self, credentials: &SupplierCredentials, out_order_id: &str) -> Result<Option<PlacedOrder>, SupplierError> {
        inject(&self.faults, false, unavailable, self.inner.find(credentials, out_order_id)).await
    }
    async fn follow(&self, credentials: &SupplierCredentials, reference: &str) -> Result<FollowedOrder, SupplierError> {
        inject(&self.faults, false, unavailable, self.inner.follow(credentials, reference)).await
    }
    async fn offer(
        &self,
        credentials: &SupplierCredentials,
        link: &crate::domain::supplier::SupplierLink,
        ship_to: &str,
        currency: crate::domain::money::Currency,
    ) -> Result<crate::ports::SupplierOffer, SupplierError> {
        inject(&self.faults, false, unavailable, self.inner.offer(credentials, link, ship_to, currency)).await
    }
    async fn methods(
        &self,
        credentials: &SupplierCredentials,
        link: &crate::domain::supplier::SupplierLink,
        offer: &crate::ports::SupplierOffer,
        ship_to: &str,
    ) -> Result<Vec<String>, SupplierError> {
        inject(&self.faults, false, unavailable, self.inner.methods(credentials, link, offer, ship_to)).await
    }
}

/// An injected supplier fault as the supplier's unavailability.
fn unavailable(reason: String) -> SupplierError {
    SupplierError::Unavailable { reason, after: None }
}

/// One fault injector per port, as `dropflow serve --chaos` and the tests switch them.
#[derive(Debug, Clone)]
pub struct Chaos {
    pub store: std::sync::Arc<Faults>,
    pub queues: std::sync::Arc<Faults>,
    pub mailer: std::sync::Arc<Faults>,
    pub feed: std::sync::Arc<Faults>,
    /// The suppliers' APIs (a create that times out after the supplier made the order).
    pub suppliers: std::sync::Arc<Faults>,
    /// The process: kills it between two port calls (`Fault::Kill`), on any port.
    pub process: std::sync::Arc<Faults>,
}

impl Chaos {
    /// Every port failing `rate` of its calls at random.
    pub fn random(rate: f64) -> Chaos {
        Chaos::seeded(rate, getrandom::u64().unwrap_or(7))
    }

    /// Every port failing `rate` of its calls, the same calls for the same `seed` (the
    /// simulation replays a history's faults from its seed).
    pub fn seeded(rate: f64, seed: u64) -> Chaos {
        let seed = seed | 1;
        let port = |n: u64| std::sync::Arc::new(Faults::random(rate, seed.wrapping_mul(n)));
        Chaos {
            store: port(3),
            queues: port(5),
            mailer: port(7),
            feed: port(11),
            suppliers: port(17),
            process: std::sync::Arc::new(Faults::killing(0.0, seed.wrapping_mul(13))),
        }
    }

    /// Kills the process at `rate` of its port calls from now on (0 stops it). Only
    /// something that restarts it (`restart`) may turn this on: `dropflow serve
    /// --chaos` does not, the simulation does.
    pub fn set_kill_rate(&self, rate: f64) {
        self.process.set_rate(rate);
    }

    /// Whether the process is down, killed by a fault.
    pub fn is_down(&self) -> bool {
        self.process.is_down()
    }

    /// Brings a killed process back (what a new Lambda instance or a restarted `dropflow
    /// serve` is); whether it was down.
    pub fn restart(&self) -> bool {
        self.process.restart()
    }

    /// Every port failing `rate` of its calls from now on.
    pub fn set_rate(&self, rate: f64) {
        for port in [&self.store, &self.queues, &self.mailer, &self.feed, &self.suppliers] {
            port.set_rate(rate);
        }
    }

    /// No random faults; tests queue the ones they want.
    pub fn quiet() -> Chaos {
        Chaos::random(0.0)
    }

    /// Faults injected so far, on every port.
    pub fn injected(&self) -> u64 {
        [&self.store, &self.queues, &self.mailer, &self.feed, &self.suppliers, &self.process].iter().map(|f| f.injected()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queued_faults_come_first_and_a_timeout_after_effect_waits_for_a_write() {
        let faults = Faults::none();
        faults.queue([Fault::Throttle, Fault::TimeoutAfterEffect]);
        assert_eq!(faults.draw(false), Some(Fault::Throttle));
        assert_eq!(faults.draw(false), None, "a read passes the queued timeout by");
        assert_eq!(faults.draw(true), Some(Fault::TimeoutAfterEffect));
        assert_eq!(faults.draw(true), None);
        assert_eq!(faults.injected(), 2);
    }

    #[test]
    fn a_kill_fails_every_later_call_until_the_process_restarts() {
        let process = Faults::killing(0.0, 1);
        assert_eq!(process.draw(true), None);
        process.queue([Fault::Kill]);
        assert_eq!(process.draw(false), Some(Fault::Kill));
        assert!(process.is_down());
        assert_eq!(process.draw(true), Some(Fault::Kill), "a dead process makes no call");
        assert_eq!(process.draw(false), Some(Fault::Kill));
        assert!(process.restart());
        assert_eq!(process.draw(true), None);
        assert!(!process.restart(), "restarting a live process changes nothing");
        let random = Faults::killing(0.5, 9);
        assert!((0..100).any(|_| random.draw(true) == Some(Fault::Kill)));
    }

    #[test]
    fn a_random_rate_fails_about_that_share_of_calls() {
        let faults = Faults::random(0.1, 42);
        let failed = (0..100_000).filter(|_| faults.draw(true).is_some()).count();
        assert!((9_000..11_000).contains(&failed), "{failed}");
    }
}
