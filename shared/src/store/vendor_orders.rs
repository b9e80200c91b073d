//! Vendor orders: the item, its history, the vendor's listings, and the sparse due
//! index the sweep reads (`DUE#`, `PURGE#`, `NOTICE#`).

use super::*;

impl Tables {
    /// The vendor's first vendor order in the order.
    pub async fn vendor_order(&self, order_id: &OrderId, vendor_id: &VendorId) -> Result<Option<VendorOrder>, StoreError> {
        self.vendor_order_in_round(order_id, vendor_id, 1).await
    }

    /// The vendor's vendor order of `round` in the order (`VO#{vendor}`, then
    /// `VO#{vendor}#{round}`).
    pub async fn vendor_order_in_round(&self, order_id: &OrderId, vendor_id: &VendorId, round: u32) -> Result<Option<VendorOrder>, StoreError> {
        let (pk, sk) = keys::vendor_order(order_id, vendor_id, round);
        self.get_as(&pk, &sk).await
    }

    /// Every vendor order of the order, every round: one Query of its partition.
    pub async fn vendor_orders_of(&self, order_id: &OrderId) -> Result<Vec<VendorOrder>, StoreError> {
        self.query_all(order_pk(order_id), "VO#".to_string()).await
    }

    /// The write of a vendor order with its listing and due-clock index keys,
    /// conditional on the version it replaces (a new one must not exist yet).
    pub fn put_vendor_order(vo: &VendorOrder, previous_version: Option<u64>) -> Result<Write, StoreError> {
        let mut keys = vec![
            ("pk", order_pk(&vo.order_id)),
            ("sk", keys::vendor_order(&vo.order_id, &vo.vendor_id, vo.round).1),
            ("gsi1pk", format!("VENDOR#{}", vo.vendor_id)),
            ("gsi1sk", format!("{}#{}", vo.created_at.to_rfc3339(), vo.id())),
            ("gsi3pk", format!("VENDOR#{}#{}", vo.vendor_id, vo.state.as_str())),
            ("gsi3sk", format!("{}#{}", vo.created_at.to_rfc3339(), vo.id())),
        ];
        let shard = order_shard(&vo.order_id);
        let round = if vo.round > 1 { format!("#{}", vo.round) } else { String::new() };
        let late = vo.is_escalated();
        let index = if late { Due::Late } else { Due::Clocks };
        if let Some(clock) = vo.next_due() {
            keys.push(("gsi2pk", index.partition(shard)));
            keys.push(("gsi2sk", format!("{}#{}#{}#{}{round}", key_time(clock.due_at), clock.kind.as_str(), vo.order_id, vo.vendor_id)));
        } else if late {
            // Nothing armed (escalated once, `SLA_ESCALATION_REPEAT_HOURS=0`): never due,
            // still listed for the operator.
            keys.push(("gsi2pk", index.partition(shard)));
            keys.push(("gsi2sk", format!("{}#late#{}#{}{round}", key_time(Tables::END_OF_TIME), vo.order_id, vo.vendor_id)));
        } else if let Some(purge_at) = vo.purge_at {
            // Closed, its clocks all gone: the index now holds when its data is purged.
            keys.push(("gsi2pk", Due::Purges.partition(shard)));
            keys.push(("gsi2sk", format!("{}#{}#{}", key_time(purge_at), vo.order_id, vo.vendor_id)));
        }
        Ok(Write::Put { item: item_of(vo, &keys)?, condition: previous_version.map_or(Condition::NotExists, Condition::VersionIs) })
    }

    /// Where the late-index lists a vendor order nothing is armed on: past any `now`
    /// the sweep is run at, within the operator's read of the whole index.
    pub const END_OF_TIME: DateTime<Utc> = DateTime::<Utc>::from_timestamp(253_402_300_799, 0).expect("9999-12-31T23:59:59Z");

    /// One page of what `index` holds due by `now` in one shard (`gsi2sk <= now`): the
    /// table keys, oldest due first. The read grows with what is due, never with the
    /// table.
    pub async fn due(
        &self,
        index: Due,
        shard: u32,
        now: DateTime<Utc>,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<(Vec<DueKey>, Option<String>), StoreError> {
        let query = Query {
            index: Index::Gsi2,
            pk: index.partition(shard),
            sk_prefix: String::new(),
            sk_max: Some(format!("{}#~", key_time(now))),
            descending: false,
            limit,
            cursor,
        };
        let Page { items, cursor } = self.items.query(query).await?;
        let keys = items
            .into_iter()
            .filter_map(|item| Some(DueKey { index, pk: item.get("pk")?.as_str()?.to_string(), sk: item.get("sk")?.as_str()?.to_string() }))
            .collect();
        Ok((keys, cursor))
    }

    /// A vendor order the due index lists (its clocks or its purge).
    pub async fn vendor_order_at(&self, key: &DueKey) -> Result<Option<VendorOrder>, StoreError> {
        if !matches!(key.index, Due::Clocks | Due::Late | Due::Purges) || !key.pk.starts_with("ORDER#") || !key.sk.starts_with("VO#") {
            return Ok(None);
        }
        self.get_as(&key.pk, &key.sk).await
    }

    /// The write of a history entry of `vo` (never overwritten).
    pub fn put_history(vo: &VendorOrder, entry: &HistoryEntry) -> Result<Write, StoreError> {
        let (pk, sk) = keys::history(&vo.order_id, &vo.vendor_id, vo.round, entry.at, entry.seq);
        Ok(Write::Put { item: item_of(entry, &[("pk", pk), ("sk", sk)])?, condition: Condition::NotExists })
    }

    /// A vendor order's history, oldest first.
    pub async fn history(&self, vo: &VendorOrder) -> Result<Vec<HistoryEntry>, StoreError> {
        self.query_all(order_pk(&vo.order_id), keys::history_prefix(&vo.vendor_id, vo.round)).await
    }

    /// One page of a vendor's orders, newest first, in one state or all: either way the
    /// read touches only the page it returns (`gsi1` for all, `gsi3` per state).
    pub async fn vendor_orders(
        &self,
        vendor_id: &VendorId,
        state: Option<VoState>,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<(Vec<VendorOrder>, Option<String>), StoreError> {
        let (index, pk) = match state {
            None => (Index::Gsi1, format!("VENDOR#{vendor_id}")),
            Some(state) => (Index::Gsi3, format!("VENDOR#{vendor_id}#{}", state.as_str())),
        };
        let Page { items, cursor } = self.query_items(Query { index, pk, sk_prefix: String::new(), sk_max: None, descending: true, limit, cursor }).await?;
        Ok((items.into_iter().map(value_of).collect::<Result<_, _>>()?, cursor))
    }
}
