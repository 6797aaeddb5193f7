//! Whether a certificate may be used (RFC 5280 §6, the parts OFTP2 needs): validity
//! period, key usage for the purpose, RSA key size, and a chain of verified signatures up
//! to a trust anchor, or the certificate pinned directly.
//!
//! Names are chained by their DER encoding (an issuer's subject must be the octets of its
//! child's issuer field), not by RFC 5280 §7.1's case-insensitive comparison; CAs encode
//! them identically in practice. Revocation (CRL, OCSP) is not checked here.

use std::time::SystemTime;

use aws_lc_rs::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use const_oid::db::rfc5912::{
    ID_CE_AUTHORITY_KEY_IDENTIFIER, ID_CE_BASIC_CONSTRAINTS, ID_CE_KEY_USAGE, ID_MGF_1,
    ID_RSASSA_PSS, ID_SHA_1, ID_SHA_256, ID_SHA_384, ID_SHA_512, SHA_1_WITH_RSA_ENCRYPTION,
    SHA_256_WITH_RSA_ENCRYPTION, SHA_384_WITH_RSA_ENCRYPTION, SHA_512_WITH_RSA_ENCRYPTION,
};
use der::asn1::ContextSpecific;
use der::{Decode, Reader, SliceReader, Tag, TagNumber, Tagged};
use spki::{AlgorithmIdentifierOwned, ObjectIdentifier};
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, BasicConstraints, KeyUsage};

use super::{der_eq, Certificate};
use crate::security::SecurityError;

/// What a certificate's key is to be used for, checked against its keyUsage extension
/// (RFC 5280 §4.2.1.3). A certificate without the extension may be used for anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPurpose {
    /// Signing files, receipts (EERP/NERP) and AUCH challenges' answers:
    /// `digitalSignature` or `nonRepudiation`.
    Signing,
    /// Encrypting files and AUCH challenges to the key (RSA key transport):
    /// `keyEncipherment`.
    Encryption,
}

/// Limits for [`TrustAnchors::validate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationPolicy {
    /// The smallest RSA modulus accepted, in bits, for the certificate and every issuer.
    /// Default 1024: older OFTP2 partners still hold 1024-bit keys (legacy, logged as a
    /// warning when accepted); 2048 is what Odette recommends and [`ValidationPolicy::strict`]
    /// requires.
    pub min_rsa_bits: usize,
    /// The most intermediate CA certificates between the certificate and its trust anchor.
    pub max_intermediates: usize,
}

impl Default for ValidationPolicy {
    fn default() -> Self {
        Self { min_rsa_bits: 1024, max_intermediates: 6 }
    }
}

impl ValidationPolicy {
    /// The default, but RSA keys of at least 2048 bits only.
    pub fn strict() -> Self {
        Self { min_rsa_bits: 2048, ..Self::default() }
    }
}

impl Certificate {
    /// The start of the validity period (notBefore).
    pub fn not_before(&self) -> SystemTime {
        self.x509().tbs_certificate.validity.not_before.to_system_time()
    }

    /// The end of the validity period (notAfter).
    pub fn not_after(&self) -> SystemTime {
        self.x509().tbs_certificate.validity.not_after.to_system_time()
    }

    /// Checks that `at` lies within the validity period (RFC 5280 §4.1.2.5, bounds
    /// included).
    pub fn check_validity_at(&self, at: SystemTime) -> Result<(), SecurityError> {
        let validity = &self.x509().tbs_certificate.validity;
        if at < self.not_before() {
            return Err(self.problem(format!("not yet valid: valid from {}", validity.not_before)));
        }
        if at > self.not_after() {
            return Err(self.problem(format!("expired: valid until {}", validity.not_after)));
        }
        Ok(())
    }

    /// The keyUsage extension, if present.
    pub fn key_usage(&self) -> Result<Option<KeyUsage>, SecurityError> {
        self.extension::<KeyUsage>(ID_CE_KEY_USAGE)
    }

