//! `infra/template.yaml` against the code: the table and queues it deploys are the ones
//! `dropflow aws bootstrap` creates, every function is built by cargo-lambda from its
//! crate, every queue consumer reports partial failures and has a lease of at least six
//! times its timeout, and every setting a function needs at start-up is passed.

use dropflow_shared::adapters::aws::AwsResources;
use dropflow_shared::adapters::aws::bootstrap::{
    DEAD_LETTER_RETENTION_SECONDS, INDEXES, QUEUES, RELAY_DEAD_LETTER_SUFFIX, STREAM_VIEW, TABLE_KEYS, TTL_ATTRIBUTE,
};
use dropflow_shared::config::Config;
use dropflow_shared::ports::Index;
use serde_yaml::Value;
use std::path::Path;

fn template() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/template.yaml");
    serde_yaml::from_str(&std::fs::read_to_string(&path).expect("read the template")).expect("the template is YAML")
}

/// The text under a CloudFormation tag (`!Ref X`, `!Sub "..."`, `!GetAtt X.Arn`).
fn tagged<'a>(value: &'a Value, tag: &str) -> Option<&'a str> {
    match value {
        Value::Tagged(tagged) if tagged.tag == tag => tagged.value.as_str(),
        _ => None,
    }
}

fn resources_of_type<'a>(template: &'a Value, kind: &str) -> Vec<(&'a str, &'a Value)> {
    template["Resources"]
        .as_mapping()
        .expect("Resources")
        .iter()
        .filter(|(_, r)| r["Type"] == kind)
        .map(|(name, r)| (name.as_str().expect("resource name"), &r["Properties"]))
        .collect()
}

fn key_schema(schema: &Value) -> (String, String) {
    let key = |kind: &str| schema.as_sequence().unwrap().iter().find(|k| k["KeyType"] == kind).and_then(|k| k["AttributeName"].as_str()).unwrap().to_string();
    (key("HASH"), key("RANGE"))
}

