//! Whether an incoming file's security fields (SFIDSEC, SFIDCIPH, SFIDCOMP, SFIDSIGN;
//! RFC 5024 §5.3.3) fit the partner's [`FileSecurityPolicy`], and the SFNA reason (15 to
//! 20, §5.3.5) when they do not. A pure decision: no I/O, no cryptography.
//!
//! The checks, in this order (the first that fails decides):
//!
//! 1. SFIDCIPH is `00` or a suite this crate knows (`01`-`06`), else 15;
//! 2. a service that needs a suite (encryption, signing, a signed EERP request) comes with
//!    one, else 15; and a suite comes with a service (those, or compression), else 15;
//! 3. encryption against [`FileSecurityPolicy::encryption`]: 17 (unencrypted not allowed)
//!    or 16 (encrypted not allowed);
//! 4. signing against [`FileSecurityPolicy::signing`]: 20 (unsigned not allowed) or 19
//!    (signed not allowed);
//! 5. compression against [`FileSecurityPolicy::compression`]: 18 (compression not
//!    allowed), or 99 when compression is required (RFC 5024 has no reason for that);
//! 6. a signed EERP request against [`FileSecurityPolicy::signed_eerp_requests`]: 15;
//! 7. the suite against [`FileSecurityPolicy::cipher_suites`]: 15.
//!
//! SFIDENV is not checked: a file with SFIDENV `1` and no other service is an enveloped
//! file for the exchange of certificates (§10.4), and every file with a service travels
//! as U whatever SFIDENV says ([`super::is_secured`]).

use oftp2_codec::command::Sfid;
use oftp2_codec::fields::CipherSuite;
use oftp2_codec::reason::SfnaReason;

use crate::config::{FileSecurityPolicy, ServicePolicy};
use crate::protection::FileServices;

/// Why an incoming file is refused: the SFNA reason (sent with retry `N`) and a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSecurityRefusal {
    /// SFNAREAS: 15 to 20, or 99 for a compression the policy requires.
    pub reason: SfnaReason,
    /// SFNAREAST: what did not fit, in words.
    pub text: String,
}

fn refuse(reason: SfnaReason, text: impl Into<String>) -> Result<(), FileSecurityRefusal> {
    Err(FileSecurityRefusal { reason, text: text.into() })
}

/// Checks an incoming file's SFID against the partner's policy (module docs give the
/// order of the checks).
pub fn check_file_security(
    policy: &FileSecurityPolicy,
    sfid: &Sfid,
) -> Result<(), FileSecurityRefusal> {
    let FileServices {
        signed,
        compressed,
        encrypted,
        cipher_suite: suite,
        signed_receipt: signed_eerp,
    } = FileServices::of(sfid);
    let suite_given = suite != CipherSuite::NONE;

    if !suite.is_known() {
        return refuse(
            SfnaReason::CIPHER_SUITE_NOT_SUPPORTED,
            format!("cipher suite {:02} is not supported", suite.value()),
        );
    }
    if !suite_given && (encrypted || signed || signed_eerp) {
        let service = if encrypted {
            "encrypted"
        } else if signed {
            "signed"
        } else {
            "with a signed EERP requested"
        };
        return refuse(
            SfnaReason::CIPHER_SUITE_NOT_SUPPORTED,
            format!("file {service} but SFIDCIPH is 00"),
        );
    }
    if suite_given && !(encrypted || signed || compressed || signed_eerp) {
        return refuse(
            SfnaReason::CIPHER_SUITE_NOT_SUPPORTED,
            format!("SFIDCIPH {:02} without any security service", suite.value()),
        );
    }
    service(
        policy.encryption,
        encrypted,
        (SfnaReason::UNENCRYPTED_FILE_NOT_ALLOWED, "files must be encrypted"),
        (SfnaReason::ENCRYPTED_FILE_NOT_ALLOWED, "encrypted files are refused"),
    )?;
    service(
        policy.signing,
        signed,
        (SfnaReason::UNSIGNED_FILE_NOT_ALLOWED, "files must be signed"),
        (SfnaReason::SIGNED_FILE_NOT_ALLOWED, "signed files are refused"),
    )?;
    service(
        policy.compression,
        compressed,
        (SfnaReason::UNSPECIFIED, "files must be compressed (SFIDCOMP 1)"),
        (SfnaReason::COMPRESSION_NOT_ALLOWED, "compressed files are refused"),
    )?;
    if signed_eerp && !policy.signed_eerp_requests {
        return refuse(
            SfnaReason::CIPHER_SUITE_NOT_SUPPORTED,
            "signed EERPs (SFIDSIGN Y) are not offered to this partner",
        );
    }
    if suite_given && !policy.cipher_suites.contains(&suite) {
        return refuse(
            SfnaReason::CIPHER_SUITE_NOT_SUPPORTED,
            format!("cipher suite {:02} is not allowed for this partner", suite.value()),
        );
    }
    Ok(())
}