    /// The basicConstraints extension, if present.
    pub fn basic_constraints(&self) -> Result<Option<BasicConstraints>, SecurityError> {
        self.extension::<BasicConstraints>(ID_CE_BASIC_CONSTRAINTS)
    }

    /// Checks the keyUsage extension allows `purpose` (absent extension: any use).
    pub fn check_key_usage(&self, purpose: KeyPurpose) -> Result<(), SecurityError> {
        let Some(usage) = self.key_usage()? else { return Ok(()) };
        let allowed = match purpose {
            KeyPurpose::Signing => usage.digital_signature() || usage.non_repudiation(),
            KeyPurpose::Encryption => usage.key_encipherment(),
        };
        if allowed {
            Ok(())
        } else {
            let wanted = match purpose {
                KeyPurpose::Signing => "digitalSignature or nonRepudiation (to sign)",
                KeyPurpose::Encryption => "keyEncipherment (to encrypt to it)",
            };
            Err(self.problem(format!("keyUsage {} lacks {wanted}", describe(&usage))))
        }
    }

    /// Checks the key is RSA with a modulus of at least `min_bits`.
    pub fn check_rsa_key(&self, min_bits: usize) -> Result<(), SecurityError> {
        let bits = self
            .rsa_public()
            .map_err(|e| match e {
                e @ SecurityError::Certificate { .. } => e,
                other => self.problem(format!("the RSA public key is malformed: {other}")),
            })?
            .bits();
        if bits < min_bits {
            return Err(self.problem(format!(
                "the RSA key has {bits} bits, fewer than the {min_bits} required"
            )));
        }
        if bits < 2048 {
            tracing::warn!(subject = %self.subject(), bits, "accepting a legacy RSA key shorter than 2048 bits");
        }
        Ok(())
    }

    /// Whether issuer and subject are the same name (a self-issued certificate, RFC 5280
    /// §3.2; self-signed ones are among them).
    pub fn is_self_issued(&self) -> bool {
        der_eq(&self.x509().tbs_certificate.issuer, &self.x509().tbs_certificate.subject)
    }

    /// Verifies this certificate's signature with `issuer`'s public key
    /// (sha1/sha256/sha384/sha512WithRSAEncryption, or RSASSA-PSS with SHA-256/384/512,
    /// MGF1 with the same hash and a salt as long as the hash, as OCES3 certificates use).
    /// Names are not compared here.
    pub fn verify_signed_by(&self, issuer: &Certificate) -> Result<(), SecurityError> {
        let cert = self.x509();
        if !der_eq(&cert.signature_algorithm, &cert.tbs_certificate.signature) {
            return Err(self
                .problem("signatureAlgorithm differs from the signature field of tbsCertificate"));
        }
        let algorithm =
            verification_algorithm(&cert.signature_algorithm).map_err(|e| self.problem(e))?;
        let signature = cert
            .signature
            .as_bytes()
            .ok_or_else(|| self.problem("the signature BIT STRING has unused bits"))?;
        let tbs = tbs_certificate_der(self.der())
            .map_err(|e| self.problem(format!("cannot locate tbsCertificate: {e}")))?;
        UnparsedPublicKey::new(algorithm, issuer.public_key_octets())
            .verify(tbs, signature)
            .map_err(|_| {
                self.problem(format!(
                    "the signature does not verify with the key of {}",
                    issuer.subject()
                ))
            })
    }
}

/// Trust anchors for partner certificates: CA certificates, or partners' own certificates
/// pinned directly.
#[derive(Debug, Clone, Default)]
pub struct TrustAnchors {
    anchors: Vec<Certificate>,
}

impl TrustAnchors {
    /// Trusts these certificates.
    pub fn new(anchors: Vec<Certificate>) -> Self {
        Self { anchors }
    }