#[test]
fn the_table_has_the_keys_indexes_and_ttl_that_bootstrap_creates() {
    let template = template();
    let tables = resources_of_type(&template, "AWS::DynamoDB::Table");
    assert_eq!(tables.len(), 1, "one table");
    let table = tables[0].1;
    assert_eq!(tagged(&table["TableName"], "!Ref"), Some("AWS::StackName"), "the table is named after the stack, as `--stack` expects");
    assert_eq!(key_schema(&table["KeySchema"]), (TABLE_KEYS.0.to_string(), TABLE_KEYS.1.to_string()));
    let mut indexes: Vec<(String, String, String)> = table["GlobalSecondaryIndexes"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|index| {
            let (hash, range) = key_schema(&index["KeySchema"]);
            // As the code reads it (ports::Index::keys_only), and as bootstrap makes it.
            let code = [Index::Gsi1, Index::Gsi2, Index::Gsi3].into_iter().find(|i| i.key_attributes().0 == hash).unwrap();
            assert_eq!(index["Projection"]["ProjectionType"], if code.keys_only() { "KEYS_ONLY" } else { "ALL" }, "{hash}");
            (index["IndexName"].as_str().unwrap().to_string(), hash, range)
        })
        .collect();
    indexes.sort();
    let expected: Vec<(String, String, String)> = INDEXES.iter().map(|(n, h, r)| (n.to_string(), h.to_string(), r.to_string())).collect();
    assert_eq!(indexes, expected);
    for definition in table["AttributeDefinitions"].as_sequence().unwrap() {
        assert_eq!(definition["AttributeType"], "S", "{definition:?}");
    }
    assert_eq!(table["AttributeDefinitions"].as_sequence().unwrap().len(), 2 + 2 * INDEXES.len());
    assert_eq!(table["TimeToLiveSpecification"]["AttributeName"], TTL_ATTRIBUTE);
    assert_eq!(table["StreamSpecification"]["StreamViewType"], STREAM_VIEW);
    assert_eq!(table["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], true);
    assert_eq!(table["SSESpecification"]["SSEEnabled"], true);
}

#[test]
fn each_queue_is_named_leased_and_redriven_as_bootstrap_makes_it() {
    let template = template();
    let queues = resources_of_type(&template, "AWS::SQS::Queue");
    let named = |name: &str| queues.iter().find(|(_, q)| tagged(&q["QueueName"], "!Sub") == Some(name)).unwrap_or_else(|| panic!("no queue named {name}"));
    assert_eq!(queues.len(), 2 * QUEUES.len() + 2, "each queue and its DLQ, the relay's DLQ and its mapping's last resort, nothing else");
    let (_, relay_dlq) = named(&format!("${{AWS::StackName}}-{RELAY_DEAD_LETTER_SUFFIX}"));
    assert_eq!(relay_dlq["MessageRetentionPeriod"].as_u64(), Some(u64::from(DEAD_LETTER_RETENTION_SECONDS)));
    for queue in QUEUES {
        let (_, properties) = named(&format!("${{AWS::StackName}}-{}", queue.suffix));
        let (dlq_resource, dlq) = named(&format!("${{AWS::StackName}}-{}-dlq", queue.suffix));
        assert_eq!(properties["VisibilityTimeout"].as_u64(), Some(u64::from(queue.visibility_timeout_seconds)), "{}", queue.suffix);
        assert_eq!(properties["RedrivePolicy"]["maxReceiveCount"].as_u64(), Some(u64::from(queue.max_receive_count)), "{}", queue.suffix);
        assert_eq!(tagged(&properties["RedrivePolicy"]["deadLetterTargetArn"], "!GetAtt"), Some(format!("{dlq_resource}.Arn").as_str()));
        assert_eq!(dlq["MessageRetentionPeriod"].as_u64(), Some(u64::from(DEAD_LETTER_RETENTION_SECONDS)));
    }
}

#[test]
fn every_function_is_a_cargo_lambda_build_of_its_own_crate() {
    let template = template();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra");
    let functions: Vec<_> = template["Resources"].as_mapping().unwrap().values().filter(|r| r["Type"] == "AWS::Serverless::Function").collect();
    assert_eq!(
        functions.len(),
        12,
        "order-webhook, vendor-api, order-status, order-intake, notifier, event-relay, sla-sweep, payout-release, storefront-sync, storefront-reconcile, supplier-sync, operator-api"
    );
    for function in functions {
        assert_eq!(function["Metadata"]["BuildMethod"], "rust-cargolambda");
        let code = function["Properties"]["CodeUri"].as_str().expect("CodeUri");
        assert!(root.join(code).join("Cargo.toml").is_file(), "{code} is not a crate");
        assert!(
            function["Properties"]["Timeout"].as_u64().is_some() && function["Properties"]["MemorySize"].as_u64().is_some(),
            "{code}: chosen memory and timeout"
        );
    }
    let globals = &template["Globals"]["Function"];
    assert_eq!(globals["Runtime"].as_str(), Some("provided.al2023"));
    assert_eq!(tagged(&globals["Architectures"][0], "!Ref"), Some("Architecture"));
    assert_eq!(template["Parameters"]["Architecture"]["Default"], "arm64", "Graviton unless told otherwise");
}

#[test]
fn every_function_has_an_alarm_on_its_errors() {
    let template = template();
    let alarms = resources_of_type(&template, "AWS::CloudWatch::Alarm");
    for (name, _) in resources_of_type(&template, "AWS::Serverless::Function") {
        let watched = alarms.iter().any(|(_, alarm)| {
            alarm["MetricName"] == "Errors"
                && tagged(&alarm["Dimensions"][0]["Value"], "!Ref") == Some(name)
                && tagged(&alarm["AlarmActions"][0], "!Ref") == Some("AlarmTopic")
        });
        assert!(watched, "{name} fails unseen: no Errors alarm to the operator");
    }
}

#[test]
fn the_alarms_on_dropflows_own_metrics_name_metrics_it_emits() {
    use dropflow_shared::metrics::Metric;
    let template = template();
    let own: Vec<_> = resources_of_type(&template, "AWS::CloudWatch::Alarm").into_iter().filter(|(_, a)| a["Namespace"] == "dropflow").collect();
    assert!(own.len() >= 2, "unroutable lines and escalations are alarmed on");
    for (name, alarm) in own {
        assert!(Metric::ALL.iter().any(|m| alarm["MetricName"] == m.name()), "{name}: no such metric");
        let function = alarm["Dimensions"][0]["Value"].as_str().unwrap_or_default();
        assert!(
            ["order-webhook", "order-intake", "vendor-api", "notifier", "event-relay", "sla-sweep", "payout-release"].contains(&function),
            "{name}: no function {function}"
        );
    }
}

#[test]
fn every_queue_consumer_reports_partial_failures_within_its_lease() {
    let template = template();
    let queues = resources_of_type(&template, "AWS::SQS::Queue");
    let mut consumers = 0;
    for (_, function) in resources_of_type(&template, "AWS::Serverless::Function") {
        let Some(events) = function["Events"].as_mapping() else { continue };
        for event in events.values().filter(|e| e["Type"] == "SQS") {
            consumers += 1;
            let source = tagged(&event["Properties"]["Queue"], "!GetAtt").expect("Queue: !GetAtt X.Arn").trim_end_matches(".Arn");
            let queue = queues.iter().find(|(name, _)| *name == source).map(|(_, q)| q).expect("the consumed queue");
            let timeout = function["Timeout"].as_u64().unwrap();
            assert!(queue["VisibilityTimeout"].as_u64().unwrap() >= 6 * timeout, "{source}: lease under 6x the consumer's timeout");
            assert_eq!(event["Properties"]["FunctionResponseTypes"][0], "ReportBatchItemFailures", "{source}");
        }
    }
    assert_eq!(consumers, QUEUES.len());
}

#[test]
fn the_functions_get_every_setting_they_need_and_only_the_webhook_gets_the_secret() {
    let template = template();
    let globals = template["Globals"]["Function"]["Environment"]["Variables"].as_mapping().expect("Globals environment");
    // Each passed setting with a value of its parameter's kind.
    let sample = |name: &str| match name {
        _ if name.ends_with("EMAIL") => "a@b.example",
        "SLA_TIMEZONE" => "Europe/Berlin",
        "SLA_HOLIDAYS" => "2026-12-25",
        "SLA_REFUND_WINDOW_DAYS" => "15",
        "PAYOUT_MINIMUM" => "EUR:50.00,USD:50.00",
        "PUBLIC_BASE_URL" => "https://api.store.example",
        "SHOPIFY_NOTIFY_CUSTOMER" | "WOOCOMMERCE_NOTIFY_CUSTOMER" => "shop",
        _ => "1",
    };
    let lookup = |name: &str| globals.get(name).map(|_| sample(name).to_string());
    Config::from_lookup(lookup, |_| None).expect("every required setting is passed");
    AwsResources::from_lookup(lookup).expect("the table and queue addresses are passed");
    for secret in dropflow_shared::sources::SOURCES.iter().map(|s| s.secret_variable()) {
        assert!(!globals.contains_key(secret), "{secret} is not given to every function");
    }
    for (_, function) in resources_of_type(&template, "AWS::Serverless::Function") {
        let own = &function["Environment"]["Variables"]["SHOPIFY_WEBHOOK_SECRET_ARN"];
        let is_webhook = function["CodeUri"] == "../functions/order-webhook";
        assert_eq!(tagged(own, "!Ref") == Some("ShopifyWebhookSecretStore"), is_webhook, "{:?}", function["CodeUri"]);
    }
}

/// Every `!Ref` anywhere under `value` (inside `!If` and lists too).
fn refs(value: &Value) -> Vec<&str> {
    match value {
        Value::Tagged(tagged) if tagged.tag == "!Ref" => tagged.value.as_str().into_iter().collect(),
        Value::Tagged(tagged) => refs(&tagged.value),
        Value::Sequence(items) => items.iter().flat_map(refs).collect(),
        Value::Mapping(map) => map.values().flat_map(refs).collect(),
        _ => Vec::new(),
    }
}

#[test]
fn no_secret_is_in_any_environment_and_each_function_reads_only_its_own_secrets() {
    let template = template();
    let secret_parameters: Vec<&str> =
        template["Parameters"].as_mapping().unwrap().iter().filter(|(_, p)| p["NoEcho"] == true).map(|(name, _)| name.as_str().unwrap()).collect();
    assert!(secret_parameters.len() >= 5, "{secret_parameters:?}");
    let stores: Vec<&str> = resources_of_type(&template, "AWS::SecretsManager::Secret").into_iter().map(|(name, _)| name).collect();
    let mut environments = vec![("Globals", &template["Globals"]["Function"]["Environment"])];
    let functions = resources_of_type(&template, "AWS::Serverless::Function");
    environments.extend(functions.iter().map(|(name, f)| (*name, &f["Environment"])));
    for (name, environment) in environments {
        for used in refs(environment) {
            assert!(!secret_parameters.contains(&used), "{name} is given the secret {used} in its environment");
        }
    }
    // Each secret is a secret's ARN in `{NAME}_ARN`, readable by the functions given it, and no other.
    for (name, function) in &functions {
        let given: Vec<&str> = function["Environment"]["Variables"]
            .as_mapping()
            .map(|vars| {
                vars.iter().filter(|(k, _)| k.as_str().is_some_and(|k| k.ends_with("_ARN"))).flat_map(|(_, v)| refs(v)).filter(|r| stores.contains(r)).collect()
            })
            .unwrap_or_default();
        let readable: Vec<&str> = function["Policies"]
            .as_sequence()
            .map(|policies| {
                policies
                    .iter()
                    .flat_map(|p| p["Statement"].as_sequence().into_iter().flatten())
                    .flat_map(|statement| {
                        let statement = match statement {
                            Value::Tagged(t) => &t.value[1],
                            other => other,
                        };
                        let reads = statement["Action"].as_sequence().is_some_and(|a| a.iter().any(|a| a == "secretsmanager:GetSecretValue"));
                        if reads { refs(&statement["Resource"]) } else { Vec::new() }
                    })
                    .filter(|r| stores.contains(r))
                    .collect()
            })
            .unwrap_or_default();
        let (mut given, mut readable) = (given, readable);
        given.sort();
        readable.sort();
        assert_eq!(given, readable, "{name} reads exactly the secrets it is given");
    }
    for (name, store) in resources_of_type(&template, "AWS::SecretsManager::Secret") {
        let seeded = refs(&store["SecretString"]);
        assert!(seeded.iter().all(|r| secret_parameters.contains(r) || *r == "AWS::NoValue"), "{name} is seeded from a NoEcho parameter only (or generated)");
    }
}

/// The event-relay's mapping as the template declares it.
fn relay_mapping(template: &Value) -> &Value {
    let relay = resources_of_type(template, "AWS::Serverless::Function")
        .into_iter()
        .find(|(_, f)| f["CodeUri"] == "../functions/event-relay")
        .map(|(_, f)| f)
        .expect("an event-relay function");
    &relay["Events"]["Stream"]["Properties"]
}

#[test]
fn the_relay_reads_the_table_stream_reports_partial_failures_and_has_a_last_resort() {
    let template = template();
    let mapping = relay_mapping(&template);
    assert_eq!(tagged(&mapping["Stream"], "!GetAtt"), Some("Table.StreamArn"));
    assert_eq!(mapping["FunctionResponseTypes"][0], "ReportBatchItemFailures");
    assert_eq!(mapping["BisectBatchOnFunctionError"], true);
    assert!(mapping["MaximumRetryAttempts"].as_u64().is_some(), "retries are bounded");
    assert_eq!(tagged(&mapping["DestinationConfig"]["OnFailure"]["Destination"], "!GetAtt"), Some("RelayFailureQueue.Arn"));
    let relay = resources_of_type(&template, "AWS::Serverless::Function").into_iter().find(|(_, f)| f["CodeUri"] == "../functions/event-relay").unwrap().1;
    assert_eq!(tagged(&relay["Environment"]["Variables"]["RELAY_DLQ_URL"], "!Ref"), Some("RelayDeadLetterQueue"));
}

/// Whether a stream record (as JSON) matches an EventBridge-style filter pattern of the
/// kinds the template uses: nested objects, lists of exact values, `{"prefix": …}`.
fn matches(pattern: &serde_json::Value, record: &serde_json::Value) -> bool {
    match pattern {
        serde_json::Value::Object(fields) => fields.iter().all(|(name, inner)| record.get(name).is_some_and(|value| matches(inner, value))),
        serde_json::Value::Array(options) => options.iter().any(|option| match option {
            serde_json::Value::Object(rule) if rule.contains_key("prefix") => {
                record.as_str().zip(rule["prefix"].as_str()).is_some_and(|(text, prefix)| text.starts_with(prefix))
            }
            exact => exact == record,
        }),
        _ => false,
    }
}

#[test]
fn the_relay_filter_passes_inserted_event_items_only_as_the_relay_itself_does() {
    use dropflow_shared::store::is_event_insert;
    let template = template();
    let filters = relay_mapping(&template)["FilterCriteria"]["Filters"].as_sequence().expect("filters");
    assert_eq!(filters.len(), 1);
    let pattern: serde_json::Value = serde_json::from_str(filters[0]["Pattern"].as_str().expect("a pattern")).expect("the pattern is JSON");
    let record =
        |name: &str, sk: &str| serde_json::json!({"eventName": name, "dynamodb": {"Keys": {"pk": {"S": "ORDER#o_1"}, "sk": {"S": sk}}, "NewImage": {}}});
    for (name, sk) in
        [("INSERT", "EVT#o_1:v:shipped:3"), ("MODIFY", "EVT#o_1:v:shipped:3"), ("REMOVE", "EVT#x"), ("INSERT", "VO#v"), ("INSERT", "ORDER"), ("INSERT", "SENT")]
    {
        assert_eq!(matches(&pattern, &record(name, sk)), is_event_insert(name, Some(sk)), "{name} {sk}");
    }
    assert!(matches(&pattern, &record("INSERT", "EVT#a")));
}

/// A resource as a whole (its `DeletionPolicy` beside its `Properties`).
fn resource<'a>(template: &'a Value, name: &str) -> &'a Value {
    &template["Resources"][name]
}

