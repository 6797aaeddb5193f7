//! Reason codes: why a file was refused (SFNAREAS, EFNAREAS), why a session ended
//! (ESIDREAS) and why a file was not delivered (NERPREAS).
//!
//! Each is a two-digit `9(2)` field on the wire. The types are newtypes over the numeric
//! value with named constants, in the manner of rustls' wire codes: a value the RFC does
//! not define is kept as it came, so it survives decode and encode unchanged and still
//! prints readably (`"unknown (42)"`).

use core::fmt;

macro_rules! reason_code {
    (
        $(#[$meta:meta])*
        $name:ident, $field:literal {
            $( $(#[$cmeta:meta])* $konst:ident = $value:literal => $text:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[cfg_attr(feature = "serde", serde(try_from = "u8", into = "u8"))]
        pub struct $name(u8);

        impl $name {
            $(
                $(#[$cmeta])*
                #[doc = concat!("`", stringify!($value), "`: ", $text, ".")]
                pub const $konst: Self = Self($value);
            )*

            /// Every code the RFC defines for this field, in numeric order.
            pub const KNOWN: &'static [Self] = &[$(Self::$konst),*];

            #[doc = concat!("The ", $field, " code with this two-digit value (0..=99); `None` above 99.")]
            pub const fn new(value: u8) -> Option<Self> {
                if value <= 99 { Some(Self(value)) } else { None }
            }

            /// The numeric value as it travels in the two-digit field.
            pub const fn value(self) -> u8 {
                self.0
            }

            /// Whether the RFC defines this code.
            pub const fn is_known(self) -> bool {
                self.description().is_some()
            }

            /// The RFC's wording for this code, or `None` for a code it does not define.
            pub const fn description(self) -> Option<&'static str> {
                match self.0 {
                    $( $value => Some($text), )*
                    _ => None,
                }
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:02})", stringify!($name), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.description() {
                    Some(text) => write!(f, "{:02} {}", self.0, text),
                    None => write!(f, "{:02} unknown", self.0),
                }
            }
        }

        impl TryFrom<u8> for $name {
            type Error = crate::fields::OutOfRange;
            fn try_from(value: u8) -> Result<Self, Self::Error> {
                Self::new(value).ok_or(crate::fields::OutOfRange { value: u64::from(value), min: 0, max: 99 })
            }
        }

        impl From<$name> for u8 {
            fn from(code: $name) -> u8 {
                code.0
            }
        }

        #[cfg(feature = "arbitrary")]
        impl<'a> arbitrary::Arbitrary<'a> for $name {
            fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
                Ok(Self(u.int_in_range(0..=99)?))
            }
        }
    };
}

reason_code! {
    /// SFNAREAS (§5.3.5): why the Listener refuses to receive a file announced by SFID.
    SfnaReason, "SFNAREAS" {
        INVALID_FILENAME = 1 => "Invalid filename",
        INVALID_DESTINATION = 2 => "Invalid destination",
        INVALID_ORIGIN = 3 => "Invalid origin",
        RECORD_FORMAT_NOT_SUPPORTED = 4 => "Storage record format not supported",
        RECORD_LENGTH_NOT_SUPPORTED = 5 => "Maximum record length not supported",
        FILE_TOO_BIG = 6 => "File size is too big",
        INVALID_RECORD_COUNT = 10 => "Invalid record count",
        INVALID_BYTE_COUNT = 11 => "Invalid byte count",
        ACCESS_METHOD_FAILURE = 12 => "Access method failure",
        DUPLICATE_FILE = 13 => "Duplicate file",
        FILE_DIRECTION_REFUSED = 14 => "File direction refused",
        CIPHER_SUITE_NOT_SUPPORTED = 15 => "Cipher suite not supported",
        ENCRYPTED_FILE_NOT_ALLOWED = 16 => "Encrypted file not allowed",
        UNENCRYPTED_FILE_NOT_ALLOWED = 17 => "Unencrypted file not allowed",
        COMPRESSION_NOT_ALLOWED = 18 => "Compression not allowed",
        SIGNED_FILE_NOT_ALLOWED = 19 => "Signed file not allowed",
        UNSIGNED_FILE_NOT_ALLOWED = 20 => "Unsigned file not allowed",
        UNSPECIFIED = 99 => "Unspecified reason",
    }
}

