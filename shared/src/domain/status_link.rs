//! The customer's order-status link: `/status/{token}`, where the token names the order
//! and proves dropflow made it. It is `base64url("{key id}:{order id}" ‖ tag)` without
//! padding, the tag the first 16 bytes of HMAC-SHA256 over the order id under that
//! key: unguessable (128 bits), tamper-evident (a changed byte or another order's id
//! fails the tag), and free of personal data (the order id is a hash of the
//! storefront's). Keys rotate: new links use the newest key, and links made under an
//! older one still open while that key is configured.

use super::ids::OrderId;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The tag's length in bytes.
const TAG_BYTES: usize = 16;

/// The shortest secret taken, in characters (as many bits as the tag, and more).
pub const MIN_SECRET_CHARS: usize = 32;

/// What the tag is computed over besides the order id: a tag of this kind is never a
/// valid tag of another use of the same key.
const CONTEXT: &[u8] = b"dropflow order status v1\n";

/// The status-link keys, newest first (`STATUS_LINK_KEYS`: `id:secret,id:secret`).
#[derive(Clone, PartialEq, Eq)]
pub struct StatusKeys {
    keys: Vec<(String, Vec<u8>)>,
}

impl std::fmt::Debug for StatusKeys {
    /// Key ids only: a secret never reaches a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.keys.iter().map(|(id, _)| id)).finish()
    }
}

