//! Configuration, loadable with serde: our own identity and capabilities, the partner
//! table, and session limits.
//!
//! ```
//! use oftp2_session::config::{Config, Partner};
//! let config: Config = serde_json_like();
//! # fn serde_json_like() -> Config {
//! #     Config::new("O0013000000000000001".parse().unwrap())
//! # }
//! assert_eq!(config.buffer_size.get(), 99_999);
//! ```

use std::path::PathBuf;
use std::time::Duration;

use oftp2_codec::fields::{BufferSize, CipherSuite, Credit, OdetteId, Password, SendReceive};
use oftp2_codec::record::TextLines;
use oftp2_codec::ProtocolLevel;
use serde::{Deserialize, Serialize};

/// Our side: identity, what we offer in SSID, the partners we talk to, and limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// SSIDCODE we send: our Odette identification code.
    pub odette_id: OdetteId,
    /// SSIDLEV we offer (Initiator) or accept at most (Responder). Default 2.0.
    #[serde(default)]
    pub level: ProtocolLevel,
    /// SSIDSDEB we offer: the largest exchange buffer we accept. Default 99,999.
    #[serde(default = "default_buffer_size")]
    pub buffer_size: BufferSize,
    /// SSIDCRED we offer. Default 999.
    #[serde(default = "default_credit")]
    pub credit: Credit,
    /// SSIDCMPR: whether we offer buffer compression. Default off (file compression
    /// supersedes it, §6.4).
    #[serde(default)]
    pub compression: bool,
    /// SSIDREST: whether we offer restart. Default on.
    #[serde(default = "yes")]
    pub restart: bool,
    /// SSIDSR: what we can do. Default both.
    #[serde(default = "both")]
    pub send_receive: SendReceive,
    /// The partners we exchange files with.
    #[serde(default)]
    pub partners: Vec<Partner>,
    /// Timeouts and limits.
    #[serde(default)]
    pub limits: Limits,
    /// Our TLS certificate, key and default trust anchors. Needed for TLS sessions.
    #[serde(default)]
    pub tls: Option<TlsFiles>,
    /// OFTP2 security (feature `cms`): our certificate and key, the partners'
    /// certificates. [`SecurityConfig::load`](crate::security::SecurityConfig::load) makes
    /// the store's [`FileSecurity`](crate::protection::FileSecurity) of it.
    #[cfg(feature = "cms")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security: Option<crate::security::SecurityConfig>,
}

impl Config {
    /// A configuration with the defaults and no partners.
    pub fn new(odette_id: OdetteId) -> Self {
        Config {
            odette_id,
            level: ProtocolLevel::V2_0,
            buffer_size: default_buffer_size(),
            credit: default_credit(),
            compression: false,
            restart: true,
            send_receive: SendReceive::Both,
            partners: Vec::new(),
            limits: Limits::default(),
            tls: None,
            #[cfg(feature = "cms")]
            security: None,
        }
    }

    /// The partner with this identification code.
    pub fn partner(&self, odette_id: &OdetteId) -> Option<&Partner> {
        self.partners.iter().find(|p| &p.odette_id == odette_id)
    }
}

/// One partner: how we recognise it, what it may do, and how we reach it.
///
/// ```
/// use oftp2_session::config::{Partner, ServicePolicy};
/// let partner: Partner = serde_json::from_str(r#"{
///     "odette_id": "O0013000000000000002",
///     "password": "THEIRS",
///     "our_password": "OURS",
///     "secure_authentication": true,
///     "file_security": { "encryption": "required", "signing": "required",
///                        "cipher_suites": [4, 6] }
/// }"#)?;
/// assert!(partner.secure_authentication);
/// assert_eq!(partner.file_security.encryption, ServicePolicy::Required);
/// assert_eq!(partner.file_security.compression, ServicePolicy::Allowed);
/// assert!(partner.file_security.signed_eerp_requests);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Partner {
    /// Its SSIDCODE.
    pub odette_id: OdetteId,
    /// The SSIDPSWD it must send us.
    pub password: Password,
    /// The SSIDPSWD we send it.
    pub our_password: Password,
    /// What it may do: send to us, receive from us, or both. Default both.
    #[serde(default = "both")]
    pub directions: SendReceive,
    /// A smaller SSIDSDEB for this partner than our default.
    #[serde(default)]
    pub buffer_size: Option<BufferSize>,
    /// A smaller SSIDCRED for this partner than our default.
    #[serde(default)]
    pub credit: Option<Credit>,
    /// How its T-format files carry lines. Default: CR LF kept in the data.
    #[serde(default)]
    pub text_lines: TextLineHandling,
    /// Where to connect to it (`host:port`), if we initiate sessions.
    #[serde(default)]
    pub address: Option<String>,
    /// Transport security for sessions with it.
    #[serde(default)]
    pub transport: Transport,
    /// SSIDAUTH: whether sessions with it use secure authentication (RFC 5024 §4.2.3:
    /// SECD, AUCH, AURP after the SSID exchange). Both SSIDs must say the same, or the
    /// session ends with ESID 12. Needs an authenticator
    /// ([`Session::set_authenticator`](crate::engine::Session::set_authenticator)), and
    /// protocol level 2.0 on both sides. Default off.
    #[serde(default)]
    pub secure_authentication: bool,
    /// What the files it sends us may or must be (SFIDSEC, SFIDCIPH, SFIDCOMP, SFIDSIGN):
    /// files that do not fit are refused with SFNA 15-20. Default: everything allowed,
    /// cipher suites 01-06.
    #[serde(default)]
    pub file_security: FileSecurityPolicy,
}

