//! The HTTPS client of the storefronts', suppliers' and carrier's APIs: reqwest on rustls
//! with aws-lc-rs, the crypto provider the AWS SDK's client links already. reqwest's own
//! default would bring a second one (ring, about 180 KiB of code and its tables) into
//! every binary that calls those APIs (BENCHMARKS.md).

/// An HTTPS client built on its first request. Building one sets up TLS (the provider,
/// the root certificates: about 0.15 ms), which a function's cold start would pay
/// whether or not it calls: vendor-api holds the suppliers' clients for the rare
/// connection of an account, the notifier the storefronts' when a shop has a token.
#[derive(Clone)]
pub struct Lazy {
    timeout: std::time::Duration,
    client: std::sync::OnceLock<reqwest::Client>,
}

impl Lazy {
    /// Its requests will be given up after `timeout`.
    pub fn new(timeout: std::time::Duration) -> Lazy {
        Lazy { timeout, client: std::sync::OnceLock::new() }
    }

    /// The client, built now if this is its first use.
    pub fn get(&self) -> &reqwest::Client {
        self.client.get_or_init(|| client(self.timeout))
    }
}

/// A client whose every request is given up after `timeout`.
fn client(timeout: std::time::Duration) -> reqwest::Client {
    // The process's provider for reqwest's TLS. A second install is refused and the first
    // stands; it is this same provider either way.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    // reqwest's build fails only when its TLS backend cannot start, which the provider
    // installed above rules out for this configuration (a timeout, webpki's roots). Were
    // it ever to fail, the process stops with the reason logged, as reqwest's own
    // `Client::new` would.
    reqwest::Client::builder().timeout(timeout).build().unwrap_or_else(|error| {
        tracing::error!(%error, "the HTTPS client could not be built");
        std::process::abort()
    })
}

#[cfg(test)]
mod tests {
    /// reqwest is built without a provider of its own: one client must still start and
    /// reach a server (plain http on loopback: the TLS stack is still set up at build).
    #[tokio::test]
    async fn a_client_builds_on_the_sdks_crypto_provider_and_calls() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buffer = [0u8; 1024];
            let _ = socket.read(&mut buffer).await;
            socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok").await.unwrap();
        });
        let client = super::Lazy::new(std::time::Duration::from_secs(5));
        let answer = client.get().get(format!("http://{address}/")).send().await.unwrap();
        assert_eq!(answer.text().await.unwrap(), "ok");
        assert!(rustls::crypto::CryptoProvider::get_default().is_some(), "the provider is installed for the process");
    }
}
