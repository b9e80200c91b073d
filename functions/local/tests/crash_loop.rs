//! Nothing lost, nothing doubled through crashes: `dropflow serve` takes a few hundred
//! two-vendor orders, every webhook delivered twice, while it is SIGKILLed at random
//! moments and restarted on the same data dir. Every accepted webhook must become its
//! two vendor orders and its three mails, once each.
//!
//! Rerun with figures: `cargo test -p dropflow-local --test crash_loop -- --nocapture`
//! (`CRASH_LOOP_ORDERS`, `CRASH_LOOP_KILLS` scale it, `CRASH_LOOP_PAUSE_MS` sets the
//! shortest life between kills, `CRASH_LOOP_CHAOS` adds faults;
//! BENCHMARKS.md has runs).

use base64::Engine;
use hmac::{Hmac, Mac};
use std::collections::{HashMap, HashSet};
mod common;

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const SECRET: &str = "crash-loop-secret";

fn dropflow(dir: &std::path::Path, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_dropflow")).arg("--data-dir").arg(dir).args(args).output().expect("run dropflow");
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

fn start(dir: &std::path::Path, port: u16) -> Child {
    // `CRASH_LOOP_CHAOS=0.1` adds injected faults at every port on top of the kills.
    let chaos: Vec<String> = std::env::var("CRASH_LOOP_CHAOS").map(|rate| vec!["--chaos".to_string(), rate]).unwrap_or_default();
    Command::new(env!("CARGO_BIN_EXE_dropflow"))
        .arg("--data-dir")
        .arg(dir)
        .args(["serve", "--port", &port.to_string()])
        .args(chaos)
        .env("SHOPIFY_WEBHOOK_SECRET", SECRET)
        .stdout(Stdio::null())
        .stderr(server_log(dir))
        .spawn()
        .expect("start serve")
}

/// Every server's log, appended to one file beside the data, so that a loss can be told
/// from what the servers said (printed when something is lost).
fn server_log(dir: &std::path::Path) -> std::fs::File {
    std::fs::OpenOptions::new().create(true).append(true).open(dir.join("serve.log")).expect("open serve.log")
}

fn sign(body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Order `n`: the fixture with its own id and number, lines for both vendors.
fn order(n: usize) -> Vec<u8> {
    let fixture = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/shopify/orders-create-paid.json")).unwrap();
    let mut order: serde_json::Value = serde_json::from_slice(&fixture).unwrap();
    order["id"] = serde_json::json!(7_000_000 + n);
    order["name"] = serde_json::json!(format!("#C{n}"));
    serde_json::to_vec(&order).unwrap()
}

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The outbox once it holds `expected` mails, or once it has not grown for 30 seconds
/// (longer than the intake's fifth backoff); then a second more, for anything sent twice
/// to show.
async fn settle(client: &reqwest::Client, base: &str, expected: usize) -> Vec<serde_json::Value> {
    let mut mail: Vec<serde_json::Value> = Vec::new();
    let mut grew = Instant::now();
    while grew.elapsed() < Duration::from_secs(30) {
        if let Ok(response) = client.get(format!("{base}/_local/outbox")).send().await
            && let Ok(listed) = response.json::<Vec<serde_json::Value>>().await
        {
            if listed.len() > mail.len() {
                grew = Instant::now();
            }
            mail = listed;
            if mail.len() >= expected {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    client.get(format!("{base}/_local/outbox")).send().await.unwrap().json().await.unwrap_or(mail)
}

/// The first warnings and errors the servers logged.
fn warnings(data: &std::path::Path) -> String {
    let log = std::fs::read_to_string(data.join("serve.log")).unwrap_or_default();
    log.lines().filter(|l| l.contains("WARN") || l.contains("ERROR")).take(40).collect::<Vec<_>>().join("\n")
}

/// Every order of a vendor through the API, page by page.
async fn vendor_orders(client: &reqwest::Client, base: &str, key: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{base}/vendor/orders?cursor={c}"),
            None => format!("{base}/vendor/orders"),
        };
        let page: serde_json::Value = client.get(url).bearer_auth(key).send().await.unwrap().json().await.unwrap();
        ids.extend(page["orders"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap().to_string()));
        match page["cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return ids,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_again_and_again_the_server_loses_and_doubles_nothing() {
    let orders = setting("CRASH_LOOP_ORDERS", 200);
    let minimum_kills = setting("CRASH_LOOP_KILLS", 12);
    // Kills come `pause` to 5 × `pause` ms after the restarted server answers.
    let pause = setting("CRASH_LOOP_PAUSE_MS", 100) as u64;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    dropflow(data, &["vendor", "add", "alpha", "--name", "Alpha", "--email", "alpha@vendors.example"]);
    dropflow(data, &["vendor", "add", "beta", "--name", "Beta", "--email", "beta@vendors.example"]);
    let keys = [dropflow(data, &["key", "create", "alpha"]), dropflow(data, &["key", "create", "beta"])];
    for (sku, vendor) in [("IPOD2008GREEN", "alpha"), ("IPOD2008RED", "alpha"), ("IPOD2008BLACK", "beta")] {
        dropflow(data, &common::product_add(sku, vendor));
    }

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let server = Arc::new(std::sync::Mutex::new(start(data, port)));
    let started = Instant::now();

    // Every order delivered twice, by 8 storefront workers that retry until a 200.
    let deliveries: Vec<(usize, Vec<u8>)> = (0..orders)
        .flat_map(|n| {
            let body = order(n);
            [(n, body.clone()), (n, body)]
        })
        .collect();
    let deliveries = Arc::new(std::sync::Mutex::new(deliveries));
    let accepted = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..8 {
        let (deliveries, accepted, base) = (deliveries.clone(), accepted.clone(), base.clone());
        workers.push(tokio::spawn(async move {
            let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
            loop {
                let Some((_, body)) = deliveries.lock().unwrap().pop() else { return };
                loop {
                    let sent = client
                        .post(format!("{base}/webhooks/shopify"))
                        .header("X-Shopify-Hmac-Sha256", sign(&body))
                        .header("X-Shopify-Topic", "orders/paid")
                        .body(body.clone())
                        .send()
                        .await;
                    match sent {
                        Ok(response) if response.status() == 200 => break,
                        Ok(response) => assert!(response.status().is_server_error(), "a webhook refused: {}", response.status()),
                        Err(_) => {}
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                accepted.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }

    // The killer: SIGKILL at random moments, restart at once on the same data dir. Each
    // kill waits for the restarted server to answer first: a server killed five times
    // while still booting never got to its leased messages, which SQS (and the embedded
    // queue) then dead-letter after five receives; on a loaded machine a boot can take
    // longer than the 100-500 ms between kills (CI lost 10 orders so).
    let sending = Arc::new(AtomicBool::new(true));
    let killer = {
        let (server, sending, data, base) = (server.clone(), sending.clone(), data.to_path_buf(), base.clone());
        tokio::spawn(async move {
            let probe = reqwest::Client::builder().timeout(Duration::from_secs(1)).build().unwrap();
            let mut kills = 0;
            let mut seed = u64::from(std::process::id()) | 1;
            while sending.load(Ordering::Relaxed) || kills < minimum_kills {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let up = Instant::now() + Duration::from_secs(20);
                while probe.get(format!("{base}/openapi.json")).send().await.is_err() && Instant::now() < up {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                tokio::time::sleep(Duration::from_millis(pause + seed % (4 * pause).max(1))).await;
                let mut child = server.lock().unwrap();
                child.kill().unwrap();
                child.wait().unwrap();
                *child = start(&data, port);
                kills += 1;
            }
            kills
        })
    };
    for worker in workers {
        worker.await.unwrap();
    }
    sending.store(false, Ordering::Relaxed);
    let kills = killer.await.unwrap();
    let send_time = started.elapsed();

    // Let the last restart settle: every mail of every order, then nothing more. A
    // message leased by a server killed five times running (a slow machine: a batch
    // outlasting several kills) is dead-lettered, as SQS does after maxReceiveCount: it
    // is parked, not lost. The operator's `dlq replay` must then bring it through once.
    let client = reqwest::Client::new();
    let expected_mail = 3 * orders;
    let mut mail = settle(&client, &base, expected_mail).await;
    let mut replayed = 0;
    if mail.len() < expected_mail {
        let dead = dropflow(data, &["dlq", "list"]);
        replayed = dead.lines().skip(1).filter(|l| l.split('\t').nth(2).is_some_and(|why| why.starts_with("failed"))).count();
        println!("dead letters before the replay:\n{dead}\nwhat the servers warned of:\n{}", warnings(data));
        if replayed > 0 {
            dropflow(data, &["dlq", "replay"]);
            mail = settle(&client, &base, expected_mail).await;
        }
    }

    let mut per_mail: HashMap<(String, String), usize> = HashMap::new();
    for m in &mail {
        *per_mail.entry((m["to"].as_str().unwrap().to_string(), m["subject"].as_str().unwrap().to_string())).or_default() += 1;
    }
    let doubled_mail: usize = per_mail.values().map(|n| n - 1).sum();
    let lost_mail = expected_mail.saturating_sub(per_mail.len());
    let mut doubled_orders = 0;
    let mut lost_orders = 0;
    for key in &keys {
        let ids = vendor_orders(&client, &base, key).await;
        let distinct: HashSet<&String> = ids.iter().collect();
        doubled_orders += ids.len() - distinct.len();
        lost_orders += orders.saturating_sub(distinct.len());
    }
    server.lock().unwrap().kill().unwrap();
    if lost_mail > 0 {
        let dead = dropflow(data, &["dlq", "list"]);
        let subjects: HashSet<String> = per_mail.keys().map(|(to, subject)| format!("{to} {subject}")).collect();
        let missing: Vec<String> = (0..orders)
            .flat_map(|n| {
                [
                    format!("alpha@vendors.example New order #C{n}"),
                    format!("beta@vendors.example New order #C{n}"),
                    format!("bob.norman@hostmail.com Order #C{n} confirmed"),
                ]
            })
            .filter(|want| !subjects.iter().any(|have| have.starts_with(want.as_str())))
            .collect();
        println!("missing mail: {missing:?}\ndead letters: {dead}\nwhat the servers warned of:\n{}", warnings(data));
    }
    println!(
        "crash loop: {orders} two-vendor orders, {} deliveries accepted, {kills} SIGKILLs, {replayed} dead letters replayed; lost: {lost_orders} vendor orders, {lost_mail} mails; doubled: {doubled_orders} vendor orders, {doubled_mail} mails; sending took {:.1} s, all mail out after {:.1} s",
        accepted.load(Ordering::Relaxed),
        send_time.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    assert!(kills >= minimum_kills);
    assert_eq!(accepted.load(Ordering::Relaxed), 2 * orders);
    assert_eq!((lost_orders, doubled_orders), (0, 0), "every order is its two vendor orders, once");
    assert_eq!((lost_mail, doubled_mail), (0, 0), "every mail once: {} of {expected_mail}", per_mail.len());
}
