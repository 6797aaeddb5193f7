//! Connection settings: endpoint, credentials, TLS and timeouts.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, ServerName};
use rustls::RootCertStore;

use crate::error::{Error, Result};
use crate::identity::ClientIdentity;

/// Host name of SKAT's FTPS Gateway test environment (TFE).
pub const TFE_HOST: &str = "secureftpgatewaytest.skat.dk";
/// Host name of SKAT's FTPS Gateway production environment.
pub const PRODUCTION_HOST: &str = "secureftpgateway.skat.dk";
/// The gateway's control port (explicit TLS), in both environments. Data
/// connections use the passive ports 36000-39999.
pub const GATEWAY_PORT: u16 = 6381;

/// A TLS protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum TlsVersion {
    /// TLS 1.2: the only version the gateway speaks, and the default.
    Tls12,
    /// TLS 1.3. Not recommended for FTPS: its session tickets are single-use
    /// and arrive late, so servers that require session reuse on data
    /// connections fail intermittently.
    Tls13,
}

impl fmt::Display for TlsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TlsVersion::Tls12 => "TLS 1.2",
            TlsVersion::Tls13 => "TLS 1.3",
        })
    }
}

/// The range of TLS versions the client accepts (both ends included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlsVersions {
    /// The lowest version.
    pub min: TlsVersion,
    /// The highest version.
    pub max: TlsVersion,
}

impl Default for TlsVersions {
    /// TLS 1.2 only, as the gateway requires.
    fn default() -> Self {
        Self { min: TlsVersion::Tls12, max: TlsVersion::Tls12 }
    }
}

impl fmt::Display for TlsVersions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.min == self.max {
            write!(f, "{} only", self.min)
        } else {
            write!(f, "{} to {}", self.min, self.max)
        }
    }
}

impl TlsVersions {
    pub(crate) fn rustls(&self) -> Vec<&'static rustls::SupportedProtocolVersion> {
        let mut v = Vec::new();
        if self.min <= TlsVersion::Tls12 && TlsVersion::Tls12 <= self.max {
            v.push(&rustls::version::TLS12);
        }
        if self.min <= TlsVersion::Tls13 && TlsVersion::Tls13 <= self.max {
            v.push(&rustls::version::TLS13);
        }
        v
    }
}

/// Timeouts for every step. A step that takes longer fails with
/// [`Error::Timeout`] and the control connection is re-established before
/// the next operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP connect (control and data).
    pub connect: Duration,
    /// A TLS handshake (control and data).
    pub tls_handshake: Duration,
    /// Waiting for a reply to a command.
    pub reply: Duration,
    /// No progress on a data connection (no byte read or written) for this long.
    pub data_idle: Duration,
    /// Waiting for the final reply (226) after the data connection closed.
    pub transfer_complete: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(30),
            tls_handshake: Duration::from_secs(30),
            reply: Duration::from_secs(60),
            data_idle: Duration::from_secs(120),
            transfer_complete: Duration::from_secs(300),
        }
    }
}

/// Everything needed to connect and log in.
///
/// ```
/// use ftps_gateway::{ClientConfig, TlsVersions};
/// let config = ClientConfig::skat_test("CVR_30808460_UI_e7057bbd-5e7d-4200-ad81-623333d5c657", "secret");
/// assert_eq!(config.host(), "secureftpgatewaytest.skat.dk");
/// assert_eq!(config.port(), 6381);
/// assert_eq!(config.tls_versions(), TlsVersions::default());
/// ```
#[derive(Clone)]
pub struct ClientConfig {
    host: String,
    port: u16,
    server_name: Option<String>,
    username: String,
    password: String,
    roots: RootCertStore,
    identity: Option<ClientIdentity>,
    versions: TlsVersions,
    timeouts: Timeouts,
    session_reuse: bool,
    idle_check: Duration,
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("server_name", &self.server_name)
            .field("username", &self.username)
            .field("password", &"<secret>")
            .field("roots", &self.roots.len())
            .field("identity", &self.identity)
            .field("versions", &self.versions)
            .field("timeouts", &self.timeouts)
            .field("session_reuse", &self.session_reuse)
            .finish()
    }
}

impl ClientConfig {
    /// A configuration for any FTPS server. Add roots
    /// ([`ClientConfig::with_root_pem`], [`ClientConfig::with_roots`]) and a
    /// client identity ([`ClientConfig::with_identity`]).
    pub fn new(
        host: impl Into<String>,
        port: u16,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        Self {
            host: host.into(),
            port,
            server_name: None,
            username: username.into(),
            password: password.into(),
            roots: RootCertStore::empty(),
            identity: None,
            versions: TlsVersions::default(),
            timeouts: Timeouts::default(),
            session_reuse: true,
            idle_check: Duration::from_secs(30),
        }
    }

