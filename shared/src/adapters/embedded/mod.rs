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
use std::cell::Cell;
use std::path::Path;
use std::sync::Arc;

/// How long a received message stays hidden, as the template's queues: 6× the
/// consumer's 30 s timeout.
const DEFAULT_VISIBILITY: std::time::Duration = std::time::Duration::from_secs(180);

/// Work for the database's thread: it runs inside the thread's group (see `Group`) and
/// gives back how to answer its caller, which the thread calls once the group's outcome
/// is known, so that no caller hears of a write before it is committed.
type Job = Box<dyn FnOnce(&Group) -> Reply + Send>;

/// Answers one job's caller with the outcome of its group's commit.
type Reply = Box<dyn FnOnce(Result<(), String>) + Send>;

/// The most jobs one group takes: enough to spread a commit over a burst of webhooks and
/// deliveries, few enough that the first of them is not kept waiting long for the last.
const MAX_GROUP: usize = 64;

/// How much of the database file SQLite maps into memory for reading.
const MMAP_BYTES: i64 = 256 * 1024 * 1024;

/// WAL pages after which a commit copies the WAL into the database (SQLite's default is
/// 1,000 pages, 4 MB).
const WAL_CHECKPOINT_PAGES: i64 = 10_000;

/// Prepared statements kept per connection: the adapters' fixed statements and the
/// store's query shapes (index, direction, bounds, cursor) with room to spare.
const STATEMENT_CACHE: usize = 128;

/// One SQLite database shared by the store and the queues.
#[derive(Clone)]
pub struct Database {
    /// The database's own thread, which owns the connection and runs every caller's
    /// work on it, in groups that share one commit (see `run_jobs`).
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
            // Each commit is on the disk before any caller of its group is answered, so
            // a power cut loses nothing acknowledged (a webhook's 200 included). Group
            // commit (`run_jobs`) makes that one `fsync` per group, not per write.
            .and_then(|_| connection.pragma_update(None, "synchronous", "FULL"))
            // Reads from a memory map, not a `pread` each (the profile of the local
            // throughput benchmark had them among its top kernel symbols).
            .and_then(|_| connection.pragma_update(None, "mmap_size", MMAP_BYTES))
            // A job's savepoint journals the pages it changes; in memory, not in a temp
            // file (pwrite of those pages was 8 % of the local pipeline's profile).
            .and_then(|_| connection.pragma_update(None, "temp_store", "MEMORY"))
            // Checkpoint less often: a page written by many groups between two
            // checkpoints is copied into the database once.
            .and_then(|_| connection.pragma_update(None, "wal_autocheckpoint", WAL_CHECKPOINT_PAGES))
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
            .spawn(move || run_jobs(&connection, &queue))
            .map_err(|e| format!("cannot start the database thread: {e}"))?;
        Ok(Database { jobs, visibility: DEFAULT_VISIBILITY, clock: Arc::new(crate::ports::SystemClock) })
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

    /// Runs `work` on the database's own thread and waits for it without blocking, so
    /// that a slow disk or a write lock held by another process never stalls the HTTP
    /// server or the other consumers. One thread, not tokio's blocking pool: the work is
    /// serialized on the one connection anyway, and a pool thread per call spent more in
    /// waking threads and contending for the connection than in SQLite (the profile in
    /// BENCHMARKS.md, local throughput). `failed` words a job that could not run or
    /// whose group could not commit.
    async fn off_runtime<T, E>(&self, work: impl FnOnce(&Held<'_>) -> Result<T, E> + Send + 'static, failed: fn(String) -> E) -> Result<T, E>
    where
        T: Send + 'static,
        E: Send + 'static,
    {
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.submit(work, failed, move |result| {
            let _ = answer.send(result);
        })?;
        answered.await.unwrap_or_else(|_| Err(failed("database task failed".into())))
    }

    /// `off_runtime` for a caller that is not async (the lease release at start-up):
    /// blocks this thread until the job's group has committed.
    fn on_thread_blocking<T, E>(&self, work: impl FnOnce(&Held<'_>) -> Result<T, E> + Send + 'static, failed: fn(String) -> E) -> Result<T, E>
    where
        T: Send + 'static,
        E: Send + 'static,
    {
        let (answer, answered) = std::sync::mpsc::sync_channel(1);
        self.submit(work, failed, move |result| {
            let _ = answer.send(result);
        })?;
        answered.recv().unwrap_or_else(|_| Err(failed("database task failed".into())))
    }

    /// Hands `work` to the database's thread; `answer` gets its result once its group's
    /// commit is known (a job that succeeded in a group that failed to commit gets the
    /// commit's error: nothing it wrote was kept).
    fn submit<T, E>(
        &self,
        work: impl FnOnce(&Held<'_>) -> Result<T, E> + Send + 'static,
        failed: fn(String) -> E,
        answer: impl FnOnce(Result<T, E>) + Send + 'static,
    ) -> Result<(), E>
    where
        T: Send + 'static,
        E: Send + 'static,
    {
        let db = self.clone();
        let job: Job = Box::new(move |group| {
            let result = work(&Held { db: &db, group });
            Box::new(move |committed| {
                answer(match (result, committed) {
                    (Ok(_), Err(error)) => Err(failed(error)),
                    (result, _) => result,
                })
            })
        });
        self.jobs.send(job).map_err(|_| failed("the database thread has stopped".into()))
    }
}

/// The database thread's loop. It takes every job already waiting (up to `MAX_GROUP`)
/// as one group, runs them one after another in one transaction, each write in a
/// savepoint of its own, commits once, and only then answers them. Group commit: under
/// load one commit (and its WAL pages) serves many callers; a lone job is run at once,
/// never held back to wait for company. Ends when the last handle on the database is
/// dropped.
fn run_jobs(connection: &Connection, queue: &std::sync::mpsc::Receiver<Job>) {
    while let Ok(first) = queue.recv() {
        let group = Group { connection, open: Cell::new(false) };
        let mut replies = Vec::with_capacity(MAX_GROUP);
        for job in std::iter::once(first).chain(std::iter::from_fn(|| queue.try_recv().ok()).take(MAX_GROUP - 1)) {
            // A job that panics fails its caller (its reply is never made), not the
            // others: its savepoint is rolled back as the panic unwinds.
            if let Ok(reply) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&group))) {
                replies.push(reply);
            }
        }
        let outcome = group.finish();
        tracing::trace!(jobs = replies.len(), wrote = group.open.get(), "database group done");
        for reply in replies {
            reply(outcome.clone());
        }
    }
}