reason_code! {
    /// EFNAREAS (§5.3.10): why the Listener refuses a file after EFID.
    EfnaReason, "EFNAREAS" {
        INVALID_FILENAME = 1 => "Invalid filename",
        INVALID_DESTINATION = 2 => "Invalid destination",
        INVALID_ORIGIN = 3 => "Invalid origin",
        RECORD_FORMAT_NOT_SUPPORTED = 4 => "Storage record format not supported",
        RECORD_LENGTH_NOT_SUPPORTED = 5 => "Maximum record length not supported",
        FILE_TOO_BIG = 6 => "File size is too big",
        INVALID_RECORD_COUNT = 10 => "Invalid record count",
        INVALID_BYTE_COUNT = 11 => "Invalid byte count",
        ACCESS_METHOD_FAILURE = 12 => "Access method failure",
        DUPLICATE_FILE = 13 => "Duplicate file",
        FILE_DIRECTION_REFUSED = 14 => "File direction refused",
        CIPHER_SUITE_NOT_SUPPORTED = 15 => "Cipher suite not supported",
        ENCRYPTED_FILE_NOT_ALLOWED = 16 => "Encrypted file not allowed",
        UNENCRYPTED_FILE_NOT_ALLOWED = 17 => "Unencrypted file not allowed",
        COMPRESSION_NOT_ALLOWED = 18 => "Compression not allowed",
        SIGNED_FILE_NOT_ALLOWED = 19 => "Signed file not allowed",
        UNSIGNED_FILE_NOT_ALLOWED = 20 => "Unsigned file not allowed",
        INVALID_FILE_SIGNATURE = 21 => "Invalid file signature",
        FILE_DECRYPTION_FAILURE = 22 => "File decryption failure",
        FILE_DECOMPRESSION_FAILURE = 23 => "File decompression failure",
        UNSPECIFIED = 99 => "Unspecified reason",
    }
}

reason_code! {
    /// ESIDREAS (§5.3.11): why a session ended.
    EsidReason, "ESIDREAS" {
        NORMAL_TERMINATION = 0 => "Normal session termination",
        COMMAND_NOT_RECOGNISED = 1 => "Command not recognised",
        PROTOCOL_VIOLATION = 2 => "Protocol violation",
        USER_CODE_NOT_KNOWN = 3 => "User code not known",
        INVALID_PASSWORD = 4 => "Invalid password",
        LOCAL_SITE_EMERGENCY_CLOSE_DOWN = 5 => "Local site emergency close down",
        COMMAND_CONTAINED_INVALID_DATA = 6 => "Command contained invalid data",
        EXCHANGE_BUFFER_SIZE_ERROR = 7 => "Exchange Buffer size error",
        RESOURCES_NOT_AVAILABLE = 8 => "Resources not available",
        TIME_OUT = 9 => "Time out",
        MODE_OR_CAPABILITIES_INCOMPATIBLE = 10 => "Mode or capabilities incompatible",
        INVALID_CHALLENGE_RESPONSE = 11 => "Invalid challenge response",
        SECURE_AUTHENTICATION_REQUIREMENTS_INCOMPATIBLE = 12 => "Secure authentication requirements incompatible",
        UNSPECIFIED_ABORT = 99 => "Unspecified Abort code",
    }
}

