//! The embedded adapters: the item store, its change log (the stream of committed
//! events) and the queues in one SQLite file (WAL, so the server and the operator
//! commands can use the same data dir at once), mail as `.eml` files in an outbox folder.

mod outbox;
mod queue;
mod sealer;
mod store;

pub use outbox::{OutboxMailer, list_outbox};
pub use sealer::LocalSealer;
pub use store::EmbeddedStore;

use rusqlite::Connection;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// How long a received message stays hidden, as the template's queues: 6× the
/// consumer's 30 s timeout.
const DEFAULT_VISIBILITY: std::time::Duration = std::time::Duration::from_secs(180);

/// Work for the database's thread.
type Job = Box<dyn FnOnce() + Send>;

/// How much of the database file SQLite maps into memory for reading.
const MMAP_BYTES: i64 = 256 * 1024 * 1024;

/// Prepared statements kept per connection: the adapters' fixed statements and the
/// store's query shapes (index, direction, bounds, cursor) with room to spare.
const STATEMENT_CACHE: usize = 128;

/// One SQLite database shared by the store and the queues.
#[derive(Clone)]
pub struct Database {
    connection: Arc<Mutex<Connection>>,
    /// The database's own thread, which runs the async callers' work one job after
    /// another (see `off_runtime`).
    jobs: std::sync::mpsc::Sender<Job>,
    /// How long a received message stays hidden before it is offered again.
    visibility: std::time::Duration,
    /// The time the queues' leases and backoffs are measured in: the system's clock, so
    /// that a jump of a test's clock brings leased messages back as time passing would.
    clock: Arc<dyn crate::ports::Clock>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS items (
    pk TEXT NOT NULL, sk TEXT NOT NULL,
    gsi1pk TEXT, gsi1sk TEXT, gsi2pk TEXT, gsi2sk TEXT, gsi3pk TEXT, gsi3sk TEXT,
    body TEXT NOT NULL,
    PRIMARY KEY (pk, sk)
) WITHOUT ROWID;
DROP INDEX IF EXISTS items_gsi1;
DROP INDEX IF EXISTS items_gsi2;
DROP INDEX IF EXISTS items_gsi3;
CREATE INDEX IF NOT EXISTS items_gsi1_ordered ON items (gsi1pk, gsi1sk, pk, sk) WHERE gsi1pk IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_gsi2_ordered ON items (gsi2pk, gsi2sk, pk, sk) WHERE gsi2pk IS NOT NULL;
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL, body TEXT NOT NULL,
    visible_at INTEGER NOT NULL, receive_count INTEGER NOT NULL DEFAULT 0, receipt TEXT
);
CREATE INDEX IF NOT EXISTS messages_ready ON messages (queue, visible_at);
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY, queue TEXT NOT NULL, body TEXT NOT NULL, receive_count INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL
);
";

/// Columns added after a table was first created: (table, column definition). Adding
/// one that exists fails harmlessly, so an older data dir is brought up to date.
const ADDED_COLUMNS: [(&str, &str); 5] =
    [("dead_letters", "reason TEXT"), ("items", "gsi3pk TEXT"), ("items", "gsi3sk TEXT"), ("messages", "sent_at INTEGER"), ("dead_letters", "sent_at INTEGER")];

impl Database {
    /// Opens (creating if needed) `<data_dir>/dropflow.db`.
    pub fn open(data_dir: &Path) -> Result<Database, String> {
        std::fs::create_dir_all(data_dir).map_err(|e| format!("cannot create data dir {}: {e}", data_dir.display()))?;
        let path = data_dir.join("dropflow.db");
        let connection = Connection::open(&path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        connection
            .busy_timeout(std::time::Duration::from_secs(10))
            .and_then(|_| connection.pragma_update(None, "journal_mode", "WAL"))
            .and_then(|_| connection.pragma_update(None, "synchronous", "NORMAL"))
            // Reads from a memory map, not a `pread` each (the profile of the local
            // throughput benchmark had them among its top kernel symbols).
            .and_then(|_| connection.pragma_update(None, "mmap_size", MMAP_BYTES))
            .and_then(|_| connection.execute_batch(SCHEMA))
            .map_err(|e| format!("cannot prepare {}: {e}", path.display()))?;
        for (table, column) in ADDED_COLUMNS {
            match connection.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column}")) {
                Err(e) if !e.to_string().contains("duplicate column") => return Err(format!("cannot prepare {}: {e}", path.display())),
                _ => {}
            }
        }
        connection
            .execute_batch("CREATE INDEX IF NOT EXISTS items_gsi3_ordered ON items (gsi3pk, gsi3sk, pk, sk) WHERE gsi3pk IS NOT NULL;")
            .map_err(|e| format!("cannot prepare {}: {e}", path.display()))?;
        // Every statement is prepared once per connection (`prepare_cached`): compiling
        // the SQL again for each call was a good part of a write's time.
        connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("dropflow-db".into())
            .spawn(move || {
                // Ends when the last handle on the database is dropped. A job that panics
                // fails its caller (its answer is never sent), not the jobs after it.
                for job in queue {
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                }
            })
            .map_err(|e| format!("cannot start the database thread: {e}"))?;
        Ok(Database { connection: Arc::new(Mutex::new(connection)), jobs, visibility: DEFAULT_VISIBILITY, clock: Arc::new(crate::ports::SystemClock) })
    }

    /// The same database with another queue visibility timeout (tests that watch
    /// redelivery use seconds).
    pub fn with_visibility(self, visibility: std::time::Duration) -> Database {
        Database { visibility, ..self }
    }

    /// The same database with its queues on `clock` (the system's; the wall clock when
    /// not given).
    pub fn with_clock(self, clock: Arc<dyn crate::ports::Clock>) -> Database {
        Database { clock, ..self }
    }

    /// Now, in milliseconds, as the queues measure leases.
    fn now_ms(&self) -> i64 {
        self.clock.now().timestamp_millis()
    }

    /// Runs `work` inside an IMMEDIATE transaction (the write lock is taken up front, so
    /// another process cannot change what `work` reads before it commits).
    fn write<T, E: From<rusqlite::Error>>(&self, work: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, E>) -> Result<T, E> {
        let mut connection = self.connection.lock().unwrap_or_else(|e| e.into_inner());
        let transaction = connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let result = work(&transaction)?;
        transaction.commit()?;
        Ok(result)
    }

    /// Runs `work` on the database's own thread and waits for it without blocking, so
    /// that a slow disk or a write lock held by another process never stalls the HTTP
    /// server or the other consumers. One thread, not tokio's blocking pool: the work is
    /// serialized on the one connection anyway, and a pool thread per call spent more in
    /// waking threads and contending for the connection than in SQLite (the profile in
    /// BENCHMARKS.md, local throughput). `failed` words a job that could not run.
    async fn off_runtime<T, E>(&self, work: impl FnOnce(&Database) -> Result<T, E> + Send + 'static, failed: impl FnOnce(String) -> E) -> Result<T, E>
    where
        T: Send + 'static,
        E: Send + 'static,
    {
        let db = self.clone();
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = answer.send(work(&db));
        });
        if self.jobs.send(job).is_err() {
            return Err(failed("the database thread has stopped".into()));
        }
        match answered.await {
            Ok(result) => result,
            Err(_) => Err(failed("database task failed".into())),
        }
    }

    fn read<T>(&self, work: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> rusqlite::Result<T> {
        let connection = self.connection.lock().unwrap_or_else(|e| e.into_inner());
        work(&connection)
    }
}
