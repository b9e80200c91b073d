//! The item store on DynamoDB: the single table of DESIGN, items through `serde_dynamo`,
//! conditions as condition expressions, transactions as `TransactWriteItems`, queries
//! on the table or a GSI with opaque cursors. Never a `Scan`.

use super::describe;
use crate::adapters::cursor;
use crate::ports::{Condition, Index, Item, ItemStore, Page, Query, StoreError, Write};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Delete, Put, TransactWriteItem, Update};
use serde_dynamo::aws_sdk_dynamodb_1::{from_item, to_item};
use std::collections::HashMap;

type Attributes = HashMap<String, AttributeValue>;

/// The DynamoDB `ItemStore`.
#[derive(Clone)]
pub struct DynamoStore {
    client: super::LazyClient<Client>,
    table: String,
}

impl DynamoStore {
    /// The store on `table`, its client built from `sdk` at the first call.
    pub fn new(sdk: &aws_config::SdkConfig, table: &str) -> Self {
        DynamoStore { client: super::LazyClient::new(sdk, Client::new), table: table.to_string() }
    }
}

fn unavailable(error: impl std::error::Error + 'static) -> StoreError {
    StoreError::Unavailable(describe(&error))
}

/// An error whose retry cannot help when DynamoDB says an item or key is over its
/// limits; otherwise the store is unavailable (a retry may help).
fn classify<E>(error: E) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let over_a_limit = error.code() == Some("ValidationException")
        && error.message().is_some_and(|m| {
            let m = m.to_lowercase();
            m.contains("size") || m.contains("length") || m.contains("too large")
        });
    match (over_a_limit, error.code()) {
        (true, _) => StoreError::TooLarge(describe(&error)),
        // Refused as asked (two operations on one item, too many actions): the same
        // request can never succeed, so it is no outage.
        (false, Some("ValidationException")) => StoreError::Refused(describe(&error)),
        _ => unavailable(error),
    }
}

fn attributes(item: Item) -> Result<Attributes, StoreError> {
    to_item(item).map_err(unavailable)
}

fn item(attributes: Attributes) -> Result<Item, StoreError> {
    from_item(attributes).map_err(unavailable)
}

fn key(pk: &str, sk: &str) -> Attributes {
    HashMap::from([("pk".to_string(), AttributeValue::S(pk.into())), ("sk".to_string(), AttributeValue::S(sk.into()))])
}

/// A condition as (expression, values); `None` for `Always`.
fn condition_expression(condition: &Condition) -> Option<(String, Option<Attributes>)> {
    match condition {
        Condition::Always => None,
        Condition::NotExists => Some(("attribute_not_exists(pk)".into(), None)),
        Condition::VersionIs(version) => {
            Some(("version = :expected_version".into(), Some(HashMap::from([(":expected_version".to_string(), AttributeValue::N(version.to_string()))]))))
        }
    }
}

/// A `Delete` or `ConditionCheck` of the item `pk`/`sk` of `table`, conditional as asked
/// (the two builders share no trait).
macro_rules! keyed {
    ($builder:expr, $table:expr, $pk:expr, $sk:expr, $condition:expr) => {{
        let (expression, values) = condition_expression($condition).unzip();
        $builder
            .table_name($table)
            .set_key(Some(key($pk, $sk)))
            .set_condition_expression(expression)
            .set_expression_attribute_values(values.flatten())
            .build()
            .map_err(unavailable)?
    }};
}

fn build_put(table: &str, item: Item, condition: &Condition) -> Result<Put, StoreError> {
    let (expression, values) = condition_expression(condition).unzip();
    Put::builder()
        .table_name(table)
        .set_item(Some(attributes(item)?))
        .set_condition_expression(expression)
        .set_expression_attribute_values(values.flatten())
        .build()
        .map_err(unavailable)
}

