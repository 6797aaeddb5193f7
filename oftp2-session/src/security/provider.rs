//! [`CmsSecurity`]: OFTP2 security with CMS as the store and the driver use it
//! ([`FileSecurity`]), and the secure authentication of §4.2.3 as the engine uses it
//! ([`SecureAuthentication`]).
//!
//! It holds our [`Identity`] (to sign and to decrypt) and each partner's certificate (to
//! encrypt to and to verify), checked when they are added.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::SystemTime;

use oftp2_codec::command::Sfid;
use oftp2_codec::fields::{CipherSuite, OdetteId};

use super::identity::{Certificate, Identity, KeyPurpose, TrustAnchors, ValidationPolicy};
use super::suite::Suite;
use super::{challenge, digest, pipeline, receipt, SecurityError};
use crate::config::Partner;
use crate::engine::SecureAuthentication;
use crate::protection::{FileSecurity, FileServices, ProtectionError, ReceiptCheck};
use crate::store::Receipt;

/// OFTP2 security with CMS for one node: our identity and our partners' certificates.
///
/// Put it in the store's options ([`StoreOptions::security`](crate::store::StoreOptions))
/// and every session of the node uses it: queued files are secured as they ask, received
/// ones unwrapped and verified before delivery, receipts signed and checked, and partners
/// with `secure_authentication` authenticated with AUCH/AURP.
#[derive(Clone)]
pub struct CmsSecurity {
    shared: Arc<Shared>,
}

struct Shared {
    own: Identity,
    partners: HashMap<OdetteId, Certificate>,
    options: pipeline::ProtectOptions,
}

