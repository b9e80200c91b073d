//! The order's items: the order record, its storefront number, the marks a storefront
//! can leave before it (erased, deleted), its events (the outbox), its lines waiting
//! for a SKU, and the notices of lines no vendor sells.

use super::*;

impl Tables {
    pub async fn order(&self, order_id: &OrderId) -> Result<Option<OrderRecord>, StoreError> {
        let (pk, sk) = keys::order(order_id);
        self.get_as(&pk, &sk).await
    }

    /// The write of an order record, conditional on the version it replaces. The order
    /// is filed under its shop in the listing index (`SHOP#{source}#{shop}`), so that a
    /// shop's erasure finds its orders without a Scan.
    pub fn put_order(record: &OrderRecord, previous_version: Option<u64>) -> Result<Write, StoreError> {
        let order = &record.order;
        let newest = format!("{}#{}", order.created_at.to_rfc3339(), order.order_id);
        let (pk, sk) = keys::order(&order.order_id);
        let keys = [
            ("pk", pk),
            ("sk", sk),
            ("gsi1pk", keys::shop_pk(&order.source, &order.shop)),
            ("gsi1sk", newest.clone()),
            // The operator's listings (`dropflow orders`): every order, and per status.
            ("gsi2pk", "ORDERS".into()),
            ("gsi2sk", newest.clone()),
            ("gsi3pk", format!("ORDERS#{}", record.listed_as())),
            ("gsi3sk", newest),
        ];
        Ok(Write::Put { item: item_of(record, &keys)?, condition: previous_version.map_or(Condition::NotExists, Condition::VersionIs) })
    }

    /// The write that files an order under its storefront number (`NUM#{number}`, one
    /// item per source and shop), so that `dropflow order show #1001` is one Query.
    pub fn put_order_number(order: &CanonicalOrder) -> Result<Write, StoreError> {
        let (pk, sk) = keys::order_number(&order.order_number, &order.source, &order.shop);
        let item = item_of(&serde_json::json!({ "order_id": order.order_id }), &[("pk", pk), ("sk", sk)])?;
        Ok(Write::Put { item, condition: Condition::Always })
    }

    /// The orders a storefront number names (one per shop that used it).
    pub async fn orders_numbered(&self, number: &str) -> Result<Vec<OrderId>, StoreError> {
        #[derive(Deserialize)]
        struct Numbered {
            order_id: OrderId,
        }
        let found: Vec<Numbered> = self.query_all(keys::order_number_pk(number), String::new()).await?;
        Ok(found.into_iter().map(|n| n.order_id).collect())
    }

    /// One page of every order (or of those in one of `ORDER_LISTINGS`), newest first.
    pub async fn orders(&self, listing: Option<&str>, cursor: Option<String>, limit: usize) -> Result<(Vec<OrderRecord>, Option<String>), StoreError> {
        let (index, pk) = match listing {
            None => (Index::Gsi2, "ORDERS".to_string()),
            Some(listing) => (Index::Gsi3, format!("ORDERS#{listing}")),
        };
        let Page { items, cursor } = self.query_items(Query { index, pk, sk_prefix: String::new(), sk_max: None, descending: true, limit, cursor }).await?;
        Ok((items.into_iter().map(value_of).collect::<Result<_, _>>()?, cursor))
    }

    /// One page of a shop's orders, oldest first.
    pub async fn shop_orders(&self, source: &str, shop: &str, cursor: Option<String>, limit: usize) -> Result<(Vec<OrderRecord>, Option<String>), StoreError> {
        self.listing(keys::shop_pk(source, shop), false, cursor, limit).await
    }

    /// Every item of an order's partition under `sk_prefix`, as stored (what a redaction
    /// rewrites: history entries, event items).
    pub async fn order_items(&self, order_id: &OrderId, sk_prefix: &str) -> Result<Vec<Item>, StoreError> {
        self.query_all(order_pk(order_id), sk_prefix.to_string()).await
    }

    /// The write of an item as read by `order_items`, rewritten in place.
    pub fn put_rewritten(item: Item) -> Write {
        Write::Put { item, condition: Condition::Always }
    }

    /// The write of an event item (the outbox), in the same transaction as the change
    /// that caused it; the table's stream carries it to the relay. An event id is
    /// written once: the same fact twice fails the transaction instead of mailing twice.
    pub fn put_event(event: &Envelope) -> Result<Write, StoreError> {
        let (pk, sk) = keys::event(event.order_id.as_ref(), event.vendor_id.as_ref(), &event.event_id);
        let mut item = item_of(event, &[("pk", pk), ("sk", sk)])?;
        item.insert("ttl".into(), Value::from((event.occurred_at + chrono::Duration::days(EVENT_KEEP_DAYS)).timestamp()));
        Ok(Write::Put { item, condition: Condition::NotExists })
    }