fn alarms(template: &Value) -> Vec<(&str, &Value)> {
    resources_of_type(template, "AWS::CloudWatch::Alarm")
}

/// The value of the alarm's dimension `name`, as written (`!Ref X`, `!GetAtt X.Y` or plain).
fn dimension<'a>(alarm: &'a Value, name: &str) -> Option<&'a str> {
    let value = &alarm["Dimensions"].as_sequence()?.iter().find(|d| d["Name"] == name)?["Value"];
    value.as_str().or_else(|| tagged(value, "!Ref")).or_else(|| tagged(value, "!GetAtt"))
}

fn tells_the_operator(alarm: &Value) -> bool {
    tagged(&alarm["AlarmActions"][0], "!Ref") == Some("AlarmTopic")
}

#[test]
fn every_function_logs_json_to_its_own_group_kept_for_the_retention_period() {
    let template = template();
    let mut groups = Vec::new();
    for (name, function) in resources_of_type(&template, "AWS::Serverless::Function") {
        assert_eq!(function["LoggingConfig"]["LogFormat"], "JSON", "{name}");
        let group = tagged(&function["LoggingConfig"]["LogGroup"], "!Ref").unwrap_or_else(|| panic!("{name} logs to a group the stack does not declare"));
        groups.push(group);
    }
    groups.push(
        tagged(&template["Resources"]["HttpApi"]["Properties"]["AccessLogSettings"]["DestinationArn"], "!GetAtt")
            .expect("the API's access log")
            .trim_end_matches(".Arn"),
    );
    let declared: Vec<&str> = resources_of_type(&template, "AWS::Logs::LogGroup").into_iter().map(|(name, _)| name).collect();
    let mut sorted = groups.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), groups.len(), "one group each");
    for group in groups {
        assert!(declared.contains(&group), "{group} is not declared");
        assert_eq!(tagged(&resource(&template, group)["Properties"]["RetentionInDays"], "!Ref"), Some("LogRetentionDays"), "{group} is kept forever");
    }
    assert_eq!(template["Parameters"]["LogRetentionDays"]["Default"].as_u64(), Some(30));
}

