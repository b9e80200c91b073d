//! Tracking numbers (one vendor's parcel, the orders in it) and the carrier feed's
//! event ids (each push applied once).

use super::*;

/// An item of the `TRACK#{number}` collection (sort key `{order_id}#{vendor_id}`): one
/// vendor order shipping under the number. Items written before the collection (sort key
/// `TRACK`, no `shipped_at`) read the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackedParcel {
    pub order_id: OrderId,
    pub vendor_id: VendorId,
    pub round: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipped_at: Option<DateTime<Utc>>,
}

/// The `TRACK#{number}`/`CLAIM` item: the vendor that last shipped under the number.
/// Every shipment under the number rewrites it on the version it read, so two vendors
/// racing to ship one number cannot both win.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NumberClaim {
    pub vendor_id: VendorId,
    pub shipped_at: DateTime<Utc>,
    pub version: u64,
}

/// Everything a tracking number is in use for: its claim and its parcels.
#[derive(Debug, Clone, Default)]
pub struct TrackedNumber {
    pub claim: Option<NumberClaim>,
    pub parcels: Vec<TrackedParcel>,
}

impl Tables {
    /// The writes of a shipment under `number`: the vendor order joins the number's
    /// collection, and the number's claim moves to its vendor on the version
    /// `claim_read` saw (absent: it must still be absent).
    pub fn put_tracking(number: &str, vo: &VendorOrder, now: DateTime<Utc>, claim_read: Option<&NumberClaim>) -> Result<Vec<Write>, StoreError> {
        let parcel = TrackedParcel { order_id: vo.order_id.clone(), vendor_id: vo.vendor_id.clone(), round: vo.round, shipped_at: Some(now) };
        let (parcel_pk, parcel_sk) = keys::tracked_parcel(number, &vo.order_id, &vo.vendor_id);
        let claim = NumberClaim { vendor_id: vo.vendor_id.clone(), shipped_at: now, version: claim_read.map_or(1, |c| c.version + 1) };
        let (claim_pk, claim_sk) = keys::number_claim(number);
        let condition = claim_read.map_or(Condition::NotExists, |c| Condition::VersionIs(c.version));
        Ok(vec![
            Write::Put { item: item_of(&parcel, &[("pk", parcel_pk), ("sk", parcel_sk)])?, condition: Condition::Always },
            Write::Put { item: item_of(&claim, &[("pk", claim_pk), ("sk", claim_sk)])?, condition },
        ])
    }

    /// The write that takes a vendor order out of `number`'s collection (its parcel's
    /// number was corrected): the carrier's news of the wrong number finds it no more,
    /// and another vendor whose parcel it really is may ship under it.
    pub fn drop_tracking(number: &str, vo: &VendorOrder) -> Write {
        let (pk, sk) = keys::tracked_parcel(number, &vo.order_id, &vo.vendor_id);
        Write::Delete { pk, sk, condition: Condition::Always }
    }

    /// What `number` is in use for: one Query of its collection.
    pub async fn tracked(&self, number: &str) -> Result<TrackedNumber, StoreError> {
        let mut tracked = TrackedNumber::default();
        let (pk, claim_sk) = keys::number_claim(number);
        for item in self.query_all::<Item>(pk, String::new()).await? {
            if item.get("sk").and_then(Value::as_str) == Some(claim_sk.as_str()) {
                tracked.claim = Some(value_of(item)?);
            } else {
                let parcel: TrackedParcel = value_of(item)?;
                // An item from before the collection and its successor name one order.
                tracked.parcels.retain(|p| (&p.order_id, &p.vendor_id, p.round) != (&parcel.order_id, &parcel.vendor_id, parcel.round));
                tracked.parcels.push(parcel);
            }
        }
        Ok(tracked)
    }

    /// The vendor orders shipping under `number` (a parcel may carry several orders of
    /// one vendor), each as it stands.
    pub async fn tracked_vendor_orders(&self, number: &str) -> Result<Vec<VendorOrder>, StoreError> {
        let parcels = self.tracked(number).await?.parcels;
        let reads = parcels.iter().map(|p| self.vendor_order_in_round(&p.order_id, &p.vendor_id, p.round));
        Ok(futures_util::future::try_join_all(reads).await?.into_iter().flatten().collect())
    }

    /// The write that records a carrier feed's event id once (`CARRIER#{source}#{id}`,
    /// kept 30 days): committed with the change the event made, so a redelivery finds it.
    pub fn put_carrier_event(source: &str, event_id: &str, now: DateTime<Utc>) -> Result<Write, StoreError> {
        let (pk, sk) = keys::carrier_event(source, event_id);
        let mut item = item_of(&serde_json::json!({ "received_at": now }), &[("pk", pk), ("sk", sk)])?;
        item.insert("ttl".into(), Value::from((now + chrono::Duration::days(30)).timestamp()));
        Ok(Write::Put { item, condition: Condition::NotExists })
    }

    /// Whether a carrier feed's event was applied before.
    pub async fn carrier_event_seen(&self, source: &str, event_id: &str) -> Result<bool, StoreError> {
        let (pk, sk) = keys::carrier_event(source, event_id);
        Ok(self.items.get(&pk, &sk).await?.is_some())
    }
}
