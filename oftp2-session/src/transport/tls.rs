//! TLS settings: rustls client and server configurations built from certificate files.
//!
//! RFC 5024 §2.3 layers OFTP over TLS unchanged; RFC 8996 rules out TLS 1.0 and 1.1, so
//! every configuration built here allows TLS 1.2 and 1.3 only, with rustls' default
//! provider (aws-lc-rs). Nothing is trusted by default: a client configuration without
//! trust anchors is refused ([`TlsConfigError::NoTrustAnchors`]).
//!
//! - [`Identity`]: our certificate chain and its private key, checked to belong together.
//! - [`TrustAnchors`]: the roots a peer's certificate must chain to.
//! - [`client_config`] and [`server_config`] build the rustls configurations;
//!   [`ClientCertificates`] says whether a server asks for client certificates.
//! - [`ClientSecurity::for_partner`](super::ClientSecurity::for_partner),
//!   [`server_config_for`] and [`check_partner_certificate`] apply a [`Config`].
//!
//! Files may hold PEM (any number of `CERTIFICATE` blocks; a `PRIVATE KEY`,
//! `RSA PRIVATE KEY` or `EC PRIVATE KEY` block) or DER (one certificate; a PKCS#8, PKCS#1
//! or SEC1 key).

use std::collections::BTreeSet;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use oftp2_codec::reason::EsidReason;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{
    CertificateDer, PrivateKeyDer, PrivatePkcs1KeyDer, PrivatePkcs8KeyDer, PrivateSec1KeyDer,
    UnixTime,
};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig, SupportedProtocolVersion};

use crate::config::{Config, Partner, Transport};

/// The TLS versions we speak: 1.3 and 1.2 (RFC 8996: nothing older).
pub const PROTOCOL_VERSIONS: &[&SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];

/// rustls' default provider, aws-lc-rs.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Why TLS settings could not be turned into a rustls configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsConfigError {
    /// A file could not be read (missing, unreadable).
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// A PEM file is damaged.
    #[error("{} is not valid PEM: {source}", .path.display())]
    Pem {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        source: io::Error,
    },
    /// A file that should hold certificates holds none.
    #[error(
        "{} contains no certificate (expected PEM \"BEGIN CERTIFICATE\" blocks or one DER \
         certificate)",
        .path.display()
    )]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// A certificate cannot be parsed.
    #[error("the certificate in {} cannot be used: {source}", .path.display())]
    InvalidCertificate {
        /// The file.
        path: PathBuf,
        /// rustls' reason.
        source: rustls::Error,
    },
    /// A file that should hold a private key holds none.
    #[error(
        "{} contains no private key (expected a PEM \"PRIVATE KEY\", \"RSA PRIVATE KEY\" or \
         \"EC PRIVATE KEY\" block, or a DER key)",
        .path.display()
    )]
    NoPrivateKey {
        /// The file.
        path: PathBuf,
    },
    /// The private key is encrypted with a passphrase.
    #[error(
        "the private key in {} is encrypted; store it unencrypted (for instance \
         `openssl pkey -in KEY -out PLAIN`) and protect the file instead",
        .path.display()
    )]
    EncryptedPrivateKey {
        /// The file.
        path: PathBuf,
    },
    /// The private key cannot be used (unsupported algorithm, damaged).
    #[error("the private key in {} cannot be used: {source}", .path.display())]
    InvalidPrivateKey {
        /// The file.
        path: PathBuf,
        /// rustls' reason.
        source: rustls::Error,
    },
    /// The private key is not the key of the certificate.
    #[error(
        "the private key in {} does not belong to the certificate in {} (their public keys \
         differ)",
        .private_key.display(), .certificate.display()
    )]
    KeyMismatch {
        /// The certificate file.
        certificate: PathBuf,
        /// The key file.
        private_key: PathBuf,
    },
    /// A certificate cannot serve as a trust anchor.
    #[error("certificate {index} in {} cannot be used as a trust anchor: {source}", .path.display())]
    InvalidTrustAnchor {
        /// The file.
        path: PathBuf,
        /// Which certificate in the file (0 for the first).
        index: usize,
        /// rustls' reason.
        source: rustls::Error,
    },
    /// No trust anchors are configured where they are needed.
    #[error(
        "no trust anchors for {context}: nothing is trusted by default; list CA certificate \
         files in tls.roots (or in the partner's transport roots)"
    )]
    NoTrustAnchors {
        /// What needed them.
        context: String,
    },
    /// TLS is configured but our certificate or key is not.
    #[error("{context} needs {missing} in the [tls] settings")]
    MissingIdentity {
        /// What needed it.
        context: String,
        /// What is missing (`tls.certificate`, `tls.private_key`, or both).
        missing: &'static str,
    },
    /// A server name is neither a DNS name nor an IP address.
    #[error("invalid TLS server name {name:?}: expected a DNS name or an IP address")]
    InvalidServerName {
        /// The name.
        name: String,
    },
    /// rustls refused the configuration.
    #[error("TLS configuration refused: {0}")]
    Rustls(#[from] rustls::Error),
    /// The client certificate verifier could not be built.
    #[error("cannot verify client certificates: {0}")]
    ClientVerifier(#[from] rustls::server::VerifierBuilderError),
}

/// Reads a file, naming it in the error.
fn read(path: &Path) -> Result<Vec<u8>, TlsConfigError> {
    std::fs::read(path).map_err(|source| TlsConfigError::Read { path: path.to_owned(), source })
}

fn is_pem(contents: &[u8]) -> bool {
    contents.windows(11).any(|w| w == b"-----BEGIN ")
}

/// The certificates in PEM text or a DER certificate; `origin` names it in errors.
pub fn parse_certificates(
    contents: &[u8],
    origin: &Path,
) -> Result<Vec<CertificateDer<'static>>, TlsConfigError> {
    let certificates = if is_pem(contents) {
        rustls_pemfile::certs(&mut &contents[..])
            .collect::<Result<Vec<_>, _>>()
            .map_err(|source| TlsConfigError::Pem { path: origin.to_owned(), source })?
    } else if contents.first() == Some(&0x30) {
        vec![CertificateDer::from(contents.to_vec())]
    } else {
        Vec::new()
    };
    if certificates.is_empty() {
        return Err(TlsConfigError::NoCertificate { path: origin.to_owned() });
    }
    Ok(certificates)
}

