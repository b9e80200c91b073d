//! The opaque page cursor both item stores hand out: the last item's (index sort key,
//! pk, sk), as base64url JSON, so that a cursor means the same on either backend.

use crate::ports::StoreError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The cursor that resumes after the item with these keys.
pub(crate) fn encode(sort: &str, pk: &str, sk: &str) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::json!([sort, pk, sk]).to_string())
}

/// The (index sort key, pk, sk) a cursor resumes after; `BadCursor` for anything else.
pub(crate) fn decode(cursor: &str) -> Result<(String, String, String), StoreError> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| StoreError::BadCursor)?;
    serde_json::from_slice(&bytes).map_err(|_| StoreError::BadCursor)
}
