//! The table's DynamoDB stream read directly, the way the event-relay's event source
//! mapping reads it: shard by shard, in order, from a checkpoint. For the local process
//! on `--backend aws` (against moto or a dev account), where no mapping feeds a Lambda;
//! the checkpoint is kept in a file under the data dir, never in the table. Each batch
//! is read with iterators fresh from the checkpoint: what was not acknowledged is simply
//! read again, and a stream whose shard an emulator replaced (moto swaps in a copy of
//! the table, stream included, when it cancels a transaction) is read as it now is.

use super::describe;
use crate::ports::{ChangeRecord, EventFeed, StoreError, UnreadableEvent};
use async_trait::async_trait;
use aws_sdk_dynamodbstreams::types::{Record, ShardIteratorType};
use serde_dynamo::aws_sdk_dynamodbstreams_1::from_item;
use std::collections::BTreeMap;
use std::path::PathBuf;
use tokio::sync::Mutex;

/// The stream of one table as an `EventFeed`.
pub struct StreamFeed {
    dynamodb: aws_sdk_dynamodb::Client,
    streams: aws_sdk_dynamodbstreams::Client,
    table: String,
    checkpoint_file: Option<PathBuf>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    stream_arn: Option<String>,
    /// Per shard, the sequence number of the last record relayed.
    checkpoint: BTreeMap<String, String>,
}

fn unavailable(error: impl std::error::Error + 'static) -> StoreError {
    StoreError::Unavailable(describe(&error))
}

impl StreamFeed {
    /// The stream of `table`, resuming from the checkpoint in `checkpoint_file` when
    /// there is one (from the oldest record the stream keeps otherwise).
    pub fn new(sdk: &aws_config::SdkConfig, table: &str, checkpoint_file: Option<PathBuf>) -> StreamFeed {
        let checkpoint =
            checkpoint_file.as_ref().and_then(|path| std::fs::read_to_string(path).ok()).and_then(|text| serde_json::from_str(&text).ok()).unwrap_or_default();
        StreamFeed {
            dynamodb: aws_sdk_dynamodb::Client::new(sdk),
            streams: aws_sdk_dynamodbstreams::Client::new(sdk),
            table: table.to_string(),
            checkpoint_file,
            state: Mutex::new(State { checkpoint, ..State::default() }),
        }
    }

    async fn stream_arn(&self, state: &mut State) -> Result<String, StoreError> {
        if let Some(arn) = &state.stream_arn {
            return Ok(arn.clone());
        }
        let table = self.dynamodb.describe_table().table_name(&self.table).send().await.map_err(unavailable)?;
        let arn = table
            .table()
            .and_then(|t| t.latest_stream_arn())
            .ok_or_else(|| StoreError::Unavailable(format!("table {} has no stream; run `dropflow aws bootstrap`", self.table)))?;
        state.stream_arn = Some(arn.to_string());
        Ok(arn.to_string())
    }

    /// The stream's shards, parents before children (as DescribeStream lists them).
    async fn shards(&self, arn: &str) -> Result<Vec<String>, StoreError> {
        let mut shards = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let described = self.streams.describe_stream().stream_arn(arn).set_exclusive_start_shard_id(after.clone()).send().await.map_err(unavailable)?;
            let Some(description) = described.stream_description() else { return Ok(shards) };
            shards.extend(description.shards().iter().filter_map(|s| s.shard_id().map(str::to_string)));
            match description.last_evaluated_shard_id() {
                Some(last) => after = Some(last.to_string()),
                None => return Ok(shards),
            }
        }
    }

    /// Where to read `shard` from: just after its checkpoint, or its oldest record.
    async fn iterator(&self, arn: &str, shard: &str, state: &State) -> Result<Option<String>, StoreError> {
        let request = self.streams.get_shard_iterator().stream_arn(arn).shard_id(shard);
        let request = match state.checkpoint.get(shard) {
            Some(sequence) => request.shard_iterator_type(ShardIteratorType::AfterSequenceNumber).sequence_number(sequence),
            None => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
        };
        Ok(request.send().await.map_err(unavailable)?.shard_iterator)
    }

    fn save(&self, state: &State) -> Result<(), StoreError> {
        let Some(path) = &self.checkpoint_file else { return Ok(()) };
        let text = serde_json::to_string(&state.checkpoint).map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let temporary = path.with_extension("tmp");
        std::fs::write(&temporary, text)
            .and_then(|()| std::fs::rename(&temporary, path))
            .map_err(|e| StoreError::Unavailable(format!("checkpoint {}: {e}", path.display())))
    }
}

/// A stream record as the relay takes it, or None for what the mapping's filter drops.
fn change_record(shard: &str, record: &Record) -> Option<ChangeRecord> {
    let change = record.dynamodb()?;
    let sk = change.keys().and_then(|k| k.get("sk")).and_then(|v| v.as_s().ok()).map(String::as_str);
    let event_name = record.event_name().map(|n| n.as_str()).unwrap_or_default();
    if !crate::store::is_event_insert(event_name, sk) {
        return None;
    }
    let image = change.new_image().cloned().unwrap_or_default();
    let event = from_item(image.clone()).map_err(|e| UnreadableEvent { raw: format!("{image:?}"), reason: e.to_string() });
    Some(ChangeRecord { position: format!("{shard}/{}", change.sequence_number().unwrap_or_default()), event })
}

#[async_trait]
impl EventFeed for StreamFeed {
    async fn next_batch(&self, max: usize) -> Result<Vec<ChangeRecord>, StoreError> {
        let mut state = self.state.lock().await;
        let arn = self.stream_arn(&mut state).await?;
        let mut batch = Vec::new();
        for shard in self.shards(&arn).await? {
            let mut iterator = self.iterator(&arn, &shard, &state).await?;
            while let Some(current) = iterator.take()
                && batch.len() < max
            {
                let limit = i32::try_from(max - batch.len()).unwrap_or(1000).clamp(1, 1000);
                let read = self.streams.get_records().shard_iterator(current).limit(limit).send().await.map_err(unavailable)?;
                let records = read.records();
                // Records the filter drops still move this shard's checkpoint on.
                if let Some(last) = records.last().and_then(|r| r.dynamodb()).and_then(|d| d.sequence_number())
                    && records.iter().all(|r| change_record(&shard, r).is_none())
                {
                    state.checkpoint.insert(shard.clone(), last.to_string());
                }
                batch.extend(records.iter().filter_map(|r| change_record(&shard, r)));
                if !records.is_empty() {
                    iterator = read.next_shard_iterator().map(str::to_string);
                }
            }
        }
        Ok(batch)
    }

    async fn acknowledge(&self, records: &[ChangeRecord]) -> Result<(), StoreError> {
        let mut state = self.state.lock().await;
        for record in records {
            if let Some((shard, sequence)) = record.position.split_once('/') {
                state.checkpoint.insert(shard.to_string(), sequence.to_string());
            }
        }
        self.save(&state)
    }
}