    /// The event items of an order, oldest id first (what an operator or a test reads to
    /// see what a change committed).
    pub async fn events(&self, order_id: &OrderId) -> Result<Vec<Envelope>, StoreError> {
        self.query_all(order_pk(order_id), EVENT_SK_PREFIX.to_string()).await
    }

    /// The write of what a storefront said of an order dropflow does not hold yet: a
    /// dated mark (`ORDER#{id}`/`{mark}`, its instant under `field`), read when the
    /// order arrives. Shopify does not order its webhooks, and WooCommerce may deliver
    /// a delete before the order.
    pub fn put_order_mark(order_id: &OrderId, mark: OrderMark, at: DateTime<Utc>) -> Result<Write, StoreError> {
        let item = item_of(&serde_json::json!({ mark.field(): at }), &[("pk", order_pk(order_id)), ("sk", mark.sort_key().into())])?;
        Ok(Write::Put { item, condition: Condition::Always })
    }

    /// The check committed with a new order that `mark` is still absent: a redaction or
    /// a delete that writes its mark after intake read none makes the order's commit
    /// fail, and intake reads again and honours it (the mark's writer reads the order
    /// after writing, so one of the two always sees the other).
    pub fn order_mark_absent(order_id: &OrderId, mark: OrderMark) -> Write {
        Write::Check { pk: order_pk(order_id), sk: mark.sort_key().into(), condition: Condition::NotExists }
    }

    /// When the storefront left `mark` on an order before it arrived, if it did.
    pub async fn order_mark(&self, order_id: &OrderId, mark: OrderMark) -> Result<Option<DateTime<Utc>>, StoreError> {
        let item: Option<serde_json::Value> = self.get_as(&order_pk(order_id), mark.sort_key()).await?;
        Ok(item.and_then(|i| serde_json::from_value(i[mark.field()].clone()).ok()))
    }

    /// The write that files `order_id` under a SKU nobody sells yet (`WAIT#{sku}`), so that
    /// mapping the SKU finds the order without a Scan.
    pub fn put_waiting(sku: &Sku, order_id: &OrderId) -> Result<Write, StoreError> {
        let (pk, sk) = keys::waiting(sku, order_id);
        let item = item_of(&serde_json::json!({ "order_id": order_id }), &[("pk", pk), ("sk", sk)])?;
        Ok(Write::Put { item, condition: Condition::Always })
    }

    /// The write that takes `order_id` off a SKU's waiting list.
    pub fn delete_waiting(sku: &Sku, order_id: &OrderId) -> Write {
        let (pk, sk) = keys::waiting(sku, order_id);
        Write::Delete { pk, sk, condition: Condition::Always }
    }

    /// The orders with lines waiting for `sku` to be mapped.
    pub async fn waiting_orders(&self, sku: &Sku) -> Result<Vec<OrderId>, StoreError> {
        #[derive(Deserialize)]
        struct Waiting {
            order_id: OrderId,
        }
        let waiting: Vec<Waiting> = self.query_all(keys::waiting_pk(sku), String::new()).await?;
        Ok(waiting.into_iter().map(|w| w.order_id).collect())
    }

    /// The write of a line notice, in the due index under its time (`NOTICE#{shard}`).
    pub fn put_line_notice(notice: &LineNotice) -> Result<Write, StoreError> {
        let due = key_time(notice.due);
        let keys = [
            ("pk", order_pk(&notice.order_id)),
            ("sk", format!("NOTICE#{due}")),
            ("gsi2pk", Due::Notices.partition(order_shard(&notice.order_id))),
            ("gsi2sk", format!("{due}#{}", notice.order_id)),
        ];
        Ok(Write::Put { item: item_of(notice, &keys)?, condition: Condition::Always })
    }

    /// A line notice by its table keys (as the due index gives them).
    pub async fn line_notice_at(&self, key: &DueKey) -> Result<Option<LineNotice>, StoreError> {
        if key.index != Due::Notices || !key.pk.starts_with("ORDER#") || !key.sk.starts_with("NOTICE#") {
            return Ok(None);
        }
        self.get_as(&key.pk, &key.sk).await
    }

    /// The delete of a line notice that was given (or is moot).
    pub fn delete_line_notice(key: &DueKey) -> Write {
        Write::Delete { pk: key.pk.clone(), sk: key.sk.clone(), condition: Condition::Always }
    }
}