/// One group of jobs on the connection: the IMMEDIATE transaction its first write opens
/// (the write lock taken up front, so another process cannot change what a job reads
/// before it commits), committed by `finish`.
struct Group<'a> {
    connection: &'a Connection,
    open: Cell<bool>,
}

impl Group<'_> {
    /// Opens the group's transaction if no write has yet. One that SQLite rolled back
    /// under the group (an I/O error, a full disk) is an error for every later write:
    /// run outside it, a write would commit on its own, ahead of the group's outcome.
    fn begin(&self) -> rusqlite::Result<()> {
        if !self.open.get() {
            run(self.connection, "BEGIN IMMEDIATE")?;
            self.open.set(true);
        } else if self.connection.is_autocommit() {
            return Err(lost());
        }
        Ok(())
    }

    /// Commits what the group wrote, if it wrote anything: the outcome every job of
    /// the group is answered with.
    fn finish(&self) -> Result<(), String> {
        if !self.open.get() {
            return Ok(());
        }
        if self.connection.is_autocommit() {
            return Err(lost().to_string());
        }
        run(self.connection, "COMMIT").map_err(|e| {
            let _ = run(self.connection, "ROLLBACK");
            e.to_string()
        })
    }
}

/// Runs one of the fixed statements that begin and end groups and savepoints, prepared
/// once (each parse of them was a measurable share of a small job).
fn run(connection: &Connection, sql: &str) -> rusqlite::Result<()> {
    connection.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// The error of a group whose transaction SQLite ended on its own.
fn lost() -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ABORT), Some("the group's transaction was rolled back".into()))
}

/// What a job's work gets: the connection, inside its group, and the database's settings.
struct Held<'a> {
    db: &'a Database,
    group: &'a Group<'a>,
}

impl std::ops::Deref for Held<'_> {
    type Target = Database;

    fn deref(&self) -> &Database {
        self.db
    }
}

impl Held<'_> {
    /// Runs `work` as one all-or-nothing step of the group's transaction: in a
    /// savepoint, released if `work` succeeds and rolled back if it fails or panics.
    fn write<T, E: From<rusqlite::Error>>(&self, work: impl FnOnce(&Connection) -> Result<T, E>) -> Result<T, E> {
        self.group.begin()?;
        let savepoint = Savepoint::new(self.group.connection)?;
        let result = work(self.group.connection)?;
        savepoint.release()?;
        Ok(result)
    }

    /// Runs `work`, which only reads (inside the group's transaction if one is open, so
    /// it sees what the jobs before it wrote).
    fn read<T>(&self, work: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> rusqlite::Result<T> {
        work(self.group.connection)
    }
}

/// A job's savepoint: rolled back when dropped unreleased (an error or a panic of its
/// work), so that the group keeps only the jobs that succeeded.
struct Savepoint<'a> {
    connection: &'a Connection,
    released: bool,
}

impl<'a> Savepoint<'a> {
    fn new(connection: &'a Connection) -> rusqlite::Result<Savepoint<'a>> {
        run(connection, "SAVEPOINT job")?;
        Ok(Savepoint { connection, released: false })
    }

    fn release(mut self) -> rusqlite::Result<()> {
        self.released = true;
        run(self.connection, "RELEASE job")
    }
}

impl Drop for Savepoint<'_> {
    fn drop(&mut self) {
        if !self.released {
            let _ = run(self.connection, "ROLLBACK TO job").and_then(|_| run(self.connection, "RELEASE job"));
        }
    }
}