    /// SKAT's test environment (TFE): `secureftpgatewaytest.skat.dk:6381`.
    /// With the `webpki-roots` feature the Mozilla roots are preloaded;
    /// otherwise add the roots that issued the gateway's certificate.
    pub fn skat_test(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self::new(TFE_HOST, GATEWAY_PORT, username, password).with_default_roots()
    }

    /// SKAT's production environment: `secureftpgateway.skat.dk:6381`
    /// (see [`ClientConfig::skat_test`] about roots).
    pub fn skat_production(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self::new(PRODUCTION_HOST, GATEWAY_PORT, username, password).with_default_roots()
    }

    #[cfg(feature = "webpki-roots")]
    fn with_default_roots(mut self) -> Self {
        self.roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        self
    }

    #[cfg(not(feature = "webpki-roots"))]
    fn with_default_roots(self) -> Self {
        self
    }

    /// Replaces the trusted roots for verifying the server.
    pub fn with_roots(mut self, roots: RootCertStore) -> Self {
        self.roots = roots;
        self
    }

    /// Adds the roots in a PEM bundle.
    pub fn with_root_pem(mut self, pem: &[u8]) -> Result<Self> {
        let mut n = 0;
        for cert in rustls_pemfile::certs(&mut &pem[..]) {
            let cert = cert.map_err(|e| Error::Config(format!("root PEM: {e}")))?;
            self.add_root(cert)?;
            n += 1;
        }
        if n == 0 {
            return Err(Error::Config("no certificate in the root PEM".into()));
        }
        Ok(self)
    }

    /// Adds one trusted root.
    pub fn with_root(mut self, cert: CertificateDer<'_>) -> Result<Self> {
        self.add_root(cert)?;
        Ok(self)
    }

    fn add_root(&mut self, cert: CertificateDer<'_>) -> Result<()> {
        self.roots.add(cert).map_err(|e| Error::Config(format!("root certificate: {e}")))
    }

    /// Sets the client certificate and key.
    pub fn with_identity(mut self, identity: ClientIdentity) -> Self {
        self.identity = Some(identity);
        self
    }

    /// Sets the accepted TLS versions (default: TLS 1.2 only).
    pub fn with_tls_versions(mut self, versions: TlsVersions) -> Self {
        self.versions = versions;
        self
    }

    /// Sets the timeouts.
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Verifies the server's certificate for this name instead of the host
    /// name (e.g. when connecting by IP address).
    pub fn with_server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }

    /// Turns TLS session resumption on data connections off or on (default
    /// on). Only for diagnosis and tests: the gateway requires reuse.
    pub fn with_session_reuse(mut self, reuse: bool) -> Self {
        self.session_reuse = reuse;
        self
    }

    /// After the control connection has been idle this long, the client sends
    /// `NOOP` before the next operation and reconnects if that fails
    /// (default 30 s).
    pub fn with_idle_check(mut self, idle: Duration) -> Self {
        self.idle_check = idle;
        self
    }

    /// The host to connect to.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The control port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The username.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The TLS versions.
    pub fn tls_versions(&self) -> TlsVersions {
        self.versions
    }

    /// The timeouts.
    pub fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    /// Whether data connections resume the control connection's TLS session.
    pub fn session_reuse(&self) -> bool {
        self.session_reuse
    }

    /// Whether a client certificate is configured.
    pub fn has_identity(&self) -> bool {
        self.identity.is_some()
    }

    pub(crate) fn password(&self) -> &str {
        &self.password
    }

    pub(crate) fn idle_check(&self) -> Duration {
        self.idle_check
    }

    pub(crate) fn server_name(&self) -> Result<ServerName<'static>> {
        let name = self.server_name.as_deref().unwrap_or(&self.host);
        ServerName::try_from(name.to_owned())
            .map_err(|e| Error::Config(format!("server name {name:?}: {e}")))
    }

    /// A fresh rustls configuration (with its own session cache): one per
    /// control connection, shared by its data connections.
    pub(crate) fn rustls_config(&self) -> Result<Arc<rustls::ClientConfig>> {
        if self.host.is_empty() {
            return Err(Error::Config("empty host name".into()));
        }
        let versions = self.versions.rustls();
        if versions.is_empty() {
            return Err(Error::Config(format!(
                "empty TLS version range {:?}..{:?}",
                self.versions.min, self.versions.max
            )));
        }
        if self.roots.is_empty() {
            return Err(Error::Config(
                "no trusted roots: add the roots that issued the server's certificate".into(),
            ));
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&versions)
            .map_err(|e| Error::Config(format!("TLS versions: {e}")))?
            .with_root_certificates(self.roots.clone());
        let mut config = match &self.identity {
            Some(id) => builder
                .with_client_auth_cert(id.chain().to_vec(), id.key())
                .map_err(|e| Error::Identity(format!("certificate and key do not fit: {e}")))?,
            None => builder.with_no_client_auth(),
        };
        if !self.session_reuse {
            config.resumption = rustls::client::Resumption::disabled();
        }
        Ok(Arc::new(config))
    }
}
