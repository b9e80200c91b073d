//! Sealing on AWS KMS: `Encrypt` and `Decrypt` under the stack's key, with the vendor
//! in the encryption context, so that a vendor's sealed credentials open only for that
//! vendor (and CloudTrail names whose they were).

use crate::ports::{SealError, Sealer};
use async_trait::async_trait;
use aws_sdk_kms::Client;
use aws_sdk_kms::error::SdkError;
use aws_sdk_kms::primitives::Blob;
use base64::Engine;

/// The encryption context's one key.
const CONTEXT_KEY: &str = "vendor_id";

/// KMS through the SDK client, under one key (id, ARN or alias). The client is built on
/// first use: most invocations of the functions that hold a sealer (vendor-api above
/// all) never open credentials, and a client built at start costs every cold start.
pub struct KmsSealer {
    client: super::LazyClient<Client>,
    key_id: String,
}

impl KmsSealer {
    pub fn new(sdk: &aws_config::SdkConfig, key_id: &str) -> Self {
        KmsSealer { client: super::LazyClient::new(sdk, Client::new), key_id: key_id.to_string() }
    }

    fn client(&self) -> &Client {
        self.client.get()
    }
}

/// A KMS error as the port's: KMS refusing the ciphertext or its context is a refusal,
/// anything else unavailability.
fn failed<E: std::error::Error + 'static>(error: SdkError<E>) -> SealError {
    match &error {
        SdkError::ServiceError(service) => {
            let text = super::describe(service.err());
            if text.contains("InvalidCiphertext") || text.contains("IncorrectKey") || text.contains("AccessDenied") {
                SealError::Refused(text)
            } else {
                SealError::Unavailable(text)
            }
        }
        _ => SealError::Unavailable(super::describe(&error)),
    }
}

#[async_trait]
impl Sealer for KmsSealer {
    async fn seal(&self, context: &str, plain: &[u8]) -> Result<String, SealError> {
        let output =
            self.client().encrypt().key_id(&self.key_id).plaintext(Blob::new(plain)).encryption_context(CONTEXT_KEY, context).send().await.map_err(failed)?;
        let blob = output.ciphertext_blob().ok_or_else(|| SealError::Unavailable("KMS returned no ciphertext".into()))?;
        Ok(format!("kms:{}", base64::engine::general_purpose::STANDARD.encode(blob.as_ref())))
    }

    async fn open(&self, context: &str, sealed: &str) -> Result<Vec<u8>, SealError> {
        let bytes = sealed
            .strip_prefix("kms:")
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .ok_or_else(|| SealError::Refused("not sealed by KMS".into()))?;
        let output = self
            .client()
            .decrypt()
            .key_id(&self.key_id)
            .ciphertext_blob(Blob::new(bytes))
            .encryption_context(CONTEXT_KEY, context)
            .send()
            .await
            .map_err(failed)?;
        Ok(output.plaintext().map(|p| p.as_ref().to_vec()).ok_or_else(|| SealError::Unavailable("KMS returned no plaintext".into()))?)
    }
}