#[cfg(test)]
mod group_commit_tests {
    use super::*;
    use std::sync::mpsc;

    /// A database whose thread is held by a job until the returned sender is used (or
    /// dropped), so that the jobs submitted meanwhile wait together and run as one group.
    fn plugged() -> (Database, mpsc::Sender<()>, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(dir.path()).unwrap();
        let created = db.on_thread_blocking(|db| db.write(|c| c.execute_batch("CREATE TABLE t (k TEXT PRIMARY KEY)")), |e| panic!("{e}"));
        created.unwrap();
        let (unplug, plug) = mpsc::channel::<()>();
        db.submit(
            move |_| {
                let _ = plug.recv();
                Ok::<_, String>(())
            },
            |e| e,
            |_| {},
        )
        .unwrap();
        (db, unplug, dir)
    }

    /// Submits `work` and gives back where its answer arrives.
    fn submit<T: Send + 'static>(db: &Database, work: impl FnOnce(&Held<'_>) -> rusqlite::Result<T> + Send + 'static) -> mpsc::Receiver<Result<T, String>> {
        let (answer, answered) = mpsc::channel();
        let failed = |e: String| rusqlite::Error::InvalidParameterName(e);
        db.submit(work, failed, move |result: rusqlite::Result<T>| answer.send(result.map_err(|e| e.to_string())).unwrap()).unwrap();
        answered
    }

    fn insert(db: &Database, keys: &'static [&'static str]) -> mpsc::Receiver<Result<(), String>> {
        submit(db, move |db| db.write(|c| keys.iter().try_for_each(|k| c.execute("INSERT INTO t (k) VALUES (?1)", [k]).map(|_| ()))))
    }

    fn keys(db: &Database) -> Vec<String> {
        let rows = submit(db, |db| db.read(|c| c.prepare("SELECT k FROM t ORDER BY k")?.query_map([], |r| r.get(0))?.collect()));
        rows.recv().unwrap().unwrap()
    }

    #[test]
    fn jobs_that_wait_together_share_a_commit_but_each_keeps_its_own_outcome() {
        let (db, unplug, _dir) = plugged();
        let first = insert(&db, &["a"]);
        // Its second insert fails: its first must not be kept, nor the others undone.
        let failing = insert(&db, &["b", "a"]);
        let last = insert(&db, &["c"]);
        let seen = submit(&db, |db| db.read(|c| c.query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0))));
        unplug.send(()).unwrap();

        assert_eq!(first.recv().unwrap(), Ok(()));
        assert!(failing.recv().unwrap().unwrap_err().contains("UNIQUE"));
        assert_eq!(last.recv().unwrap(), Ok(()));
        assert_eq!(seen.recv().unwrap(), Ok(2), "a read in the group sees what the jobs before it kept");
        assert_eq!(keys(&db), ["a", "c"]);
    }

    #[test]
    fn a_job_that_panics_loses_its_own_writes_and_fails_only_its_caller() {
        let (db, unplug, _dir) = plugged();
        let first = insert(&db, &["a"]);
        let panicking = submit(&db, |db| -> rusqlite::Result<()> {
            db.write(|c| {
                c.execute("INSERT INTO t (k) VALUES ('x')", [])?;
                panic!("a bug in the middle of a write")
            })
        });
        let last = insert(&db, &["c"]);
        unplug.send(()).unwrap();

        assert_eq!(first.recv().unwrap(), Ok(()));
        assert!(panicking.recv().is_err(), "its caller hears that the job failed");
        assert_eq!(last.recv().unwrap(), Ok(()));
        assert_eq!(keys(&db), ["a", "c"]);
    }

    #[test]
    fn a_group_whose_transaction_sqlite_ended_tells_every_writer_it_failed() {
        let (db, unplug, _dir) = plugged();
        let before = insert(&db, &["a"]);
        // As SQLite does on an I/O error or a full disk: the whole transaction is gone.
        let ended = submit(&db, |db| db.read(|c| c.execute_batch("ROLLBACK")));
        let after = insert(&db, &["c"]);
        unplug.send(()).unwrap();

        assert!(before.recv().unwrap().unwrap_err().contains("rolled back"), "what it wrote was not kept");
        assert!(ended.recv().unwrap().is_err());
        assert!(after.recv().unwrap().unwrap_err().contains("rolled back"), "it must not commit on its own, outside the group");
        assert!(keys(&db).is_empty());
    }

    #[test]
    fn a_group_that_only_reads_takes_no_write_lock() {
        let (db, unplug, dir) = plugged();
        let read = submit(&db, |db| db.read(|c| c.query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0))));
        let open = submit(&db, |db| Ok(db.group.open.get()));
        unplug.send(()).unwrap();
        assert_eq!(read.recv().unwrap(), Ok(0));
        assert_eq!(open.recv().unwrap(), Ok(false));
        // Another process can write meanwhile.
        let other = Connection::open(dir.path().join("dropflow.db")).unwrap();
        other.execute("INSERT INTO t (k) VALUES ('z')", []).unwrap();
        assert_eq!(keys(&db), ["z"]);
    }
}