impl StatusKeys {
    /// Reads `id:secret` pairs, comma-separated, newest first (a bare secret is key
    /// `k`). A key id is 1-16 letters, digits, `-` or `_`; a secret at least
    /// `MIN_SECRET_CHARS` characters; ids unique.
    pub fn parse(text: &str) -> Result<StatusKeys, String> {
        let mut keys: Vec<(String, Vec<u8>)> = Vec::new();
        for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            // A bare secret (what Secrets Manager generates for a stack) is key `k`.
            let (id, secret) = pair.split_once(':').unwrap_or(("k", pair));
            let (id, secret) = (id.trim(), secret.trim());
            if id.is_empty() || id.len() > 16 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                return Err(format!("key id {id:?} is not 1-16 letters, digits, - or _"));
            }
            if secret.chars().count() < MIN_SECRET_CHARS {
                return Err(format!("the secret of key {id} is shorter than {MIN_SECRET_CHARS} characters"));
            }
            if keys.iter().any(|(known, _)| known == id) {
                return Err(format!("key id {id} is named twice"));
            }
            keys.push((id.to_string(), secret.as_bytes().to_vec()));
        }
        if keys.is_empty() {
            return Err("no key".into());
        }
        Ok(StatusKeys { keys })
    }

    /// A fresh key from the system's randomness, named `id` (the local process's when
    /// none is configured).
    pub fn generate(id: &str) -> Result<String, String> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| format!("no randomness: {e}"))?;
        Ok(format!("{id}:{}", URL_SAFE_NO_PAD.encode(bytes)))
    }

    fn tag(secret: &[u8], order_id: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
        mac.update(CONTEXT);
        mac.update(order_id.as_bytes());
        mac
    }

    /// The token of `order_id`, under the newest key.
    pub fn token(&self, order_id: &OrderId) -> String {
        let (id, secret) = &self.keys[0];
        let tag = Self::tag(secret, order_id.as_str()).finalize().into_bytes();
        let mut bytes = format!("{id}:{}", order_id.as_str()).into_bytes();
        bytes.extend_from_slice(&tag[..TAG_BYTES]);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The order a token names, when one of the keys made it; `None` for anything else
    /// (not base64url, an unknown key, a tag that does not match), compared in constant
    /// time.
    pub fn order_of(&self, token: &str) -> Option<OrderId> {
        if token.len() > 256 {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
        let split = bytes.len().checked_sub(TAG_BYTES)?;
        let (named, tag) = bytes.split_at(split);
        let (id, order_id) = std::str::from_utf8(named).ok()?.split_once(':')?;
        let (_, secret) = self.keys.iter().find(|(known, _)| known == id)?;
        Self::tag(secret, order_id).verify_truncated_left(tag).ok()?;
        OrderId::parse(order_id).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = "k1:an-old-secret-that-is-long-enough-000";
    const NEW: &str = "k2:the-new-secret-that-is-long-enough-111";

    fn order(external: &str) -> OrderId {
        OrderId::derive("shopify", "", external)
    }

    #[test]
    fn a_token_opens_its_own_order_and_carries_nothing_personal() {
        let keys = StatusKeys::parse(NEW).unwrap();
        let token = keys.token(&order("450789469"));
        assert_eq!(keys.order_of(&token), Some(order("450789469")));
        assert!(token.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "base64url without padding: {token}");
        let decoded = String::from_utf8_lossy(&URL_SAFE_NO_PAD.decode(&token).unwrap()).to_string();
        assert!(decoded.starts_with("k2:o_"), "a key id and the order id, nothing else: {decoded}");
    }

    #[test]
    fn the_token_format_is_pinned_by_a_vector_computed_apart() {
        // Computed with Python's hmac and base64 (scripts/bench_cold_start.py does the same).
        let keys = StatusKeys::parse("k2:a-status-link-key-for-the-lambda-test-000").unwrap();
        assert_eq!(keys.token(&order("450789469")), "azI6b19iMWIyMGJmNmVmMDgwYjI5OTE3MzE0MTjdqMrfrN4lvnsbMJAdErAa");
    }

    #[test]
    fn any_byte_changed_or_another_orders_id_under_this_tag_opens_nothing() {
        let keys = StatusKeys::parse(NEW).unwrap();
        let token = keys.token(&order("450789469"));
        let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        for at in 0..bytes.len() {
            bytes[at] ^= 0x01;
            assert_eq!(keys.order_of(&URL_SAFE_NO_PAD.encode(&bytes)), None, "byte {at} changed");
            bytes[at] ^= 0x01;
        }
        // Another order's id with this order's tag.
        let other = order("450789470");
        let mut swapped = format!("k2:{}", other.as_str()).into_bytes();
        swapped.extend_from_slice(&bytes[bytes.len() - TAG_BYTES..]);
        assert_eq!(keys.order_of(&URL_SAFE_NO_PAD.encode(&swapped)), None);
        for odd in ["", "a", "====", &"A".repeat(300), &token[..token.len() - 1], &format!("{token}A")] {
            assert_eq!(keys.order_of(odd), None, "{odd}");
        }
    }

    #[test]
    fn keys_rotate_old_links_open_until_their_key_is_dropped() {
        let before = StatusKeys::parse(OLD).unwrap();
        let old_link = before.token(&order("1"));
        let rotated = StatusKeys::parse(&format!("{NEW},{OLD}")).unwrap();
        assert_eq!(rotated.order_of(&old_link), Some(order("1")), "an old link still opens");
        assert_ne!(rotated.token(&order("1")), old_link, "new links use the newest key");
        let dropped = StatusKeys::parse(NEW).unwrap();
        assert_eq!(dropped.order_of(&old_link), None);
    }

    #[test]
    fn weak_odd_or_repeated_keys_are_refused_and_secrets_never_print() {
        let generated = StatusKeys::parse("Ab3dEf7hIj2kLm4nOp6qRs8tUv0wXy1zAb3dEf7hIj2kLm4n").unwrap();
        assert_eq!(format!("{generated:?}"), r#"["k"]"#, "a bare secret, as Secrets Manager generates one, is key k");
        for bad in ["", "k1", "k1:short", "tooshort", "k 1:the-new-secret-that-is-long-enough-111", &format!("{NEW},{NEW}")] {
            assert!(StatusKeys::parse(bad).is_err(), "{bad}");
        }
        let keys = StatusKeys::parse(&format!("{NEW},{OLD}")).unwrap();
        assert_eq!(format!("{keys:?}"), r#"["k2", "k1"]"#);
        let generated = StatusKeys::generate("local").unwrap();
        assert!(StatusKeys::parse(&generated).is_ok() && generated != StatusKeys::generate("local").unwrap());
    }
}
