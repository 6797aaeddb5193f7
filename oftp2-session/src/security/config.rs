//! OFTP2 security as a node's configuration file names it: where our identity is, each
//! partner's certificate, and the trust anchors (serde). [`SecurityConfig::load`] reads
//! the files into a [`CmsSecurity`].
//!
//! ```
//! use oftp2_session::config::Config;
//! let config: Config = serde_json::from_str(r#"{
//!     "odette_id": "O0013000000000000001",
//!     "security": {
//!         "identity": { "format": "pkcs12", "path": "ours.p12", "password_env": "OFTP_P12" },
//!         "partners": { "O0013000000000000002": "partner-b.pem" },
//!         "trust_anchors": ["odette-ca.pem"]
//!     }
//! }"#)?;
//! let security = config.security.expect("configured");
//! assert_eq!(security.partners.len(), 1);
//! # Ok::<(), serde_json::Error>(())
//! ```

use std::collections::BTreeMap;

use oftp2_codec::fields::OdetteId;
use serde::{Deserialize, Serialize};

use super::identity::{CertificateSource, IdentitySource, ValidationPolicy};
use super::{CmsSecurity, SecurityError};

/// Our identity, our partners' certificates and the anchors they must chain to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityConfig {
    /// Our certificate and private key: to sign files and receipts, to decrypt files and
    /// challenges sent to us.
    pub identity: IdentitySource,
    /// Each partner's certificate, by Odette ID: to encrypt to, to verify with.
    #[serde(default)]
    pub partners: BTreeMap<OdetteId, CertificateSource>,
    /// CA certificates the partners' certificates must chain to. Empty (the default):
    /// each partner's certificate is trusted as configured (pinned), as partners who
    /// exchange certificates bilaterally do.
    #[serde(default)]
    pub trust_anchors: Vec<CertificateSource>,
    /// The smallest RSA key accepted, in bits. Default 1024 (older OFTP2 partners still
    /// hold 1024-bit keys; accepted with a warning); Odette recommends 2048.
    #[serde(default = "default_min_rsa_bits")]
    pub min_rsa_bits: usize,
    /// The zlib level files are compressed with, 0 to 9 (default 6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression_level: Option<u32>,
}

fn default_min_rsa_bits() -> usize {
    ValidationPolicy::default().min_rsa_bits
}

impl SecurityConfig {
    /// Reads every file and checks every certificate (validity now, key usage, key size,
    /// chain or pin): a configuration that cannot work fails here, not in a session.
    pub fn load(&self) -> Result<CmsSecurity, SecurityError> {
        let policy =
            ValidationPolicy { min_rsa_bits: self.min_rsa_bits, ..ValidationPolicy::default() };
        let mut builder = CmsSecurity::builder(self.identity.load()?)
            .policy(policy)
            .trust(CertificateSource::load_anchors(&self.trust_anchors)?);
        if let Some(level) = self.compression_level {
            builder = builder.compression_level(level);
        }
        for (partner, source) in &self.partners {
            builder = builder.partner(*partner, source.load()?);
        }
        builder.build()
    }
}