/// A service a file uses or not, against its policy: the refusal `missing` when it is
/// required and not used, `present` when it is refused and used.
fn service(
    policy: ServicePolicy,
    used: bool,
    missing: (SfnaReason, &str),
    present: (SfnaReason, &str),
) -> Result<(), FileSecurityRefusal> {
    match (policy, used) {
        (ServicePolicy::Required, false) => refuse(missing.0, missing.1),
        (ServicePolicy::Refused, true) => refuse(present.0, present.1),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use oftp2_codec::fields::{FileCompression, FileEnveloping, SecurityLevel};

    use super::*;

    fn sfid(level: SecurityLevel, suite: u8, compressed: bool, signed_eerp: bool) -> Sfid {
        Sfid {
            dataset_name: "POLICY".parse().unwrap(),
            date: oftp2_codec::fields::VirtualFileDate::new(2026, 11, 23).unwrap(),
            time: oftp2_codec::fields::VirtualFileTime::new(17, 0, 0, 1).unwrap(),
            user_data: oftp2_codec::fields::UserData::EMPTY,
            destination: "O0013000000000000001".parse().unwrap(),
            originator: "O0013000000000000002".parse().unwrap(),
            format: oftp2_codec::fields::RecordFormat::Unstructured,
            max_record_length: oftp2_codec::fields::RecordLength::new(0).unwrap(),
            file_size: oftp2_codec::fields::FileSize::new(1).unwrap(),
            original_file_size: oftp2_codec::fields::FileSize::new(1).unwrap(),
            restart_position: oftp2_codec::fields::RestartPosition::ZERO,
            security_level: level,
            cipher_suite: CipherSuite::new(suite).unwrap(),
            compression: if compressed { FileCompression::Zlib } else { FileCompression::None },
            enveloping: if level != SecurityLevel::None || compressed {
                FileEnveloping::Cms
            } else {
                FileEnveloping::None
            },
            signed_eerp_request: signed_eerp,
            description: oftp2_codec::fields::Utf8Text::empty(),
        }
    }

    fn reason(policy: &FileSecurityPolicy, sfid: &Sfid) -> Option<u8> {
        check_file_security(policy, sfid).err().map(|r| r.reason.value())
    }

    const NONE: SecurityLevel = SecurityLevel::None;
    const ENC: SecurityLevel = SecurityLevel::Encrypted;
    const SIG: SecurityLevel = SecurityLevel::Signed;
    const BOTH: SecurityLevel = SecurityLevel::EncryptedAndSigned;

    #[test]
    fn the_default_policy_accepts_every_consistent_file() {
        let policy = FileSecurityPolicy::default();
        assert_eq!(reason(&policy, &sfid(NONE, 0, false, false)), None);
        for suite in 1..=6 {
            for level in [ENC, SIG, BOTH] {
                for compressed in [false, true] {
                    for eerp in [false, true] {
                        let file = sfid(level, suite, compressed, eerp);
                        assert_eq!(reason(&policy, &file), None, "{file:?}");
                    }
                }
            }
            // A suite for the signed EERP only, and a suite with compression only.
            assert_eq!(reason(&policy, &sfid(NONE, suite, false, true)), None);
            assert_eq!(reason(&policy, &sfid(NONE, suite, true, false)), None);
        }
        // Compression needs no suite.
        assert_eq!(reason(&policy, &sfid(NONE, 0, true, false)), None);
    }

    #[test]
    fn inconsistent_or_unknown_suites_get_15() {
        let policy = FileSecurityPolicy::default();
        // Unknown suite, whatever the services.
        assert_eq!(reason(&policy, &sfid(ENC, 7, false, false)), Some(15));
        assert_eq!(reason(&policy, &sfid(NONE, 99, false, false)), Some(15));
        // A service that needs a suite, without one.
        assert_eq!(reason(&policy, &sfid(ENC, 0, false, false)), Some(15));
        assert_eq!(reason(&policy, &sfid(SIG, 0, false, false)), Some(15));
        assert_eq!(reason(&policy, &sfid(BOTH, 0, true, false)), Some(15));
        assert_eq!(reason(&policy, &sfid(NONE, 0, false, true)), Some(15));
        // A suite without any service.
        assert_eq!(reason(&policy, &sfid(NONE, 2, false, false)), Some(15));
        // A suite the partner may not use.
        let policy = FileSecurityPolicy {
            cipher_suites: vec![CipherSuite::AES256_RSA_SHA256],
            ..FileSecurityPolicy::default()
        };
        assert_eq!(reason(&policy, &sfid(ENC, 1, false, false)), Some(15));
        assert_eq!(reason(&policy, &sfid(NONE, 1, false, true)), Some(15));
        assert_eq!(reason(&policy, &sfid(ENC, 4, false, false)), None);
        // Signed EERPs not offered.
        let policy = FileSecurityPolicy { signed_eerp_requests: false, ..Default::default() };
        let refusal = check_file_security(&policy, &sfid(SIG, 4, false, true)).unwrap_err();
        assert_eq!(refusal.reason, SfnaReason::CIPHER_SUITE_NOT_SUPPORTED);
        assert!(refusal.text.contains("signed EERP"), "{}", refusal.text);
        assert_eq!(reason(&policy, &sfid(SIG, 4, false, false)), None);
    }

    #[test]
    fn encryption_policy_gives_16_and_17() {
        let required =
            FileSecurityPolicy { encryption: ServicePolicy::Required, ..Default::default() };
        assert_eq!(reason(&required, &sfid(NONE, 0, false, false)), Some(17));
        assert_eq!(reason(&required, &sfid(SIG, 1, true, false)), Some(17));
        assert_eq!(reason(&required, &sfid(ENC, 1, false, false)), None);
        assert_eq!(reason(&required, &sfid(BOTH, 6, false, false)), None);
        let refused =
            FileSecurityPolicy { encryption: ServicePolicy::Refused, ..Default::default() };
        assert_eq!(reason(&refused, &sfid(ENC, 2, false, false)), Some(16));
        assert_eq!(reason(&refused, &sfid(BOTH, 2, false, false)), Some(16));
        assert_eq!(reason(&refused, &sfid(SIG, 2, false, false)), None);
        assert_eq!(reason(&refused, &sfid(NONE, 0, false, false)), None);
    }

    #[test]
    fn signing_policy_gives_19_and_20() {
        let required =
            FileSecurityPolicy { signing: ServicePolicy::Required, ..Default::default() };
        assert_eq!(reason(&required, &sfid(NONE, 0, false, false)), Some(20));
        assert_eq!(reason(&required, &sfid(ENC, 3, false, false)), Some(20));
        assert_eq!(reason(&required, &sfid(SIG, 3, false, false)), None);
        assert_eq!(reason(&required, &sfid(BOTH, 3, false, false)), None);
        let refused = FileSecurityPolicy { signing: ServicePolicy::Refused, ..Default::default() };
        assert_eq!(reason(&refused, &sfid(SIG, 5, false, false)), Some(19));
        assert_eq!(reason(&refused, &sfid(BOTH, 5, false, false)), Some(19));
        assert_eq!(reason(&refused, &sfid(ENC, 5, false, false)), None);
    }

    #[test]
    fn compression_policy_gives_18_or_99() {
        let refused =
            FileSecurityPolicy { compression: ServicePolicy::Refused, ..Default::default() };
        assert_eq!(reason(&refused, &sfid(NONE, 0, true, false)), Some(18));
        assert_eq!(reason(&refused, &sfid(BOTH, 4, true, false)), Some(18));
        assert_eq!(reason(&refused, &sfid(BOTH, 4, false, false)), None);
        let required =
            FileSecurityPolicy { compression: ServicePolicy::Required, ..Default::default() };
        assert_eq!(reason(&required, &sfid(NONE, 0, false, false)), Some(99));
        assert_eq!(reason(&required, &sfid(NONE, 0, true, false)), None);
    }

    #[test]
    fn the_first_failing_check_decides() {
        // Encrypted with suite 01 where encryption is refused and only 04 allowed: the
        // service (16) comes before the suite list (15).
        let policy = FileSecurityPolicy {
            encryption: ServicePolicy::Refused,
            signing: ServicePolicy::Required,
            cipher_suites: vec![CipherSuite::AES256_RSA_SHA256],
            ..Default::default()
        };
        assert_eq!(reason(&policy, &sfid(ENC, 1, false, false)), Some(16));
        // Not signed either: encryption is checked first.
        assert_eq!(reason(&policy, &sfid(ENC, 4, false, false)), Some(16));
        assert_eq!(reason(&policy, &sfid(NONE, 0, false, false)), Some(20));
        assert_eq!(reason(&policy, &sfid(SIG, 1, false, false)), Some(15));
        assert_eq!(reason(&policy, &sfid(SIG, 4, false, false)), None);
    }

    #[test]
    fn policy_from_configuration() {
        let policy: FileSecurityPolicy = serde_json::from_str(
            r#"{"encryption": "required", "signing": "refused", "cipher_suites": [2, 6]}"#,
        )
        .unwrap();
        assert_eq!(policy.encryption, ServicePolicy::Required);
        assert_eq!(policy.signing, ServicePolicy::Refused);
        assert_eq!(policy.compression, ServicePolicy::Allowed);
        assert_eq!(
            policy.cipher_suites,
            [CipherSuite::AES256_RSA_SHA1, CipherSuite::AES256_RSA_SHA512]
        );
        assert!(policy.signed_eerp_requests);
        let defaults: FileSecurityPolicy = serde_json::from_str("{}").unwrap();
        assert_eq!(defaults, FileSecurityPolicy::default());
        assert_eq!(defaults.cipher_suites.len(), 6);
        assert!(serde_json::from_str::<FileSecurityPolicy>(r#"{"encrypt": "required"}"#).is_err());
        assert!(serde_json::from_str::<FileSecurityPolicy>(r#"{"signing": "maybe"}"#).is_err());
    }
}