#[test]
fn every_function_has_an_alarm_on_its_throttles() {
    let template = template();
    let alarms = alarms(&template);
    for (name, _) in resources_of_type(&template, "AWS::Serverless::Function") {
        assert!(
            alarms.iter().any(|(_, a)| a["MetricName"] == "Throttles" && dimension(a, "FunctionName") == Some(name) && tells_the_operator(a)),
            "{name} is throttled unseen"
        );
    }
}

#[test]
fn every_queue_is_alarmed_and_dead_letters_are_kept_and_their_clearing_told() {
    let template = template();
    let alarms = alarms(&template);
    for (name, queue) in resources_of_type(&template, "AWS::SQS::Queue") {
        let on_it: Vec<_> = alarms.iter().filter(|(_, a)| dimension(a, "QueueName") == Some(&format!("{name}.QueueName")) && tells_the_operator(a)).collect();
        let is_dead_letters = queue["RedrivePolicy"].is_null();
        if is_dead_letters {
            assert!(
                on_it.iter().any(|(_, a)| a["MetricName"] == "ApproximateNumberOfMessagesVisible" && tagged(&a["OKActions"][0], "!Ref") == Some("AlarmTopic")),
                "{name}: no alarm on what lands in it, or none when it is cleared"
            );
            assert_eq!(resource(&template, name)["DeletionPolicy"], "Retain", "{name} goes with the stack");
        } else {
            assert!(on_it.iter().any(|(_, a)| a["MetricName"] == "ApproximateAgeOfOldestMessage"), "{name}: a stuck consumer goes unseen");
            assert_eq!(queue["MessageRetentionPeriod"].as_u64(), Some(u64::from(DEAD_LETTER_RETENTION_SECONDS)), "{name}");
        }
    }
    assert_eq!(resource(&template, "Table")["Properties"]["DeletionProtectionEnabled"], true);
}

