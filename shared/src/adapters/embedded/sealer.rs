//! Sealing on the embedded store: XChaCha20-Poly1305 under a 32-byte local key
//! (`SUPPLIER_CREDENTIALS_KEY`, or `supplier-credentials.key` in the data dir), the
//! vendor as associated data, so a sealed value opens only for its own vendor and any
//! change to it is refused.

use crate::ports::{SealError, Sealer};
use async_trait::async_trait;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

/// The prefix of a locally sealed value (its format's version).
const PREFIX: &str = "local1:";

/// A sealer under one local key.
pub struct LocalSealer {
    cipher: XChaCha20Poly1305,
}

impl LocalSealer {
    /// The sealer of `key`: base64 of 32 random bytes.
    pub fn from_base64(key: &str) -> Result<LocalSealer, String> {
        let bytes = base64::engine::general_purpose::STANDARD.decode(key.trim()).map_err(|_| "the key is not base64".to_string())?;
        let cipher = XChaCha20Poly1305::new_from_slice(&bytes).map_err(|_| format!("the key is {} bytes, not 32", bytes.len()))?;
        Ok(LocalSealer { cipher })
    }

    /// A new random key, as `from_base64` reads it.
    pub fn generate_key() -> String {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).expect("the OS gives random bytes");
        base64::engine::general_purpose::STANDARD.encode(key)
    }
}

#[async_trait]
impl Sealer for LocalSealer {
    async fn seal(&self, context: &str, plain: &[u8]) -> Result<String, SealError> {
        let mut nonce = [0u8; 24];
        getrandom::fill(&mut nonce).map_err(|e| SealError::Unavailable(e.to_string()))?;
        let sealed = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plain, aad: context.as_bytes() })
            .map_err(|_| SealError::Unavailable("sealing failed".into()))?;
        Ok(format!("{PREFIX}{}", base64::engine::general_purpose::STANDARD.encode([&nonce[..], &sealed].concat())))
    }

    async fn open(&self, context: &str, sealed: &str) -> Result<Vec<u8>, SealError> {
        let bytes = sealed
            .strip_prefix(PREFIX)
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .filter(|b| b.len() > 24)
            .ok_or_else(|| SealError::Refused("not sealed by the local key".into()))?;
        let (nonce, sealed) = bytes.split_at(24);
        self.cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad: context.as_bytes() })
            .map_err(|_| SealError::Refused("the sealed value does not open with this key for this vendor".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_sealed_value_opens_only_with_its_key_for_its_vendor() {
        let sealer = LocalSealer::from_base64(&LocalSealer::generate_key()).unwrap();
        let sealed = sealer.seal("acme", b"token").await.unwrap();
        assert!(!sealed.contains("token"));
        assert_eq!(sealer.open("acme", &sealed).await.unwrap(), b"token");
        assert!(matches!(sealer.open("other", &sealed).await, Err(SealError::Refused(_))));
        let other_key = LocalSealer::from_base64(&LocalSealer::generate_key()).unwrap();
        assert!(matches!(other_key.open("acme", &sealed).await, Err(SealError::Refused(_))));
        let mut tampered = sealed.clone();
        tampered.replace_range(sealed.len() - 3..sealed.len() - 2, if &sealed[sealed.len() - 3..sealed.len() - 2] == "A" { "B" } else { "A" });
        assert!(sealer.open("acme", &tampered).await.is_err());
        assert!(LocalSealer::from_base64("c2hvcnQ=").is_err());
    }
}
