//! The item store on SQLite: the same keys, conditions, transactions and queries as the
//! DynamoDB table, so the services cannot tell them apart.

use super::{Database, Held};
use crate::adapters::cursor;
use crate::ports::{ChangeRecord, Condition, EventFeed, Item, ItemStore, Page, Query, StoreError, UnreadableEvent, Write};
use crate::store::is_event_insert;
use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

/// The embedded `ItemStore`.
#[derive(Clone)]
pub struct EmbeddedStore {
    db: Database,
}

impl EmbeddedStore {
    pub fn new(db: Database) -> Self {
        EmbeddedStore { db }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        StoreError::Unavailable(error.to_string())
    }
}

fn key(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_str()).map(str::to_string)
}

fn check(tx: &Connection, pk: &str, sk: &str, condition: &Condition) -> Result<(), StoreError> {
    if *condition == Condition::Always {
        return Ok(());
    }
    let body: Option<String> = tx.prepare_cached("SELECT body FROM items WHERE pk = ?1 AND sk = ?2")?.query_row(params![pk, sk], |r| r.get(0)).optional()?;
    let holds = match (condition, body) {
        (Condition::NotExists, existing) => existing.is_none(),
        (Condition::VersionIs(expected), Some(body)) => {
            let stored: Item = serde_json::from_str(&body).map_err(|e| StoreError::Unavailable(e.to_string()))?;
            stored.get("version").and_then(|v| v.as_u64()) == Some(*expected)
        }
        _ => false,
    };
    if holds { Ok(()) } else { Err(StoreError::ConditionFailed) }
}

/// DynamoDB's limits, kept here so that what the embedded store accepts fits on AWS:
/// an item (`ports::MAX_ITEM_BYTES`, counted as its JSON), a partition key and a sort
/// key, in bytes.
pub use crate::ports::MAX_ITEM_BYTES;
pub const MAX_PARTITION_KEY_BYTES: usize = 2048;
pub const MAX_SORT_KEY_BYTES: usize = 1024;

/// Refuses an item or key DynamoDB would refuse.
fn within_limits(item: &Item, body: &str) -> Result<(), StoreError> {
    if body.len() > MAX_ITEM_BYTES {
        return Err(StoreError::TooLarge(format!("an item of {} bytes is over the item limit of {MAX_ITEM_BYTES}", body.len())));
    }
    for (name, limit) in [
        ("pk", MAX_PARTITION_KEY_BYTES),
        ("gsi1pk", MAX_PARTITION_KEY_BYTES),
        ("gsi2pk", MAX_PARTITION_KEY_BYTES),
        ("gsi3pk", MAX_PARTITION_KEY_BYTES),
        ("sk", MAX_SORT_KEY_BYTES),
        ("gsi1sk", MAX_SORT_KEY_BYTES),
        ("gsi2sk", MAX_SORT_KEY_BYTES),
        ("gsi3sk", MAX_SORT_KEY_BYTES),
    ] {
        if let Some(value) = key(item, name).filter(|v| v.len() > limit) {
            return Err(StoreError::TooLarge(format!("key {name} of {} bytes is over its limit of {limit}", value.len())));
        }
    }
    Ok(())
}

fn exists(tx: &Connection, pk: &str, sk: &str) -> Result<bool, StoreError> {
    Ok(tx.prepare_cached("SELECT 1 FROM items WHERE pk = ?1 AND sk = ?2")?.query_row(params![pk, sk], |_| Ok(())).optional()?.is_some())
}

/// A put made ready off the database's thread: the item's keys and stored JSON, so that
/// the thread, which every caller waits on, spends its time in SQLite only.
struct Put {
    pk: String,
    sk: String,
    /// gsi1pk, gsi1sk, gsi2pk, gsi2sk, gsi3pk, gsi3sk, as the table's columns.
    index_keys: [Option<String>; 6],
    body: String,
    condition: Condition,
}

