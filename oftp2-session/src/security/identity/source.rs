//! Where a node configuration finds its certificates and keys.
//!
//! ```text
//! identity = { format = "pkcs12", path = "ours.p12", password_env = "OFTP_P12_PASSWORD" }
//! identity = { format = "pem", certificate = "ours-with-chain.pem", key = "ours.key" }
//! partner_certificate = "partner.pem"         # PEM or DER
//! trust_anchors = ["odette-ca.pem", "oces3-root.cer"]
//! ```

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{read_file, Certificate, Identity, TrustAnchors};
use crate::security::SecurityError;

/// Where our [`Identity`] is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "format", rename_all = "kebab-case", deny_unknown_fields)]
pub enum IdentitySource {
    /// A PKCS#12 file (`.p12`, `.pfx`) with the key and the certificate chain.
    Pkcs12 {
        /// The file.
        path: PathBuf,
        /// The password, written in the configuration. Prefer `password_env`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        password: Option<String>,
        /// The name of an environment variable holding the password.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        password_env: Option<String>,
    },
    /// A certificate file (PEM with the chain after the certificate, or DER) and a key
    /// file (PEM or DER, PKCS#8 or PKCS#1, unencrypted).
    Pem {
        /// The certificate file.
        certificate: PathBuf,
        /// The private key file.
        key: PathBuf,
    },
}

impl IdentitySource {
    /// Reads the files. A PKCS#12 source needs exactly one of `password` and
    /// `password_env` (an empty password is written `password = ""`).
    pub fn load(&self) -> Result<Identity, SecurityError> {
        match self {
            Self::Pkcs12 { path, password, password_env } => {
                let password = match (password, password_env) {
                    (Some(p), None) => zeroize::Zeroizing::new(p.clone()),
                    (None, Some(var)) => {
                        zeroize::Zeroizing::new(std::env::var(var).map_err(|e| {
                            SecurityError::Key(format!(
                                "PKCS#12 {}: the password variable {var} is not usable: {e}",
                                path.display()
                            ))
                        })?)
                    }
                    _ => {
                        return Err(SecurityError::Key(format!(
                            "PKCS#12 {}: give exactly one of password and password_env",
                            path.display()
                        )));
                    }
                };
                Identity::from_pkcs12_file(path, &password)
            }
            Self::Pem { certificate, key } => Identity::from_files(certificate, key),
        }
    }
}

/// A certificate file (PEM or DER), or a PEM bundle of several.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CertificateSource {
    /// The file.
    pub path: PathBuf,
}

impl CertificateSource {
    /// A source for this file.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// Reads the file's one certificate (the first of a PEM bundle).
    pub fn load(&self) -> Result<Certificate, SecurityError> {
        Certificate::from_file(&self.path)
    }

    /// Reads every certificate in the file (one for DER).
    pub fn load_all(&self) -> Result<Vec<Certificate>, SecurityError> {
        let bytes = read_file(&self.path)?;
        Certificate::all_from_pem_or_der(&bytes).map_err(|e| super::in_file(&self.path, e))
    }

    /// Reads trust anchors from several files (each PEM bundle or DER).
    pub fn load_anchors(sources: &[CertificateSource]) -> Result<TrustAnchors, SecurityError> {
        let mut anchors = TrustAnchors::default();
        for source in sources {
            for cert in source.load_all()? {
                anchors.push(cert);
            }
        }
        Ok(anchors)
    }
}
