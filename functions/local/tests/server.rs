//! The local server under clients that hold on: idle and slow connections are closed
//! after the header-read timeout, and a bounded number of them cannot keep a real client
//! out.

use dropflow_local::{Local, ServerLimits, serve_http};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const LIMITS: ServerLimits = ServerLimits { header_read_timeout: Duration::from_millis(500), connection_lifetime: Duration::from_secs(5), max_connections: 4 };

async fn server() -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let local = Local::open(dir.path()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    tokio::spawn(serve_http(listener, local.router(), LIMITS));
    (address, dir)
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_cut_off() {
    let (address, _dir) = server().await;
    let mut slow = TcpStream::connect(&address).await.unwrap();
    slow.write_all(b"GET /vendor/orders HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let started = Instant::now();
    let mut buffer = [0u8; 256];
    let read = tokio::time::timeout(Duration::from_secs(3), slow.read(&mut buffer)).await.expect("closed within the timeout");
    assert!(matches!(read, Ok(0) | Err(_)) || String::from_utf8_lossy(&buffer).starts_with("HTTP/1.1 408"), "{read:?}");
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
}

#[tokio::test]
async fn idle_connections_at_the_limit_do_not_keep_a_real_client_out() {
    let (address, _dir) = server().await;
    let mut idle = Vec::new();
    for _ in 0..LIMITS.max_connections + 4 {
        idle.push(TcpStream::connect(&address).await.unwrap());
    }
    let started = Instant::now();
    let response = reqwest::Client::new().get(format!("http://{address}/no/such/route")).timeout(Duration::from_secs(5)).send().await.expect("served");
    assert_eq!(response.status(), 404);
    assert!(started.elapsed() < Duration::from_secs(3), "served once the idle ones timed out: {:?}", started.elapsed());
    drop(idle);
}