impl Put {
    /// Refuses an item without its keys, or one DynamoDB would refuse.
    fn new(item: &Item, condition: Condition) -> Result<Put, StoreError> {
        let (pk, sk) = match (key(item, "pk"), key(item, "sk")) {
            (Some(pk), Some(sk)) => (pk, sk),
            _ => return Err(StoreError::Unreadable { key: "?".into(), reason: "item without pk/sk".into() }),
        };
        let body = serde_json::to_string(item).map_err(|e| StoreError::Unreadable { key: format!("{pk}/{sk}"), reason: e.to_string() })?;
        within_limits(item, &body)?;
        let index_keys = ["gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "gsi3pk", "gsi3sk"].map(|name| key(item, name));
        Ok(Put { pk, sk, index_keys, body, condition })
    }
}

/// One write of a transaction as the database's thread applies it: a put comes with its
/// key, index keys and body already made (on the caller's thread, not the database's).
enum Step {
    Put(Put),
    Delete { pk: String, sk: String, condition: Condition },
    Check { pk: String, sk: String, condition: Condition },
    Add { pk: String, sk: String, add: Vec<(String, i64)>, condition: Condition },
}

impl Step {
    fn new(write: Write) -> Result<Step, StoreError> {
        Ok(match write {
            Write::Put { item, condition } => Step::Put(Put::new(&item, condition)?),
            Write::Delete { pk, sk, condition } => Step::Delete { pk, sk, condition },
            Write::Check { pk, sk, condition } => Step::Check { pk, sk, condition },
            Write::Add { pk, sk, add, condition } => Step::Add { pk, sk, add, condition },
        })
    }
}

fn put(tx: &Connection, put: &Put) -> Result<(), StoreError> {
    let Put { pk, sk, index_keys: [g1pk, g1sk, g2pk, g2sk, g3pk, g3sk], body, condition } = put;
    check(tx, pk, sk, condition)?;
    // The change log is the stream, already filtered as the event source mapping
    // filters it: inserted event items only, in commit order.
    if is_event_insert("INSERT", Some(sk)) && !exists(tx, pk, sk)? {
        tx.prepare_cached("INSERT INTO changes (body) VALUES (?1)")?.execute(params![body])?;
    }
    tx.prepare_cached(
        "INSERT OR REPLACE INTO items (pk, sk, gsi1pk, gsi1sk, gsi2pk, gsi2sk, gsi3pk, gsi3sk, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![pk, sk, g1pk, g1sk, g2pk, g2sk, g3pk, g3sk, body])?;
    Ok(())
}

fn apply(tx: &Connection, step: &Step) -> Result<(), StoreError> {
    match step {
        Step::Put(p) => put(tx, p)?,
        Step::Delete { pk, sk, condition } => {
            check(tx, pk, sk, condition)?;
            tx.prepare_cached("DELETE FROM items WHERE pk = ?1 AND sk = ?2")?.execute(params![pk, sk])?;
        }
        Step::Check { pk, sk, condition } => check(tx, pk, sk, condition)?,
        Step::Add { pk, sk, add, condition } => {
            check(tx, pk, sk, condition)?;
            let body: Option<String> =
                tx.prepare_cached("SELECT body FROM items WHERE pk = ?1 AND sk = ?2")?.query_row(params![pk, sk], |r| r.get(0)).optional()?;
            let mut item: Item = match body {
                Some(body) => serde_json::from_str(&body).map_err(|e| StoreError::Unreadable { key: format!("{pk}/{sk}"), reason: e.to_string() })?,
                None => Item::from_iter([("pk".to_string(), pk.as_str().into()), ("sk".to_string(), sk.as_str().into())]),
            };
            for (name, amount) in add.iter().chain(std::iter::once(&("version".to_string(), 1))) {
                let sum = match item.get(name) {
                    None => Some(*amount),
                    Some(value) => value.as_i64().and_then(|n| n.checked_add(*amount)),
                };
                let sum = sum.ok_or_else(|| StoreError::Unreadable {
                    key: format!("{pk}/{sk}"),
                    reason: format!("{name} is not a whole number that can take {amount}"),
                })?;
                item.insert(name.clone(), sum.into());
            }
            return put(tx, &Put::new(&item, Condition::Always)?);
        }
    }
    Ok(())
}

#[async_trait]
impl ItemStore for EmbeddedStore {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        let (pk, sk) = (pk.to_string(), sk.to_string());
        let key = (pk.clone(), sk.clone());
        let read = move |db: &Held<'_>| {
            Ok::<Option<String>, StoreError>(
                db.read(|c| c.prepare_cached("SELECT body FROM items WHERE pk = ?1 AND sk = ?2")?.query_row(params![pk, sk], |r| r.get(0)).optional())?,
            )
        };
        let body = self.db.off_runtime(read, StoreError::Unavailable).await?;
        body.map(|b| serde_json::from_str(&b).map_err(|e| StoreError::Unreadable { key: format!("{}/{}", key.0, key.1), reason: e.to_string() })).transpose()
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        self.transact(vec![Write::Put { item, condition }]).await
    }

    async fn delete(&self, pk: &str, sk: &str) -> Result<(), StoreError> {
        self.transact(vec![Write::Delete { pk: pk.into(), sk: sk.into(), condition: Condition::Always }]).await
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        if let Some(refused) = crate::ports::refused_transaction(&writes) {
            return Err(refused);
        }
        let steps = writes.into_iter().map(Step::new).collect::<Result<Vec<_>, _>>()?;
        self.db.off_runtime(move |db| db.write(|tx| steps.iter().try_for_each(|step| apply(tx, step))), StoreError::Unavailable).await
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        let (limit, keys_only) = (query.limit.max(1), query.index.keys_only());
        let key_attributes = query.index.key_attributes();
        let rows = self.db.off_runtime(move |db| run_query(db, query), StoreError::Unavailable).await?;
        page(rows, limit, keys_only.then_some(key_attributes))
    }
}