    /// Trusts exactly one certificate: the partner's own, exchanged bilaterally (often
    /// self-signed).
    pub fn pinned(partner: Certificate) -> Self {
        Self { anchors: vec![partner] }
    }

    /// Adds a trust anchor.
    pub fn push(&mut self, anchor: Certificate) {
        self.anchors.push(anchor);
    }

    /// The trust anchors.
    pub fn certificates(&self) -> &[Certificate] {
        &self.anchors
    }

    /// Checks that `certificate` may be used for `purpose` at time `at`: within its
    /// validity period, keyUsage allowing the purpose, an RSA key of at least
    /// [`ValidationPolicy::min_rsa_bits`], and either itself a trust anchor (pinned) or
    /// linked by verified signatures, through `intermediates` (CA certificates:
    /// basicConstraints cA, keyCertSign if keyUsage is present, pathLenConstraint, each
    /// valid at `at`), to a trust anchor whose subject is the last issuer name.
    ///
    /// Returns the path: the certificate first, the trust anchor last (one element when
    /// pinned).
    pub fn validate(
        &self,
        certificate: &Certificate,
        intermediates: &[Certificate],
        purpose: KeyPurpose,
        at: SystemTime,
        policy: &ValidationPolicy,
    ) -> Result<Vec<Certificate>, SecurityError> {
        certificate.check_validity_at(at)?;
        certificate.check_key_usage(purpose)?;
        certificate.check_rsa_key(policy.min_rsa_bits)?;
        if self.anchors.contains(certificate) {
            return Ok(vec![certificate.clone()]);
        }
        let mut path = vec![certificate.clone()];
        let mut last_problem = None;
        if self.extend(&mut path, intermediates, at, policy, &mut last_problem) {
            return Ok(path);
        }
        let problem = match last_problem {
            Some(problem) => format!("no valid chain to a trust anchor: {problem}"),
            None if certificate.is_self_issued() => {
                "self-signed and not a trust anchor (configure it as the partner's certificate to pin it)"
                    .to_string()
            }
            None => format!(
                "no chain to a trust anchor: its issuer {} is neither among the {} trust anchors nor among the {} intermediate certificates",
                certificate.issuer(),
                self.anchors.len(),
                intermediates.len()
            ),
        };
        Err(certificate.problem(problem))
    }

    /// Depth-first search for an issuer of the path's last certificate: a trust anchor
    /// ends the path, an intermediate extends it.
    fn extend(
        &self,
        path: &mut Vec<Certificate>,
        intermediates: &[Certificate],
        at: SystemTime,
        policy: &ValidationPolicy,
        problem: &mut Option<String>,
    ) -> bool {
        let Some(current) = path.last().cloned() else { return false };
        // Every certificate after the first in the path is an intermediate.
        let below = path.len().saturating_sub(1);
        for anchor in self.anchors.iter().filter(|a| may_have_issued(a, &current)) {
            match check_issuer(anchor, &current, true, below, at, policy) {
                Ok(()) => {
                    path.push(anchor.clone());
                    return true;
                }
                Err(p) => *problem = Some(p),
            }
        }
        if below >= policy.max_intermediates {
            *problem = Some(format!(
                "the chain would be longer than {} intermediate certificates",
                policy.max_intermediates
            ));
            return false;
        }
        for issuer in intermediates.iter().filter(|c| may_have_issued(c, &current)) {
            if path.contains(issuer) {
                continue;
            }
            match check_issuer(issuer, &current, false, below, at, policy) {
                Ok(()) => {
                    path.push(issuer.clone());
                    if self.extend(path, intermediates, at, policy, problem) {
                        return true;
                    }
                    path.pop();
                }
                Err(p) => *problem = Some(p),
            }
        }
        false
    }
}