/// `ADD` of each amount and of 1 to `version`, conditional as asked.
fn build_add(table: &str, pk: &str, sk: &str, add: &[(String, i64)], condition: &Condition) -> Result<Update, StoreError> {
    let mut names = HashMap::from([("#version".to_string(), "version".to_string())]);
    let mut values = HashMap::from([(":one".to_string(), AttributeValue::N("1".into()))]);
    let mut terms = vec!["#version :one".to_string()];
    for (n, (name, amount)) in add.iter().enumerate() {
        names.insert(format!("#a{n}"), name.clone());
        values.insert(format!(":a{n}"), AttributeValue::N(amount.to_string()));
        terms.push(format!("#a{n} :a{n}"));
    }
    let (expression, condition_values) = condition_expression(condition).unzip();
    values.extend(condition_values.flatten().unwrap_or_default());
    Update::builder()
        .table_name(table)
        .set_key(Some(key(pk, sk)))
        .update_expression(format!("ADD {}", terms.join(", ")))
        .set_condition_expression(expression)
        .set_expression_attribute_names(Some(names))
        .set_expression_attribute_values(Some(values))
        .build()
        .map_err(unavailable)
}

/// The sort-key part of a key condition for "starts with `prefix`, at most `max`", or
/// `Err(())` when no key can satisfy both. DynamoDB allows one sort-key condition.
fn sort_key_condition(prefix: &str, max: Option<&str>) -> Result<Option<(&'static str, Vec<String>)>, ()> {
    match (prefix.is_empty(), max) {
        (true, None) => Ok(None),
        (false, None) => Ok(Some(("begins_with(#sk, :a)", vec![prefix.into()]))),
        (true, Some(max)) => Ok(Some(("#sk <= :a", vec![max.into()]))),
        // Every key in [prefix, max] starts with prefix when max does.
        (false, Some(max)) if max.starts_with(prefix) => Ok(Some(("#sk BETWEEN :a AND :b", vec![prefix.into(), max.into()]))),
        // max sorts after every key with this prefix: the bound changes nothing.
        (false, Some(max)) if max > prefix => Ok(Some(("begins_with(#sk, :a)", vec![prefix.into()]))),
        (false, Some(_)) => Err(()),
    }
}

fn index_keys(index: Index) -> (Option<&'static str>, &'static str, &'static str) {
    match index {
        Index::Table => (None, "pk", "sk"),
        Index::Gsi1 => (Some("gsi1"), "gsi1pk", "gsi1sk"),
        Index::Gsi2 => (Some("gsi2"), "gsi2pk", "gsi2sk"),
        Index::Gsi3 => (Some("gsi3"), "gsi3pk", "gsi3sk"),
    }
}

fn text(item: &Item, name: &str) -> String {
    item.get(name).and_then(|v| v.as_str()).unwrap_or_default().to_string()
}