/// Whether a file service (encryption, signing, compression) must, may or must not be
/// applied to the files a partner sends us.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServicePolicy {
    /// Every file must use the service.
    Required,
    /// Files may use it or not.
    #[default]
    Allowed,
    /// No file may use it.
    Refused,
}

/// A partner's file security policy for the files it sends us (RFC 5024 §5.3.3 SFIDSEC,
/// SFIDCIPH, SFIDCOMP, SFIDSIGN; refusals with SFNA 15-20, §5.3.5). Checked by the engine
/// before the application sees the SFID ([`crate::engine::check_file_security`]).
///
/// ```text
/// file_security = { encryption = "required", signing = "required", compression = "allowed",
///                   cipher_suites = [4, 6], signed_eerp_requests = true }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSecurityPolicy {
    /// Encryption (SFIDSEC `01`/`03`): SFNA 17 for an unencrypted file when required, SFNA
    /// 16 for an encrypted one when refused. Default allowed.
    #[serde(default)]
    pub encryption: ServicePolicy,
    /// Signing (SFIDSEC `02`/`03`): SFNA 20 for an unsigned file when required, SFNA 19
    /// for a signed one when refused. Default allowed.
    #[serde(default)]
    pub signing: ServicePolicy,
    /// File compression (SFIDCOMP `1`): SFNA 18 for a compressed file when refused. RFC
    /// 5024 has no reason for an uncompressed file that should have been compressed:
    /// `required` refuses one with SFNA 99. Default allowed.
    #[serde(default)]
    pub compression: ServicePolicy,
    /// The cipher suites (SFIDCIPH) the partner may use, for its files and for the
    /// signed EERPs it requests: others get SFNA 15. Suites this crate does not know
    /// (above 06) are always refused. Default 01 to 06.
    #[serde(default = "all_cipher_suites")]
    pub cipher_suites: Vec<CipherSuite>,
    /// Whether the partner may request a signed EERP (SFIDSIGN `Y`); if not, such a file
    /// gets SFNA 15 (the suite is not supported for a signed EERP). Default yes.
    #[serde(default = "yes")]
    pub signed_eerp_requests: bool,
}

impl Default for FileSecurityPolicy {
    /// Everything allowed, cipher suites 01 to 06, signed EERPs may be requested.
    fn default() -> Self {
        FileSecurityPolicy {
            encryption: ServicePolicy::Allowed,
            signing: ServicePolicy::Allowed,
            compression: ServicePolicy::Allowed,
            cipher_suites: all_cipher_suites(),
            signed_eerp_requests: true,
        }
    }
}

fn all_cipher_suites() -> Vec<CipherSuite> {
    (1..=6).filter_map(CipherSuite::new).collect()
}

/// How a partner's T-format files carry their lines (design notes §3: peers differ).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TextLineHandling {
    /// The file is one record with its CR LF in the data (RFC 5024 Appendix A).
    #[default]
    KeepCrLf,
    /// One record per line, CR LF stripped.
    RecordPerLine,
}

impl From<TextLineHandling> for TextLines {
    fn from(handling: TextLineHandling) -> Self {
        match handling {
            TextLineHandling::KeepCrLf => TextLines::KeepCrLf,
            TextLineHandling::RecordPerLine => TextLines::RecordPerLine,
        }
    }
}

/// Transport security for a partner's sessions (RFC 5024 §2.3, §2.4).
///
/// TLS is the default; plain TCP is used only when a partner is configured with
/// `mode = "plain-tcp"`. In a configuration file:
///
/// ```text
/// transport = { mode = "tls", server_name = "oftp.partner.example", roots = ["partner-ca.pem"] }
/// transport = { mode = "tls", require_client_certificate = true }
/// transport = { mode = "plain-tcp" }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "TransportFields", into = "TransportFields")]
pub enum Transport {
    /// TLS (port 6619, `odette-ftps`): TLS 1.2 at least; the partner's certificate must
    /// chain to `roots` (or, when `roots` is empty, to [`TlsFiles::roots`]).
    Tls {
        /// The name the partner's server certificate must carry when we connect to it
        /// (DNS name or IP address). Default: the host part of [`Partner::address`].
        #[serde(default)]
        server_name: Option<String>,
        /// Trust anchors (PEM or DER files) for this partner's certificates. Empty: use
        /// [`TlsFiles::roots`] of [`Config::tls`].
        #[serde(default)]
        roots: Vec<PathBuf>,
        /// As a responder: whether this partner must have presented a client certificate
        /// (chaining to the roots above) in the TLS handshake. Checked once SSID has
        /// identified the partner. Default: no (a certificate it presents is still
        /// verified).
        #[serde(default)]
        require_client_certificate: bool,
    },
    /// Plain TCP (port 3305): no encryption, no authentication of the peer. Only when
    /// configured explicitly.
    PlainTcp,
}