#[test]
fn a_schedule_that_stops_running_is_an_alarm() {
    let template = template();
    let alarms = alarms(&template);
    let scheduled: Vec<&str> = resources_of_type(&template, "AWS::Serverless::Function")
        .into_iter()
        .filter(|(_, f)| f["Events"].as_mapping().is_some_and(|events| events.values().any(|e| e["Type"] == "Schedule")))
        .map(|(name, _)| name)
        .collect();
    assert_eq!(scheduled.len(), 4, "the SLA sweep, payout release, storefront reconciliation and supplier sync");
    for name in scheduled {
        let missed = alarms.iter().any(|(_, a)| {
            a["MetricName"] == "Invocations"
                && dimension(a, "FunctionName") == Some(name)
                && a["ComparisonOperator"] == "LessThanThreshold"
                && a["TreatMissingData"] == "breaching"
                && tells_the_operator(a)
        });
        assert!(missed, "{name} could stop running unseen");
    }
}

#[test]
fn the_stream_relay_falling_behind_is_an_alarm() {
    let template = template();
    assert!(
        alarms(&template)
            .iter()
            .any(|(_, a)| a["MetricName"] == "IteratorAge" && dimension(a, "FunctionName") == Some("EventRelayFunction") && tells_the_operator(a))
    );
}