#[async_trait]
impl ItemStore for DynamoStore {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        let output = self.client.get().get_item().table_name(&self.table).set_key(Some(key(pk, sk))).consistent_read(true).send().await.map_err(unavailable)?;
        output.item.map(item).transpose()
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        let put = build_put(&self.table, item, &condition)?;
        let result = self
            .client
            .get()
            .put_item()
            .table_name(&self.table)
            .set_item(Some(put.item))
            .set_condition_expression(put.condition_expression)
            .set_expression_attribute_values(put.expression_attribute_values)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Err(StoreError::ConditionFailed),
            Err(error) => Err(classify(error)),
        }
    }

    async fn delete(&self, pk: &str, sk: &str) -> Result<(), StoreError> {
        self.client.get().delete_item().table_name(&self.table).set_key(Some(key(pk, sk))).send().await.map_err(unavailable)?;
        Ok(())
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        // What DynamoDB would refuse is refused here, naming the item, without a call
        // (moto does not enforce the 100-action limit; DynamoDB's own message names no item).
        if let Some(refused) = crate::ports::refused_transaction(&writes) {
            return Err(refused);
        }
        let mut items = Vec::with_capacity(writes.len());
        for write in writes {
            items.push(match write {
                // A check of nothing is no action (DynamoDB requires a condition).
                Write::Check { condition: Condition::Always, .. } => continue,
                Write::Check { pk, sk, condition } => {
                    TransactWriteItem::builder().condition_check(keyed!(ConditionCheck::builder(), &self.table, &pk, &sk, &condition)).build()
                }
                Write::Put { item, condition } => TransactWriteItem::builder().put(build_put(&self.table, item, &condition)?).build(),
                Write::Delete { pk, sk, condition } => {
                    TransactWriteItem::builder().delete(keyed!(Delete::builder(), &self.table, &pk, &sk, &condition)).build()
                }
                Write::Add { pk, sk, add, condition } => TransactWriteItem::builder().update(build_add(&self.table, &pk, &sk, &add, &condition)?).build(),
            });
        }
        match self.client.get().transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => Ok(()),
            Err(error) => {
                let reasons: Vec<&str> = match error.as_service_error() {
                    Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => {
                        cancelled.cancellation_reasons().iter().filter_map(|r| r.code()).collect()
                    }
                    _ => Vec::new(),
                };
                Err(if reasons.contains(&"ConditionalCheckFailed") {
                    StoreError::ConditionFailed
                } else if reasons.contains(&"ValidationError") {
                    StoreError::TooLarge(describe(&error))
                } else {
                    classify(error)
                })
            }
        }
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        let (index_name, pk_name, sk_name) = index_keys(query.index);
        let Ok(sort) = sort_key_condition(&query.sk_prefix, query.sk_max.as_deref()) else {
            return Ok(Page::default());
        };
        let mut expression = "#pk = :pk".to_string();
        let mut names = HashMap::from([("#pk".to_string(), pk_name.to_string())]);
        let mut values = HashMap::from([(":pk".to_string(), AttributeValue::S(query.pk.clone()))]);
        if let Some((condition, bounds)) = sort {
            expression.push_str(" AND ");
            expression.push_str(condition);
            names.insert("#sk".into(), sk_name.into());
            for (name, bound) in [":a", ":b"].into_iter().zip(bounds) {
                values.insert(name.into(), AttributeValue::S(bound));
            }
        }
        let mut start = match query.cursor.as_deref().map(cursor::decode).transpose()? {
            None => None,
            Some((sort, pk, sk)) => {
                let mut start = key(&pk, &sk);
                if query.index != Index::Table {
                    start.insert(pk_name.into(), AttributeValue::S(query.pk.clone()));
                    start.insert(sk_name.into(), AttributeValue::S(sort));
                }
                Some(start)
            }
        };
        // One more than asked tells whether another page exists; DynamoDB may also stop
        // early at 1 MB, so keep reading until there are enough or none are left.
        let limit = query.limit.max(1);
        let mut found = Vec::new();
        loop {
            let output = self
                .client
                .get()
                .query()
                .table_name(&self.table)
                .set_index_name(index_name.map(str::to_string))
                .key_condition_expression(&expression)
                .set_expression_attribute_names(Some(names.clone()))
                .set_expression_attribute_values(Some(values.clone()))
                .scan_index_forward(!query.descending)
                .consistent_read(query.index == Index::Table)
                .limit(i32::try_from(limit + 1 - found.len()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(unavailable)?;
            for attributes in output.items.unwrap_or_default() {
                found.push(item(attributes)?);
            }
            start = output.last_evaluated_key;
            if found.len() > limit || start.is_none() {
                break;
            }
        }
        let more = found.len() > limit;
        found.truncate(limit);
        let next = match found.last() {
            Some(last) if more => Some(cursor::encode(&text(last, sk_name), &text(last, "pk"), &text(last, "sk"))),
            _ => None,
        };
        Ok(Page { items: found, cursor: next })
    }
}

#[cfg(test)]
mod tests {
    use super::sort_key_condition;

    #[test]
    fn a_prefix_and_a_bound_become_one_key_condition() {
        assert_eq!(sort_key_condition("", None), Ok(None));
        assert_eq!(sort_key_condition("", Some("2026")), Ok(Some(("#sk <= :a", vec!["2026".into()]))));
        assert_eq!(sort_key_condition("H#", Some("H#9")), Ok(Some(("#sk BETWEEN :a AND :b", vec!["H#".into(), "H#9".into()]))));
        assert_eq!(sort_key_condition("H#", Some("Z")), Ok(Some(("begins_with(#sk, :a)", vec!["H#".into()]))));
        assert_eq!(sort_key_condition("H#", Some("A")), Err(()));
    }
}