impl Default for Transport {
    /// TLS, with the default roots, the server name taken from the address, and no client
    /// certificate required.
    fn default() -> Self {
        Transport::Tls { server_name: None, roots: Vec::new(), require_client_certificate: false }
    }
}

/// The serde form of [`Transport`]: a `mode` tag and the TLS fields, refused with plain TCP
/// (serde's internally tagged enums would ignore unknown fields of a unit variant).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TransportFields {
    mode: TransportMode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    server_name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    roots: Vec<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    require_client_certificate: Option<bool>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum TransportMode {
    Tls,
    PlainTcp,
}

impl TryFrom<TransportFields> for Transport {
    type Error = &'static str;

    fn try_from(fields: TransportFields) -> Result<Self, Self::Error> {
        let TransportFields { mode, server_name, roots, require_client_certificate } = fields;
        match mode {
            TransportMode::Tls => Ok(Transport::Tls {
                server_name,
                roots,
                require_client_certificate: require_client_certificate.unwrap_or(false),
            }),
            TransportMode::PlainTcp
                if server_name.is_none()
                    && roots.is_empty()
                    && require_client_certificate.is_none() =>
            {
                Ok(Transport::PlainTcp)
            }
            TransportMode::PlainTcp => Err("server_name, roots and require_client_certificate \
                                            apply to mode \"tls\" only, not to \"plain-tcp\""),
        }
    }
}

impl From<Transport> for TransportFields {
    fn from(transport: Transport) -> Self {
        match transport {
            Transport::Tls { server_name, roots, require_client_certificate } => TransportFields {
                mode: TransportMode::Tls,
                server_name,
                roots,
                require_client_certificate: Some(require_client_certificate),
            },
            Transport::PlainTcp => TransportFields {
                mode: TransportMode::PlainTcp,
                server_name: None,
                roots: Vec::new(),
                require_client_certificate: None,
            },
        }
    }
}

impl Transport {
    /// Whether sessions run over TLS.
    pub fn is_tls(&self) -> bool {
        matches!(self, Transport::Tls { .. })
    }
}

/// Our TLS identity and default trust: certificates and keys as files.
///
/// ```text
/// [tls]
/// certificate = "our-chain.pem"      # leaf first, then intermediates
/// private_key = "our-key.pem"        # PKCS#8, PKCS#1 or SEC1
/// roots = ["partners-ca.pem"]        # PEM or DER
/// require_client_certificate = false # responder: refuse handshakes without one
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    /// Trust anchors (PEM or DER files) that peers' certificates must chain to, unless a
    /// partner names its own ([`Transport::Tls`] `roots`). A TLS client needs at least
    /// one: nothing is trusted by default.
    #[serde(default)]
    pub roots: Vec<PathBuf>,
    /// Our certificate chain (PEM, or one DER certificate), leaf first. Needed as a
    /// responder; as an initiator it is presented as the client certificate.
    #[serde(default)]
    pub certificate: Option<PathBuf>,
    /// The private key of our certificate (PEM or DER; PKCS#8, PKCS#1 or SEC1).
    #[serde(default)]
    pub private_key: Option<PathBuf>,
    /// As a responder: whether every client must present a certificate chaining to the
    /// roots during the TLS handshake (before SSID says which partner it is). Default
    /// no: certificates are requested, verified if presented, and required only for the
    /// partners that say so ([`Transport::Tls`] `require_client_certificate`).
    #[serde(default)]
    pub require_client_certificate: bool,
}

/// Timeouts and limits of sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// How long a session waits for the peer before it ends with ESID 09. Default 120 s.
    #[serde(default = "default_idle", with = "seconds")]
    pub idle_timeout: Duration,
    /// How long connecting and the TLS handshake may take. Default 30 s.
    #[serde(default = "default_connect", with = "seconds")]
    pub connect_timeout: Duration,
    /// How many sessions a responder runs at once; more are refused with ESID 08.
    /// Default 100.
    #[serde(default = "default_sessions")]
    pub max_concurrent_sessions: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            idle_timeout: default_idle(),
            connect_timeout: default_connect(),
            max_concurrent_sessions: default_sessions(),
        }
    }
}

fn default_buffer_size() -> BufferSize {
    BufferSize::MAX
}
fn default_credit() -> Credit {
    Credit::MAX
}
fn yes() -> bool {
    true
}
fn both() -> SendReceive {
    SendReceive::Both
}
fn default_idle() -> Duration {
    Duration::from_secs(120)
}
fn default_connect() -> Duration {
    Duration::from_secs(30)
}
fn default_sessions() -> usize {
    100
}

mod seconds {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let secs = f64::deserialize(d)?;
        Duration::try_from_secs_f64(secs).map_err(serde::de::Error::custom)
    }
}