#[test]
fn the_api_is_throttled_logged_and_refused_webhooks_are_an_alarm() {
    let template = template();
    let api = &resource(&template, "HttpApi")["Properties"];
    let routes = &api["DefaultRouteSettings"];
    assert!(tagged(&routes["ThrottlingRateLimit"], "!Ref").is_some() && tagged(&routes["ThrottlingBurstLimit"], "!Ref").is_some(), "a flood is not throttled");
    assert_eq!(routes["DetailedMetricsEnabled"], true, "per-route metrics, which the webhook alarms read");
    let format = api["AccessLogSettings"]["Format"].as_str().expect("an access log format");
    for field in ["$context.requestId", "$context.routeKey", "$context.status", "$context.identity.sourceIp"] {
        assert!(format.contains(field), "{field} in the access log");
    }
    let alarms = alarms(&template);
    assert!(
        alarms
            .iter()
            .any(|(_, a)| a["Namespace"] == "AWS/ApiGateway" && a["MetricName"] == "5xx" && dimension(a, "ApiId") == Some("HttpApi") && tells_the_operator(a))
    );
    let webhook = resources_of_type(&template, "AWS::Serverless::Function").into_iter().find(|(name, _)| *name == "OrderWebhookFunction").unwrap().1;
    let paths: Vec<&str> = webhook["Events"].as_mapping().unwrap().values().map(|e| e["Properties"]["Path"].as_str().unwrap()).collect();
    assert_eq!(paths.len(), 3, "storefront orders, carrier pushes and supplier pushes");
    for path in paths {
        // The router answers a wrong signature itself (401): the function's Errors stay 0.
        let watched = alarms.iter().any(|(_, a)| {
            a["MetricName"] == "4xx"
                && dimension(a, "Resource") == Some(path)
                && dimension(a, "Method") == Some("POST")
                && dimension(a, "Stage") == Some("$default")
                && tells_the_operator(a)
        });
        assert!(watched, "POST {path} refused unseen");
    }
}