reason_code! {
    /// NERPREAS (§5.3.14): why a file could not be delivered or processed.
    NerpReason, "NERPREAS" {
        ESID_USER_CODE_NOT_KNOWN = 3 => "ESID received with reason code 03 (user code not known)",
        ESID_INVALID_PASSWORD = 4 => "ESID received with reason code 04 (invalid password)",
        ESID_UNSPECIFIED = 9 => "ESID received with reason code 99 (unspecified reason)",
        SFNA_INVALID_FILENAME = 11 => "SFNA(RETRY=N) received with reason code 01 (invalid file name)",
        SFNA_INVALID_DESTINATION = 12 => "SFNA(RETRY=N) received with reason code 02 (invalid destination)",
        SFNA_INVALID_ORIGIN = 13 => "SFNA(RETRY=N) received with reason code 03 (invalid origin)",
        SFNA_RECORD_FORMAT = 14 => "SFNA(RETRY=N) received with reason code 04 (invalid storage record format)",
        SFNA_RECORD_LENGTH = 15 => "SFNA(RETRY=N) received with reason code 05 (maximum record length not supported)",
        SFNA_FILE_TOO_BIG = 16 => "SFNA(RETRY=N) received with reason code 06 (file size too big)",
        SFNA_INVALID_RECORD_COUNT = 20 => "SFNA(RETRY=N) received with reason code 10 (invalid record count)",
        SFNA_INVALID_BYTE_COUNT = 21 => "SFNA(RETRY=N) received with reason code 11 (invalid byte count)",
        SFNA_ACCESS_METHOD_FAILURE = 22 => "SFNA(RETRY=N) received with reason code 12 (access method failure)",
        SFNA_DUPLICATE_FILE = 23 => "SFNA(RETRY=N) received with reason code 13 (duplicate file)",
        SFNA_FILE_DIRECTION_REFUSED = 24 => "SFNA(RETRY=N) received with reason code 14 (file direction refused)",
        SFNA_CIPHER_SUITE_NOT_SUPPORTED = 25 => "SFNA(RETRY=N) received with reason code 15 (cipher suite not supported)",
        SFNA_ENCRYPTED_FILE_NOT_ALLOWED = 26 => "SFNA(RETRY=N) received with reason code 16 (encrypted file not allowed)",
        SFNA_UNENCRYPTED_FILE_NOT_ALLOWED = 27 => "SFNA(RETRY=N) received with reason code 17 (unencrypted file not allowed)",
        SFNA_COMPRESSION_NOT_ALLOWED = 28 => "SFNA(RETRY=N) received with reason code 18 (compression not allowed)",
        SFNA_SIGNED_FILE_NOT_ALLOWED = 29 => "SFNA(RETRY=N) received with reason code 19 (signed file not allowed)",
        SFNA_UNSIGNED_FILE_NOT_ALLOWED = 30 => "SFNA(RETRY=N) received with reason code 20 (unsigned file not allowed)",
        FILE_SIGNATURE_NOT_VALID = 31 => "File signature not valid",
        FILE_DECOMPRESSION_FAILED = 32 => "File decompression failed",
        FILE_DECRYPTION_FAILED = 33 => "File decryption failed",
        FILE_PROCESSING_FAILED = 34 => "File processing failed",
        NOT_DELIVERED_TO_RECIPIENT = 35 => "Not delivered to recipient",
        NOT_ACKNOWLEDGED_BY_RECIPIENT = 36 => "Not acknowledged by recipient",
        TRANSMISSION_STOPPED_BY_OPERATOR = 50 => "Transmission stopped by the operator",
        FILE_SIZE_INCOMPATIBLE = 90 => "File size incompatible with recipient's protocol version",
        UNSPECIFIED = 99 => "Unspecified reason",
    }
}

impl NerpReason {
    /// The NERP reason that reports an SFNA with retry `N` (or an EFNA) carrying `sfna`,
    /// per the table of §5.3.14; `None` for an SFNA reason the table does not map.
    pub const fn for_refusal(sfna: u8) -> Option<Self> {
        match sfna {
            1..=6 => Some(Self(sfna + 10)),
            10..=20 => Some(Self(sfna + 10)),
            21 => Some(Self::FILE_SIGNATURE_NOT_VALID),
            22 => Some(Self::FILE_DECRYPTION_FAILED),
            23 => Some(Self::FILE_DECOMPRESSION_FAILED),
            99 => Some(Self::UNSPECIFIED),
            _ => None,
        }
    }

    /// The NERP reason that reports a session ended by an ESID with `esid`, per §5.3.14.
    pub const fn for_session_end(esid: EsidReason) -> Option<Self> {
        match esid.0 {
            3 => Some(Self::ESID_USER_CODE_NOT_KNOWN),
            4 => Some(Self::ESID_INVALID_PASSWORD),
            99 => Some(Self::ESID_UNSPECIFIED),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_codes_are_kept_and_printable() {
        let code = SfnaReason::new(42).unwrap();
        assert_eq!(code.value(), 42);
        assert!(!code.is_known());
        assert_eq!(code.to_string(), "42 unknown");
        assert_eq!(SfnaReason::new(100), None);
    }

    #[test]
    fn known_codes_have_the_rfc_text() {
        assert_eq!(EsidReason::TIME_OUT.to_string(), "09 Time out");
        assert_eq!(EfnaReason::KNOWN.len(), 21);
        assert_eq!(SfnaReason::KNOWN.len(), 18);
        assert_eq!(EsidReason::KNOWN.len(), 14);
        assert_eq!(NerpReason::KNOWN.len(), 29);
    }

    #[test]
    fn nerp_reasons_follow_the_refusal_table() {
        assert_eq!(NerpReason::for_refusal(1), Some(NerpReason::SFNA_INVALID_FILENAME));
        assert_eq!(NerpReason::for_refusal(13), Some(NerpReason::SFNA_DUPLICATE_FILE));
        assert_eq!(NerpReason::for_refusal(20), Some(NerpReason::SFNA_UNSIGNED_FILE_NOT_ALLOWED));
        assert_eq!(NerpReason::for_refusal(21), Some(NerpReason::FILE_SIGNATURE_NOT_VALID));
        assert_eq!(NerpReason::for_refusal(7), None);
        assert_eq!(
            NerpReason::for_session_end(EsidReason::INVALID_PASSWORD),
            Some(NerpReason::ESID_INVALID_PASSWORD)
        );
        for code in NerpReason::KNOWN {
            assert!(code.is_known());
        }
    }
}