/// The change log read as the table's stream: committed event items in commit order,
/// from the oldest not yet acknowledged.
#[async_trait]
impl EventFeed for EmbeddedStore {
    async fn next_batch(&self, max: usize) -> Result<Vec<ChangeRecord>, StoreError> {
        let rows: Vec<(i64, String)> = self
            .db
            .off_runtime(
                move |db| {
                    Ok(db.read(|c| {
                        c.prepare_cached("SELECT seq, body FROM changes ORDER BY seq LIMIT ?1")?
                            .query_map(params![max as i64], |r| Ok((r.get(0)?, r.get(1)?)))?
                            .collect()
                    })?)
                },
                StoreError::Unavailable,
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(seq, body)| ChangeRecord {
                position: seq.to_string(),
                event: serde_json::from_str(&body).map_err(|e| UnreadableEvent { reason: e.to_string(), raw: body }),
            })
            .collect())
    }

    async fn acknowledge(&self, records: &[ChangeRecord]) -> Result<(), StoreError> {
        let Some(last) = records.last().and_then(|r| r.position.parse::<i64>().ok()) else { return Ok(()) };
        self.db
            .off_runtime(
                move |db| db.write(|tx| Ok(tx.prepare_cached("DELETE FROM changes WHERE seq <= ?1")?.execute(params![last]).map(|_| ())?)),
                StoreError::Unavailable,
            )
            .await
    }
}

/// The rows of `query`, up to one past its limit (so that the page knows if there is more).
fn run_query(db: &Held<'_>, query: Query) -> Result<Vec<Row>, StoreError> {
    let (pk_col, sk_col) = query.index.key_attributes();
    let after = query.cursor.as_deref().map(cursor::decode).transpose()?;
    let (op, order) = if query.descending { ("<", "DESC") } else { (">", "ASC") };
    let cursor_clause = if after.is_some() { format!("AND ({sk_col}, pk, sk) {op} (?5, ?6, ?7)") } else { String::new() };
    // Each bound is a plain comparison on the index's columns, so SQLite reads only the
    // key range asked for, in the index's order (an `OR` or a sort would make it read the
    // whole partition: the sweep's cost would grow with the armed clocks, not the due).
    let max_clause = if query.sk_max.is_some() { format!("{sk_col} <= ?3") } else { "?3 IS NULL".into() };
    let sql = format!(
        "SELECT {sk_col}, pk, sk, body FROM items WHERE {pk_col} = ?1 AND {sk_col} >= ?2 AND substr({sk_col}, 1, length(?2)) = ?2 \
         AND {max_clause} {cursor_clause} ORDER BY {sk_col} {order}, pk {order}, sk {order} LIMIT ?4"
    );
    let limit = query.limit.max(1);
    let (a, b, c) = after.unwrap_or_default();
    let rows: Vec<Row> = db.read(|conn| {
        let mut statement = conn.prepare_cached(&sql)?;
        let fetch = |r: &rusqlite::Row<'_>| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?));
        let rows = if query.cursor.is_some() {
            statement.query_map(params![query.pk, query.sk_prefix, query.sk_max, limit as i64 + 1, a, b, c], fetch)?
        } else {
            statement.query_map(params![query.pk, query.sk_prefix, query.sk_max, limit as i64 + 1], fetch)?
        };
        rows.collect()
    })?;
    Ok(rows)
}

/// One row of a query: the index's sort key, the table's keys and the stored item.
type Row = (String, String, String, String);

/// The page a query's rows (up to one past its limit) make, parsed off the database's
/// thread. `keys_only`: the index's key attributes, for an index that projects keys only.
fn page(rows: Vec<Row>, limit: usize, keys_only: Option<(&str, &str)>) -> Result<Page, StoreError> {
    let more = rows.len() > limit;
    let mut page = Page::default();
    for (sort, pk, sk, body) in rows.into_iter().take(limit) {
        page.cursor = more.then(|| cursor::encode(&sort, &pk, &sk));
        let mut item: Item = serde_json::from_str(&body).map_err(|e| StoreError::Unreadable { key: format!("{pk}/{sk}"), reason: e.to_string() })?;
        // What DynamoDB answers from a KEYS_ONLY index: the table's and the index's keys.
        if let Some((pk_col, sk_col)) = keys_only {
            item.retain(|name, _| ["pk", "sk", pk_col, sk_col].contains(&name.as_str()));
        }
        page.items.push(item);
    }
    Ok(page)
}