#[test]
fn the_status_page_has_its_own_throttle_and_only_reads() {
    let template = template();
    let api = &resource(&template, "HttpApi")["Properties"];
    let route = &api["RouteSettings"]["GET /status/{token}"];
    assert_eq!(tagged(&route["ThrottlingRateLimit"], "!Ref"), Some("StatusRateLimit"), "the page's own limit");
    assert_eq!(tagged(&route["ThrottlingBurstLimit"], "!Ref"), Some("StatusBurstLimit"));
    let function = &resource(&template, "OrderStatusFunction")["Properties"];
    let paths: Vec<&str> = function["Events"].as_mapping().unwrap().values().map(|e| e["Properties"]["Path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["/status/{token}"], "its JSON is the same route");
    let actions: Vec<&str> = function["Policies"]
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|p| p["Statement"].as_sequence().into_iter().flatten())
        .flat_map(|s| s["Action"].as_sequence().into_iter().flatten())
        .filter_map(|a| a.as_str())
        .collect();
    assert_eq!(actions, ["secretsmanager:GetSecretValue", "dynamodb:GetItem", "dynamodb:Query"], "read-only");
}

#[test]
fn the_webhook_answers_within_shopifys_five_seconds() {
    let template = template();
    let webhook = resources_of_type(&template, "AWS::Serverless::Function").into_iter().find(|(name, _)| *name == "OrderWebhookFunction").unwrap().1;
    let timeout = webhook["Timeout"].as_u64().unwrap();
    assert!(timeout <= 5, "{timeout} s");
    let sdk = webhook["Environment"]["Variables"][dropflow_shared::adapters::aws::OPERATION_TIMEOUT_VARIABLE].as_u64().expect("its SDK calls are shortened");
    assert!(sdk < timeout, "a call gives up ({sdk} s) before the function is cut off ({timeout} s)");
}

#[test]
fn a_failed_message_counts_though_the_batch_succeeds() {
    let template = template();
    let consumers: Vec<(&str, &Value)> = resources_of_type(&template, "AWS::Serverless::Function")
        .into_iter()
        .filter(|(_, f)| f["Events"].as_mapping().is_some_and(|events| events.values().any(|e| e["Type"] == "SQS")))
        .collect();
    assert_eq!(consumers.len(), QUEUES.len());
    let filters = resources_of_type(&template, "AWS::Logs::MetricFilter");
    let alarms = alarms(&template);
    // The lines the consumers log for a message that failed (shared/src/handlers.rs).
    let handlers = include_str!("../../shared/src/handlers.rs");
    for line in ["\"message failed; it will be retried\"", "\"message parked in its dead-letter queue", "\"message could not be parked"] {
        assert!(handlers.contains(line), "the filter pattern counts {line}, which is no longer logged");
    }
    for (name, function) in consumers {
        let group = tagged(&function["LoggingConfig"]["LogGroup"], "!Ref").unwrap();
        let (_, filter) =
            filters.iter().find(|(_, f)| tagged(&f["LogGroupName"], "!Ref") == Some(group)).unwrap_or_else(|| panic!("{name}: no metric filter on its log"));
        assert_eq!(filter["FilterPattern"], "{ $.fields.message = \"message *\" }");
        let metric = &filter["MetricTransformations"][0];
        assert!(
            alarms.iter().any(|(_, a)| a["Namespace"] == metric["MetricNamespace"] && a["MetricName"] == metric["MetricName"] && tells_the_operator(a)),
            "{name}: its failures are counted but not alarmed"
        );
    }
}

#[test]
fn mail_goes_from_a_signed_domain_through_a_set_that_suppresses_and_is_watched() {
    let template = template();
    let identity = &resource(&template, "SenderIdentity")["Properties"];
    assert_eq!(tagged(&identity["EmailIdentity"], "!Ref"), Some("SenderDomain"), "a domain identity, not one address");
    assert_eq!(identity["DkimAttributes"]["SigningEnabled"], true);
    assert!(tagged(&identity["MailFromAttributes"]["MailFromDomain"], "!Sub").is_some_and(|d| d.ends_with("${SenderDomain}")), "a custom MAIL FROM aligns SPF");
    assert_eq!(tagged(&identity["ConfigurationSetAttributes"]["ConfigurationSetName"], "!Ref"), Some("MailConfigurationSet"), "every send uses the set");
    let set = &resource(&template, "MailConfigurationSet")["Properties"];
    assert_eq!(set["ReputationOptions"]["ReputationMetricsEnabled"], true);
    assert_eq!(set["SuppressionOptions"]["SuppressedReasons"], serde_yaml::from_str::<Value>("[BOUNCE, COMPLAINT]").unwrap());
    let alarms = alarms(&template);
    for (metric, threshold) in [("Reputation.BounceRate", 0.02), ("Reputation.ComplaintRate", 0.0005)] {
        let alarm = alarms.iter().find(|(_, a)| a["Namespace"] == "AWS/SES" && a["MetricName"] == metric).unwrap_or_else(|| panic!("{metric} unwatched")).1;
        assert_eq!(alarm["Threshold"].as_f64(), Some(threshold), "{metric}");
        assert!(tells_the_operator(alarm));
    }
    for output in ["DkimRecord1", "DkimRecord2", "DkimRecord3", "MailFromMxRecord", "MailFromSpfRecord", "DmarcRecord"] {
        assert!(template["Outputs"].get(output).is_some(), "the DNS record {output} is in the outputs");
    }
}

#[test]
fn bounces_and_complaints_reach_the_notifier() {
    let template = template();
    let destination = &resource(&template, "MailEventDestination")["Properties"];
    assert_eq!(tagged(&destination["ConfigurationSetName"], "!Ref"), Some("MailConfigurationSet"));
    let events = &destination["EventDestination"];
    assert_eq!(events["MatchingEventTypes"], serde_yaml::from_str::<Value>("[bounce, complaint]").unwrap());
    let topic = tagged(&events["SnsDestination"]["TopicARN"], "!Ref").expect("an SNS topic");
    let (_, subscription) = resources_of_type(&template, "AWS::SNS::Subscription")
        .into_iter()
        .find(|(_, s)| tagged(&s["TopicArn"], "!Ref") == Some(topic))
        .expect("the topic is subscribed");
    assert_eq!(tagged(&subscription["Endpoint"], "!GetAtt"), Some("NotifyQueue.Arn"), "to the queue the notifier consumes");
    let (_, policy) = resources_of_type(&template, "AWS::SQS::QueuePolicy")
        .into_iter()
        .find(|(_, p)| tagged(&p["Queues"][0], "!Ref") == Some("NotifyQueue"))
        .expect("the queue lets SNS in");
    assert_eq!(tagged(&policy["PolicyDocument"]["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"], "!Ref"), Some(topic), "from that topic only");
    let (_, topic_policy) = resources_of_type(&template, "AWS::SNS::TopicPolicy").into_iter().next().expect("SES may publish");
    assert_eq!(topic_policy["PolicyDocument"]["Statement"][0]["Principal"]["Service"], "ses.amazonaws.com");
    assert!(resource(&template, topic)["Properties"]["KmsMasterKeyId"].is_null(), "SES cannot publish under the AWS-managed key");
}