/// Whether `issuer`'s subject is `subject`'s issuer name and, where both key identifiers
/// are present, the authorityKeyIdentifier names `issuer`'s subjectKeyIdentifier.
fn may_have_issued(issuer: &Certificate, subject: &Certificate) -> bool {
    if !der_eq(&issuer.x509().tbs_certificate.subject, &subject.x509().tbs_certificate.issuer) {
        return false;
    }
    let aki = subject
        .extension::<AuthorityKeyIdentifier>(ID_CE_AUTHORITY_KEY_IDENTIFIER)
        .ok()
        .flatten()
        .and_then(|aki| aki.key_identifier);
    match (aki, issuer.subject_key_identifier()) {
        (Some(aki), Some(ski)) => aki == ski.0,
        _ => true,
    }
}

/// Checks that `issuer` may issue `subject` (with `below` intermediate certificates between
/// the path's first certificate and `issuer`): valid at `at`, a large enough RSA key, a CA
/// whose pathLenConstraint allows `below`, keyCertSign if keyUsage is present; and that
/// `subject`'s signature verifies with its key.
fn check_issuer(
    issuer: &Certificate,
    subject: &Certificate,
    is_anchor: bool,
    below: usize,
    at: SystemTime,
    policy: &ValidationPolicy,
) -> Result<(), String> {
    let name = issuer.subject();
    let text = |e: SecurityError| match e {
        SecurityError::Certificate { subject, problem } => format!("{subject}: {problem}"),
        other => format!("{name}: {other}"),
    };
    issuer.check_validity_at(at).map_err(text)?;
    issuer.check_rsa_key(policy.min_rsa_bits).map_err(text)?;
    match issuer.basic_constraints().map_err(text)? {
        Some(bc) if !bc.ca => {
            return Err(format!("{name}: not a CA (basicConstraints cA is false)"));
        }
        Some(bc) => {
            if let Some(len) = bc.path_len_constraint {
                if below > usize::from(len) {
                    return Err(format!(
                        "{name}: pathLenConstraint {len} allows fewer than the {below} intermediate certificates below it"
                    ));
                }
            }
        }
        // A version 1 trust anchor carries no extensions; an intermediate must say it is
        // a CA.
        None if is_anchor => {}
        None => return Err(format!("{name}: not a CA (no basicConstraints extension)")),
    }
    if let Some(usage) = issuer.key_usage().map_err(text)? {
        if !usage.key_cert_sign() {
            return Err(format!("{name}: keyUsage {} lacks keyCertSign", describe(&usage)));
        }
    }
    subject.verify_signed_by(issuer).map_err(text)
}

/// The verification algorithm for a certificate's signatureAlgorithm.
fn verification_algorithm(
    algorithm: &AlgorithmIdentifierOwned,
) -> Result<&'static dyn VerificationAlgorithm, String> {
    let oid = algorithm.oid;
    Ok(if oid == SHA_1_WITH_RSA_ENCRYPTION {
        &signature::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY
    } else if oid == SHA_256_WITH_RSA_ENCRYPTION {
        &signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY
    } else if oid == SHA_384_WITH_RSA_ENCRYPTION {
        &signature::RSA_PKCS1_2048_8192_SHA384
    } else if oid == SHA_512_WITH_RSA_ENCRYPTION {
        &signature::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY
    } else if oid == ID_RSASSA_PSS {
        let hash = pss_hash(algorithm)?;
        if hash == ID_SHA_256 {
            &signature::RSA_PSS_2048_8192_SHA256
        } else if hash == ID_SHA_384 {
            &signature::RSA_PSS_2048_8192_SHA384
        } else {
            &signature::RSA_PSS_2048_8192_SHA512
        }
    } else {
        return Err(format!("unsupported signature algorithm {oid}"));
    })
}