/// The certificates in a PEM or DER file.
pub fn load_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsConfigError> {
    parse_certificates(&read(path)?, path)
}

/// The first private key in PEM text, or a DER key (PKCS#8, PKCS#1 or SEC1 either way).
pub fn parse_private_key(
    contents: &[u8],
    origin: &Path,
) -> Result<PrivateKeyDer<'static>, TlsConfigError> {
    if is_pem(contents) {
        rustls_pemfile::private_key(&mut &contents[..])
            .map_err(|source| TlsConfigError::Pem { path: origin.to_owned(), source })?
            .ok_or_else(|| {
                if contents.windows(21).any(|w| w == b"ENCRYPTED PRIVATE KEY") {
                    TlsConfigError::EncryptedPrivateKey { path: origin.to_owned() }
                } else {
                    TlsConfigError::NoPrivateKey { path: origin.to_owned() }
                }
            })
    } else if contents.first() == Some(&0x30) {
        // DER carries no label: take the first form the provider can load.
        let forms = [
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(contents.to_vec())),
            PrivateKeyDer::Sec1(PrivateSec1KeyDer::from(contents.to_vec())),
            PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(contents.to_vec())),
        ];
        let provider = provider();
        let mut first_error = None;
        for key in forms {
            match provider.key_provider.load_private_key(key.clone_key()) {
                Ok(_) => return Ok(key),
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        Err(TlsConfigError::InvalidPrivateKey {
            path: origin.to_owned(),
            source: first_error.unwrap_or(rustls::Error::General("no key".into())),
        })
    } else {
        Err(TlsConfigError::NoPrivateKey { path: origin.to_owned() })
    }
}

/// The private key in a PEM or DER file.
pub fn load_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsConfigError> {
    parse_private_key(&read(path)?, path)
}

/// Our certificate chain (leaf first) and the private key of its leaf, checked to match.
pub struct Identity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl Clone for Identity {
    fn clone(&self) -> Self {
        Identity { chain: self.chain.clone(), key: self.key.clone_key() }
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("chain", &format_args!("{} certificate(s)", self.chain.len()))
            .finish_non_exhaustive()
    }
}

impl Identity {
    /// Reads the chain from `certificate` and the key from `private_key`.
    pub fn from_files(certificate: &Path, private_key: &Path) -> Result<Self, TlsConfigError> {
        let chain = load_certificates(certificate)?;
        let key = load_private_key(private_key)?;
        Self::checked(chain, key, certificate, private_key)
    }

