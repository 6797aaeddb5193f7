use core::fmt;

/// Defines a one-character or fixed-digit enumeration with its wire values.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $name:ident: $wire:ty {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
        }

        impl $name {
            /// Every value, in wire order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),*];

            /// The value on the wire.
            pub const fn wire(self) -> $wire {
                match self {
                    $( Self::$variant => $value, )*
                }
            }

            /// The value with this wire form, if there is one.
            pub const fn from_wire(wire: $wire) -> Option<Self> {
                match wire {
                    $( $value => Some(Self::$variant), )*
                    _ => None,
                }
            }
        }
    };
}

wire_enum! {
    /// SFIDFMT (§5.3.3, §1.5.3): the Virtual File's record format.
    RecordFormat: u8 {
        /// `F`: fixed format, every record SFIDLRECL octets long.
        Fixed = b'F',
        /// `V`: variable format, records of up to SFIDLRECL octets.
        Variable = b'V',
        /// `U`: unstructured, a stream of octets (one record).
        Unstructured = b'U',
        /// `T`: text, ASCII lines delimited by CR LF.
        Text = b'T',
    }
}

impl RecordFormat {
    /// Whether restart positions count records (F, V) rather than 1 KiB blocks (U, T).
    pub const fn restarts_on_records(self) -> bool {
        matches!(self, Self::Fixed | Self::Variable)
    }
}

impl fmt::Display for RecordFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", char::from(self.wire()))
    }
}

wire_enum! {
    /// SSIDSR (§5.3.2): what the location can do.
    SendReceive: u8 {
        /// `S`: can only send files.
        SendOnly = b'S',
        /// `R`: can only receive files.
        ReceiveOnly = b'R',
        /// `B`: can both send and receive.
        Both = b'B',
    }
}

impl SendReceive {
    /// Whether two locations with these capabilities can talk: not both send-only nor both
    /// receive-only (§5.3.2).
    pub const fn compatible(self, other: Self) -> bool {
        !matches!(
            (self, other),
            (Self::SendOnly, Self::SendOnly) | (Self::ReceiveOnly, Self::ReceiveOnly)
        )
    }

    /// Whether the location may send files.
    pub const fn can_send(self) -> bool {
        !matches!(self, Self::ReceiveOnly)
    }

    /// Whether the location may receive files.
    pub const fn can_receive(self) -> bool {
        !matches!(self, Self::SendOnly)
    }
}

wire_enum! {
    /// SFIDSEC (§5.3.3): the security services applied to the file.
    SecurityLevel: u8 {
        /// `00`: none.
        None = 0,
        /// `01`: encrypted.
        Encrypted = 1,
        /// `02`: signed.
        Signed = 2,
        /// `03`: encrypted and signed.
        EncryptedAndSigned = 3,
    }
}

impl SecurityLevel {
    /// Whether the file is encrypted.
    pub const fn is_encrypted(self) -> bool {
        matches!(self, Self::Encrypted | Self::EncryptedAndSigned)
    }

    /// Whether the file is signed.
    pub const fn is_signed(self) -> bool {
        matches!(self, Self::Signed | Self::EncryptedAndSigned)
    }
}

wire_enum! {
    /// SFIDCOMP (§5.3.3): the file-level compression algorithm.
    FileCompression: u8 {
        /// `0`: no compression.
        None = 0,
        /// `1`: ZLIB, as CMS CompressedData (§6.4).
        Zlib = 1,
    }
}

wire_enum! {
    /// SFIDENV (§5.3.3): the file enveloping format.
    FileEnveloping: u8 {
        /// `0`: no envelope.
        None = 0,
        /// `1`: the file is enveloped using CMS.
        Cms = 1,
    }
}

/// SFIDCIPH (§5.3.3, §10.2): the cipher suite used to sign or encrypt the file, and for a
/// signed EERP or NERP. A suite this crate does not know is kept as it came.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "u8", into = "u8"))]
pub struct CipherSuite(u8);

impl CipherSuite {
    /// `00`: no security services.
    pub const NONE: Self = Self(0);
    /// `01`: 3DES_EDE_CBC_3KEY, RSA PKCS#1 v1.5, SHA-1 (RFC 5024).
    pub const TDES_RSA_SHA1: Self = Self(1);
    /// `02`: AES_256_CBC, RSA PKCS#1 v1.5, SHA-1 (RFC 5024).
    pub const AES256_RSA_SHA1: Self = Self(2);
    /// `03`: 3DES_EDE_CBC_3KEY, RSA PKCS#1 v1.5, SHA-256 (Odette OP09).
    pub const TDES_RSA_SHA256: Self = Self(3);
    /// `04`: AES_256_CBC, RSA PKCS#1 v1.5, SHA-256 (Odette OP09).
    pub const AES256_RSA_SHA256: Self = Self(4);
    /// `05`: 3DES_EDE_CBC_3KEY, RSA PKCS#1 v1.5, SHA-512 (Odette OP09).
    pub const TDES_RSA_SHA512: Self = Self(5);
    /// `06`: AES_256_CBC, RSA PKCS#1 v1.5, SHA-512 (Odette OP09).
    pub const AES256_RSA_SHA512: Self = Self(6);

    /// The suite with this two-digit code (0..=99).
    pub const fn new(code: u8) -> Option<Self> {
        if code <= 99 {
            Some(Self(code))
        } else {
            None
        }
    }

    /// The two-digit code.
    pub const fn value(self) -> u8 {
        self.0
    }

    /// Whether the suite is one of 00 to 06.
    pub const fn is_known(self) -> bool {
        self.0 <= 6
    }
}

impl fmt::Debug for CipherSuite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CipherSuite({:02})", self.0)
    }
}

impl TryFrom<u8> for CipherSuite {
    type Error = super::OutOfRange;
    fn try_from(code: u8) -> Result<Self, Self::Error> {
        Self::new(code).ok_or(super::OutOfRange { value: code.into(), min: 0, max: 99 })
    }
}

impl From<CipherSuite> for u8 {
    fn from(suite: CipherSuite) -> u8 {
        suite.0
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for CipherSuite {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Self(u.int_in_range(0..=99)?))
    }
}