/// The hash of RSASSA-PSS-params (RFC 4055 §3.1), accepted only as the verifier can check
/// it: SHA-256/384/512, MGF1 with the same hash, salt length equal to the hash length,
/// trailerField 1.
fn pss_hash(algorithm: &AlgorithmIdentifierOwned) -> Result<ObjectIdentifier, String> {
    let params = algorithm
        .parameters
        .as_ref()
        .ok_or("RSASSA-PSS without parameters (SHA-1 defaults) is not supported")?;
    if params.tag() != Tag::Sequence {
        return Err(format!("RSASSA-PSS parameters are a {}, not a SEQUENCE", params.tag()));
    }
    let parse =
        || -> der::Result<(ObjectIdentifier, Option<AlgorithmIdentifierOwned>, u32, u32)> {
            let mut r = SliceReader::new(params.value())?;
            let hash = ContextSpecific::<AlgorithmIdentifierOwned>::decode_explicit(
                &mut r,
                TagNumber::N0,
            )?
            .map_or(ID_SHA_1, |h| h.value.oid);
            let mgf = ContextSpecific::<AlgorithmIdentifierOwned>::decode_explicit(
                &mut r,
                TagNumber::N1,
            )?
            .map(|m| m.value);
            let salt = ContextSpecific::<u32>::decode_explicit(&mut r, TagNumber::N2)?
                .map_or(20, |s| s.value);
            let trailer = ContextSpecific::<u32>::decode_explicit(&mut r, TagNumber::N3)?
                .map_or(1, |t| t.value);
            r.finish((hash, mgf, salt, trailer))
        };
    let (hash, mgf, salt, trailer) =
        parse().map_err(|e| format!("malformed RSASSA-PSS parameters: {e}"))?;
    let hash_len = if hash == ID_SHA_256 {
        32
    } else if hash == ID_SHA_384 {
        48
    } else if hash == ID_SHA_512 {
        64
    } else {
        return Err(format!("RSASSA-PSS with hash {hash} is not supported"));
    };
    let mgf_hash = match mgf {
        Some(mgf) if mgf.oid == ID_MGF_1 => mgf
            .parameters
            .as_ref()
            .and_then(|p| AlgorithmIdentifierOwned::from_der(&der::Encode::to_der(p).ok()?).ok())
            .map(|h| h.oid),
        Some(mgf) => {
            return Err(format!("RSASSA-PSS with mask generation {} is not supported", mgf.oid))
        }
        None => Some(ID_SHA_1),
    };
    if mgf_hash != Some(hash) {
        return Err(
            "RSASSA-PSS whose MGF1 hash differs from the message hash is not supported".into()
        );
    }
    if salt != hash_len {
        return Err(format!(
            "RSASSA-PSS with a {salt}-octet salt (not the hash length {hash_len}) is not supported"
        ));
    }
    if trailer != 1 {
        return Err(format!("RSASSA-PSS trailerField {trailer} is not 1"));
    }
    Ok(hash)
}

/// The DER of tbsCertificate exactly as it came (the signed octets; re-encoding the parsed
/// form could differ from what the issuer signed).
fn tbs_certificate_der(cert_der: &[u8]) -> der::Result<&[u8]> {
    let mut r = SliceReader::new(cert_der)?;
    let tbs = r.sequence(|r| {
        let tbs = r.tlv_bytes()?;
        let rest = r.remaining_len();
        r.read_slice(rest)?;
        Ok(tbs)
    })?;
    r.finish(tbs)
}

/// keyUsage bits in RFC 5280 names.
fn describe(usage: &KeyUsage) -> String {
    let names = [
        (usage.digital_signature(), "digitalSignature"),
        (usage.non_repudiation(), "nonRepudiation"),
        (usage.key_encipherment(), "keyEncipherment"),
        (usage.data_encipherment(), "dataEncipherment"),
        (usage.key_agreement(), "keyAgreement"),
        (usage.key_cert_sign(), "keyCertSign"),
        (usage.crl_sign(), "cRLSign"),
        (usage.encipher_only(), "encipherOnly"),
        (usage.decipher_only(), "decipherOnly"),
    ];
    let set: Vec<&str> = names.iter().filter(|(on, _)| *on).map(|(_, n)| *n).collect();
    format!("({})", set.join(", "))
}