    /// An identity from PEM text held in memory (certificates generated at start, for
    /// instance).
    pub fn from_pem(
        certificate_pem: &[u8],
        private_key_pem: &[u8],
    ) -> Result<Self, TlsConfigError> {
        let (certificate, private_key) =
            (Path::new("(certificate PEM)"), Path::new("(private key PEM)"));
        let chain = parse_certificates(certificate_pem, certificate)?;
        let key = parse_private_key(private_key_pem, private_key)?;
        Self::checked(chain, key, certificate, private_key)
    }

    /// An identity from DER values.
    pub fn new(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<Self, TlsConfigError> {
        let (certificate, private_key) =
            (Path::new("(certificate chain)"), Path::new("(private key)"));
        if chain.is_empty() {
            return Err(TlsConfigError::NoCertificate { path: certificate.to_owned() });
        }
        Self::checked(chain, key, certificate, private_key)
    }

    fn checked(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        certificate: &Path,
        private_key: &Path,
    ) -> Result<Self, TlsConfigError> {
        let signing_key =
            provider().key_provider.load_private_key(key.clone_key()).map_err(|source| {
                TlsConfigError::InvalidPrivateKey { path: private_key.to_owned(), source }
            })?;
        let certified = rustls::sign::CertifiedKey::new(chain, signing_key);
        match certified.keys_match() {
            Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {}
            Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => {
                return Err(TlsConfigError::KeyMismatch {
                    certificate: certificate.to_owned(),
                    private_key: private_key.to_owned(),
                })
            }
            Err(source) => {
                return Err(TlsConfigError::InvalidCertificate {
                    path: certificate.to_owned(),
                    source,
                })
            }
        }
        Ok(Identity { chain: certified.cert, key })
    }

    /// Our certificate chain, leaf first.
    pub fn certificate_chain(&self) -> &[CertificateDer<'static>] {
        &self.chain
    }
}

/// Trust anchors: the CA certificates a peer's certificate must chain to. Never empty.
#[derive(Debug, Clone)]
pub struct TrustAnchors {
    store: Arc<RootCertStore>,
}

impl TrustAnchors {
    /// Every certificate in these PEM or DER files. At least one is needed: an empty list
    /// is [`TlsConfigError::NoTrustAnchors`] for `context` (what needs them, for the
    /// message).
    pub fn from_files(paths: &[PathBuf], context: &str) -> Result<Self, TlsConfigError> {
        let mut store = RootCertStore::empty();
        for path in paths {
            for (index, certificate) in load_certificates(path)?.into_iter().enumerate() {
                store.add(certificate).map_err(|source| TlsConfigError::InvalidTrustAnchor {
                    path: path.clone(),
                    index,
                    source,
                })?;
            }
        }
        Self::non_empty(store, context)
    }

    /// These certificates (DER).
    pub fn from_certificates(
        certificates: impl IntoIterator<Item = CertificateDer<'static>>,
    ) -> Result<Self, TlsConfigError> {
        let mut store = RootCertStore::empty();
        for (index, certificate) in certificates.into_iter().enumerate() {
            store.add(certificate).map_err(|source| TlsConfigError::InvalidTrustAnchor {
                path: PathBuf::from("(certificates)"),
                index,
                source,
            })?;
        }
        Self::non_empty(store, "these trust anchors")
    }

    fn non_empty(store: RootCertStore, context: &str) -> Result<Self, TlsConfigError> {
        if store.is_empty() {
            return Err(TlsConfigError::NoTrustAnchors { context: context.to_owned() });
        }
        Ok(TrustAnchors { store: Arc::new(store) })
    }

    /// How many anchors there are.
    pub fn len(&self) -> usize {
        self.store.len()
    }

    /// Always false: trust anchors are never empty.
    pub fn is_empty(&self) -> bool {
        self.store.is_empty()
    }