impl std::fmt::Debug for CmsSecurity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CmsSecurity")
            .field("own", &self.shared.own.certificate.subject())
            .field("partners", &self.shared.partners.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Builds a [`CmsSecurity`]: our identity, then each partner's certificate.
#[derive(Debug)]
pub struct CmsSecurityBuilder {
    own: Identity,
    partners: HashMap<OdetteId, Certificate>,
    anchors: TrustAnchors,
    policy: ValidationPolicy,
    at: SystemTime,
    options: pipeline::ProtectOptions,
}

impl CmsSecurity {
    /// Starts with our identity. Its certificate must be valid now and allow both signing
    /// and key encipherment (checked by [`CmsSecurityBuilder::build`]).
    pub fn builder(own: Identity) -> CmsSecurityBuilder {
        CmsSecurityBuilder {
            own,
            partners: HashMap::new(),
            anchors: TrustAnchors::default(),
            policy: ValidationPolicy::default(),
            at: SystemTime::now(),
            options: pipeline::ProtectOptions::default(),
        }
    }

    /// Our identity.
    pub fn identity(&self) -> &Identity {
        &self.shared.own
    }

    /// The certificate configured for `partner`.
    pub fn partner_certificate(&self, partner: &OdetteId) -> Option<&Certificate> {
        self.shared.partners.get(partner)
    }

    fn certificate_of(&self, partner: &OdetteId) -> Result<&Certificate, ProtectionError> {
        self.partner_certificate(partner).ok_or_else(|| {
            ProtectionError::local(format!("no certificate is configured for partner {partner}"))
        })
    }

    /// A secure authentication for sessions of this node (§4.2.3).
    pub fn authenticator(&self) -> CmsAuthenticator {
        CmsAuthenticator { security: self.clone() }
    }
}

impl CmsSecurityBuilder {
    /// Trusts these anchors for partner certificates that are not themselves pinned.
    pub fn trust(mut self, anchors: TrustAnchors) -> Self {
        self.anchors = anchors;
        self
    }

    /// Validates with this policy (RSA key size, chain length).
    pub fn policy(mut self, policy: ValidationPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The zlib level files are compressed with, 0 to 9 (default 6; on EDI text 1 is 2.8
    /// times as fast for 1.5 times the octets, see
    /// [`ProtectOptions`](super::pipeline::ProtectOptions)).
    pub fn compression_level(mut self, level: u32) -> Self {
        self.options.compression_level = level.min(9);
        self
    }

    /// Validates certificates at this time rather than now (for tests and audits).
    pub fn at(mut self, at: SystemTime) -> Self {
        self.at = at;
        self
    }

    /// The certificate of `partner`, to encrypt to and to verify with. With trust anchors
    /// ([`CmsSecurityBuilder::trust`]) it must chain to one of them; without, the
    /// certificate is pinned as it is (the usual bilateral exchange of certificates).
    pub fn partner(mut self, partner: OdetteId, certificate: Certificate) -> Self {
        self.partners.insert(partner, certificate);
        self
    }

    /// Checks every certificate (validity period, key usage for signing and for key
    /// encipherment, RSA key size, chain or pin) and builds.
    pub fn build(self) -> Result<CmsSecurity, SecurityError> {
        let own = &self.own.certificate;
        for purpose in [KeyPurpose::Signing, KeyPurpose::Encryption] {
            own.check_validity_at(self.at)?;
            own.check_key_usage(purpose)?;
        }
        own.check_rsa_key(self.policy.min_rsa_bits)?;
        for certificate in self.partners.values() {
            // Without trust anchors, the configured certificate is itself the anchor.
            let anchors = if self.anchors.certificates().is_empty() {
                TrustAnchors::pinned(certificate.clone())
            } else {
                self.anchors.clone()
            };
            for purpose in [KeyPurpose::Signing, KeyPurpose::Encryption] {
                anchors.validate(certificate, &[], purpose, self.at, &self.policy)?;
            }
        }
        Ok(CmsSecurity {
            shared: Arc::new(Shared {
                own: self.own,
                partners: self.partners,
                options: self.options,
            }),
        })
    }
}

/// The suite's algorithms, or SFNA/EFNA 15's complaint.
fn suite(code: CipherSuite) -> Result<Suite, ProtectionError> {
    Suite::from_code(code).map_err(|e| ProtectionError {
        efna: oftp2_codec::reason::EfnaReason::CIPHER_SUITE_NOT_SUPPORTED,
        nerp: oftp2_codec::reason::NerpReason::FILE_PROCESSING_FAILED,
        message: e.to_string(),
    })
}

/// A security error as the peer hears of it.
fn refused(error: SecurityError) -> ProtectionError {
    ProtectionError {
        efna: error.efna_reason(),
        nerp: error.nerp_reason(),
        message: error.to_string(),
    }
}

impl FileSecurity for CmsSecurity {
    fn protect(
        &self,
        partner: &OdetteId,
        services: &FileServices,
        original: &mut dyn Read,
        transmitted: &mut dyn Write,
    ) -> Result<Vec<u8>, ProtectionError> {
        let certificate = self.certificate_of(partner)?;
        let protected = pipeline::protect_with(
            original,
            transmitted,
            *services,
            &self.shared.own,
            certificate,
            &self.shared.options,
        )
        .map_err(refused)?;
        Ok(protected.transmitted_hash)
    }

    fn unprotect(
        &self,
        partner: &OdetteId,
        sfid: &Sfid,
        transmitted: &mut dyn Read,
        original: &mut dyn Write,
    ) -> Result<Vec<u8>, ProtectionError> {
        let certificate = self.certificate_of(partner)?;
        let services = FileServices::of(sfid);
        let unprotected =
            pipeline::unprotect(transmitted, original, services, &self.shared.own, certificate)
                .map_err(refused)?;
        Ok(unprotected.transmitted_hash)
    }

    fn digest(
        &self,
        suite_code: CipherSuite,
        transmitted: &mut dyn Read,
    ) -> Result<Vec<u8>, ProtectionError> {
        let suite = suite(suite_code)?;
        let mut reader = digest::DigestReader::new(transmitted, suite.digest);
        std::io::copy(&mut reader, &mut std::io::sink())
            .map_err(|e| ProtectionError::local(format!("reading the file to hash: {e}")))?;
        Ok(reader.finish().1)
    }

    fn sign_receipt(
        &self,
        _partner: &OdetteId,
        suite_code: CipherSuite,
        receipt: &mut Receipt,
        transmitted_hash: &[u8],
    ) -> Result<(), ProtectionError> {
        let suite = suite(suite_code)?;
        let own = &self.shared.own;
        match receipt {
            Receipt::Eerp(eerp) => receipt::sign_eerp(eerp, transmitted_hash, own, suite),
            Receipt::Nerp(nerp) => receipt::sign_nerp(nerp, transmitted_hash, own, suite),
        }
        .map_err(|e| ProtectionError::local(format!("cannot sign the receipt: {e}")))
    }

    fn check_receipt(
        &self,
        partner: &OdetteId,
        suite_code: CipherSuite,
        receipt: &Receipt,
        expected_hash: Option<&[u8]>,
    ) -> ReceiptCheck {
        let (signature, hash) = match receipt {
            Receipt::Eerp(eerp) => (&eerp.signature, &eerp.hash),
            Receipt::Nerp(nerp) => (&nerp.signature, &nerp.hash),
        };
        if signature.is_empty() {
            return ReceiptCheck::Unsigned;
        }
        let Ok(certificate) = self.certificate_of(partner) else {
            return ReceiptCheck::Invalid(format!("no certificate is configured for {partner}"));
        };
        // The suite of the file it answers; for a file we do not know, the digest its
        // hash's length implies.
        let suite = Suite::from_code(suite_code)
            .ok()
            .or_else(|| Suite::all().into_iter().find(|s| s.digest.output_len() == hash.len()));
        let Some(suite) = suite else {
            return ReceiptCheck::Invalid(format!(
                "no cipher suite known for the receipt (hash of {} octets)",
                hash.len()
            ));
        };
        let verified = match receipt {
            Receipt::Eerp(eerp) => receipt::verify_eerp(eerp, certificate, suite, expected_hash),
            Receipt::Nerp(nerp) => receipt::verify_nerp(nerp, certificate, suite, expected_hash),
        };
        match verified {
            Ok(_) => ReceiptCheck::Verified,
            Err(error) => ReceiptCheck::Invalid(error.to_string()),
        }
    }

    fn authenticator(&self) -> Option<Box<dyn SecureAuthentication>> {
        Some(Box::new(self.authenticator()))
    }
}

/// The AUCH/AURP cryptography of §4.2.3 for the engine: challenges encrypted to the
/// partner's certificate, answers decrypted with our key without ever telling why one
/// could not be (see [`challenge`]).
#[derive(Debug, Clone)]
pub struct CmsAuthenticator {
    security: CmsSecurity,
}

impl CmsAuthenticator {
    /// The suite for a challenge to `partner`: the strongest the partner may use (AES
    /// before 3DES, then the larger hash), 04 if the partner's list is empty.
    fn suite_for(partner: &Partner) -> CipherSuite {
        let allowed = &partner.file_security.cipher_suites;
        let rank = |s: &CipherSuite| match Suite::from_code(*s) {
            Ok(suite) => (suite.content_encryption.key_len(), suite.digest.output_len()),
            Err(_) => (0, 0),
        };
        allowed
            .iter()
            .copied()
            .filter(|s| Suite::from_code(*s).is_ok())
            .max_by_key(rank)
            .unwrap_or(CipherSuite::AES256_RSA_SHA256)
    }
}

impl SecureAuthentication for CmsAuthenticator {
    fn challenge(&mut self, partner: &Partner) -> Result<(Vec<u8>, [u8; 20]), String> {
        let certificate =
            self.security.certificate_of(&partner.odette_id).map_err(|e| e.message)?;
        challenge::Challenge::new(certificate, Self::suite_for(partner)).map_err(|e| e.to_string())
    }

    fn answer(&mut self, _partner: &Partner, auchchal: &[u8]) -> [u8; 20] {
        challenge::answer(&self.security.shared.own, auchchal)
    }
}