    /// The rustls root store.
    pub fn root_store(&self) -> &Arc<RootCertStore> {
        &self.store
    }
}

/// Whether a TLS server asks clients for certificates.
#[derive(Debug, Clone)]
pub enum ClientCertificates {
    /// Not requested.
    NotRequested,
    /// Requested; a client may present none, but one it presents must chain to these
    /// anchors or the handshake fails.
    Optional(TrustAnchors),
    /// Required: the handshake fails unless the client presents a certificate chaining
    /// to these anchors.
    Required(TrustAnchors),
}

/// A TLS client configuration: TLS 1.2 or 1.3, the server verified against `roots`
/// (chain and name), and `identity` presented as client certificate when the server asks.
pub fn client_config(
    roots: &TrustAnchors,
    identity: Option<&Identity>,
) -> Result<Arc<ClientConfig>, TlsConfigError> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(PROTOCOL_VERSIONS)?
        .with_root_certificates(Arc::clone(&roots.store));
    let config = match identity {
        Some(identity) => {
            builder.with_client_auth_cert(identity.chain.clone(), identity.key.clone_key())?
        }
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// A TLS server configuration: TLS 1.2 or 1.3, `identity` as our certificate, client
/// certificates as `clients` says.
pub fn server_config(
    identity: &Identity,
    clients: ClientCertificates,
) -> Result<Arc<ServerConfig>, TlsConfigError> {
    let builder = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(PROTOCOL_VERSIONS)?;
    let builder = match clients {
        ClientCertificates::NotRequested => builder.with_no_client_auth(),
        ClientCertificates::Optional(roots) => builder.with_client_cert_verifier(
            WebPkiClientVerifier::builder_with_provider(roots.store, provider())
                .allow_unauthenticated()
                .build()?,
        ),
        ClientCertificates::Required(roots) => builder.with_client_cert_verifier(
            WebPkiClientVerifier::builder_with_provider(roots.store, provider()).build()?,
        ),
    };
    Ok(Arc::new(builder.with_single_cert(identity.chain.clone(), identity.key.clone_key())?))
}

/// Our identity from [`Config::tls`], if a certificate is configured.
fn configured_identity(config: &Config, context: &str) -> Result<Option<Identity>, TlsConfigError> {
    let Some(tls) = &config.tls else { return Ok(None) };
    match (&tls.certificate, &tls.private_key) {
        (Some(certificate), Some(private_key)) => {
            Identity::from_files(certificate, private_key).map(Some)
        }
        (None, None) => Ok(None),
        (Some(_), None) => Err(TlsConfigError::MissingIdentity {
            context: context.to_owned(),
            missing: "tls.private_key (tls.certificate is set)",
        }),
        (None, Some(_)) => Err(TlsConfigError::MissingIdentity {
            context: context.to_owned(),
            missing: "tls.certificate (tls.private_key is set)",
        }),
    }
}

/// The trust anchor files for a partner: its own, or the default ones.
fn partner_root_files<'a>(config: &'a Config, partner: &'a Partner) -> &'a [PathBuf] {
    match &partner.transport {
        Transport::Tls { roots, .. } if !roots.is_empty() => roots,
        _ => config.tls.as_ref().map(|tls| &tls.roots[..]).unwrap_or_default(),
    }
}

/// The rustls client configuration for sessions we open to `partner`: its roots (or the
/// default ones), our certificate as client certificate if one is configured. `None` for
/// a partner configured for plain TCP.
pub fn client_config_for(
    config: &Config,
    partner: &Partner,
) -> Result<Option<Arc<ClientConfig>>, TlsConfigError> {
    if !partner.transport.is_tls() {
        return Ok(None);
    }
    let context = format!("TLS sessions to partner {}", partner.odette_id);
    let roots = TrustAnchors::from_files(partner_root_files(config, partner), &context)?;
    let identity = configured_identity(config, &context)?;
    client_config(&roots, identity.as_ref()).map(Some)
}

/// The rustls server configuration for a responder: our certificate from
/// [`Config::tls`] (required); client certificates required from everyone if
/// [`TlsFiles::require_client_certificate`](crate::config::TlsFiles) says so, otherwise
/// requested and verified if presented, against the default roots and every TLS
/// partner's roots together (not requested when no roots are configured at all).
///
/// Which partner a client is becomes known only with SSID; the session then calls
/// [`check_partner_certificate`] to hold the partner to its own settings.
pub fn server_config_for(config: &Config) -> Result<Arc<ServerConfig>, TlsConfigError> {
    let context = "a TLS responder";
    let identity =
        configured_identity(config, context)?.ok_or(TlsConfigError::MissingIdentity {
            context: context.to_owned(),
            missing: "tls.certificate and tls.private_key",
        })?;
    let mut files = BTreeSet::new();
    if let Some(tls) = &config.tls {
        files.extend(tls.roots.iter().cloned());
    }
    for partner in &config.partners {
        if let Transport::Tls { roots, .. } = &partner.transport {
            files.extend(roots.iter().cloned());
        }
    }
    let files: Vec<PathBuf> = files.into_iter().collect();
    let require_all = config.tls.as_ref().is_some_and(|tls| tls.require_client_certificate);
    let someone_requires = config.partners.iter().find(|partner| {
        matches!(partner.transport, Transport::Tls { require_client_certificate: true, .. })
    });
    let clients = if files.is_empty() {
        if require_all {
            return Err(TlsConfigError::NoTrustAnchors {
                context: "verifying the client certificates that tls.require_client_certificate \
                          requires"
                    .to_owned(),
            });
        }
        if let Some(partner) = someone_requires {
            return Err(TlsConfigError::NoTrustAnchors {
                context: format!(
                    "verifying the client certificate that partner {} must present",
                    partner.odette_id
                ),
            });
        }
        ClientCertificates::NotRequested
    } else {
        let roots = TrustAnchors::from_files(&files, "client certificates")?;
        if require_all {
            ClientCertificates::Required(roots)
        } else {
            ClientCertificates::Optional(roots)
        }
    };
    server_config(&identity, clients)
}

/// Why a partner identified by SSID is refused because of its transport.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PartnerCertificateError {
    /// The partner is configured for TLS but connected over plain TCP.
    #[error("partner {partner} must use TLS but connected over plain TCP")]
    PlainTcp {
        /// Its Odette ID.
        partner: String,
    },
    /// The partner must present a client certificate and presented none.
    #[error(
        "partner {partner} must present a client certificate in the TLS handshake and \
         presented none"
    )]
    CertificateMissing {
        /// Its Odette ID.
        partner: String,
    },
    /// The partner's client certificate does not verify against its trust anchors.
    #[error("the client certificate of partner {partner} is not accepted: {source}")]
    CertificateRejected {
        /// Its Odette ID.
        partner: String,
        /// rustls' reason (untrusted issuer, expired, ...).
        source: rustls::Error,
    },
    /// The partner's TLS settings cannot be loaded.
    #[error("the TLS settings of partner {partner} cannot be used: {source}")]
    Config {
        /// Its Odette ID.
        partner: String,
        /// What is wrong.
        source: TlsConfigError,
    },
}

impl PartnerCertificateError {
    /// The ESID reason to end the session with: 04 (the partner failed to authenticate,
    /// as with a wrong password) for a refused or missing certificate or a plain TCP
    /// connection; 05 (local site emergency close down) for our own broken settings.
    pub fn esid_reason(&self) -> EsidReason {
        match self {
            PartnerCertificateError::Config { .. } => EsidReason::LOCAL_SITE_EMERGENCY_CLOSE_DOWN,
            _ => EsidReason::INVALID_PASSWORD,
        }
    }
}

/// Holds a partner that SSID has identified to its transport settings, on a connection
/// that arrived at our responder: `tls` is whether it came over TLS and `certificates`
/// the chain it presented ([`Connection::peer_certificates`](super::Connection)).
///
/// A partner configured for TLS must have used TLS; one with
/// `require_client_certificate` must have presented a certificate; a certificate
/// presented by a TLS partner must chain to that partner's roots (its own or the
/// default ones), which may be narrower than the roots the handshake accepted.
pub fn check_partner_certificate(
    config: &Config,
    partner: &Partner,
    tls: bool,
    certificates: Option<&[CertificateDer<'static>]>,
) -> Result<(), PartnerCertificateError> {
    let Transport::Tls { require_client_certificate, .. } = &partner.transport else {
        return Ok(());
    };
    let name = || partner.odette_id.to_string();
    if !tls {
        return Err(PartnerCertificateError::PlainTcp { partner: name() });
    }
    let Some((end_entity, intermediates)) = certificates.and_then(|chain| chain.split_first())
    else {
        return if *require_client_certificate {
            Err(PartnerCertificateError::CertificateMissing { partner: name() })
        } else {
            Ok(())
        };
    };
    let context = format!("the client certificate of partner {}", partner.odette_id);
    let roots = TrustAnchors::from_files(partner_root_files(config, partner), &context)
        .map_err(|source| PartnerCertificateError::Config { partner: name(), source })?;
    let verifier =
        WebPkiClientVerifier::builder_with_provider(roots.store, provider()).build().map_err(
            |source| PartnerCertificateError::Config { partner: name(), source: source.into() },
        )?;
    verifier
        .verify_client_cert(end_entity, intermediates, UnixTime::now())
        .map(|_| ())
        .map_err(|source| PartnerCertificateError::CertificateRejected { partner: name(), source })
}
