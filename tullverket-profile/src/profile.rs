//! [`Profile`]: a ready [`Config`] and [`Partner`] for sessions with Customs, built by
//! [`ProfileBuilder`] from the company's code, passwords and TLS trust.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use oftp2_codec::fields::{OdetteId, Password};
use oftp2_session::config::{Config, Partner, TextLineHandling, Transport};
use oftp2_session::node::Node;
use oftp2_session::store::FileStore;
use oftp2_session::transport::tls::{TlsConfigError, TrustAnchors};
use rustls::pki_types::ServerName;

use crate::company::CompanyCode;
use crate::params;

/// Why a [`Profile`] cannot be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// No password was given.
    #[error("no OFTP password: give the password agreed with Customs for your code {company}")]
    MissingPassword {
        /// The company's code.
        company: CompanyCode,
    },
    /// No trust anchor was given: the profile never trusts every certificate.
    #[error(
        "no trust anchor for Customs' server certificate: nothing is trusted by default. \
         Download GlobalSign's root ({root}) and intermediate ({intermediate}) and pass \
         both files (PEM or DER)",
        root = params::GLOBALSIGN_ROOT_URL,
        intermediate = params::GLOBALSIGN_INTERMEDIATE_URL
    )]
    NoTrustAnchor,
    /// A trust anchor file cannot be used (missing, unreadable, not a certificate).
    #[error("the trust anchors for Customs' server certificate cannot be used: {0}")]
    Trust(#[source] TlsConfigError),
    /// The server name is neither a DNS name nor an IP address.
    #[error("invalid TLS server name {0:?}: expected a DNS name such as {host}", host = params::HOST)]
    InvalidServerName(String),
}

/// Builds a [`Profile`]: the company's code, its password and the GlobalSign
/// certificates are needed; the address can be overridden (for a test responder).
///
/// ```
/// use tullverket_profile::{Profile, ProfileError};
///
/// let company = "O094200005560360793TEKN".parse()?;
/// let missing = Profile::builder(company).password("SECRET".parse()?).build();
/// assert!(matches!(missing, Err(ProfileError::NoTrustAnchor)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct ProfileBuilder {
    company: CompanyCode,
    password: Option<Password>,
    customs_password: Option<Password>,
    roots: Vec<PathBuf>,
    address: String,
    server_name: String,
    connect_timeout: Duration,
    idle_timeout: Duration,
}

impl ProfileBuilder {
    /// The password we send to Customs (our SSIDPSWD). Unless
    /// [`customs_password`](Self::customs_password) says otherwise, Customs is expected
    /// to send the same one back.
    pub fn password(mut self, password: Password) -> Self {
        self.password = Some(password);
        self
    }

    /// The password Customs sends us in its SSID, when it differs from ours.
    pub fn customs_password(mut self, password: Password) -> Self {
        self.customs_password = Some(password);
        self
    }

    /// The GlobalSign certificates, PEM or DER files: the root ("GlobalSign Root CA",
    /// [`GLOBALSIGN_ROOT_URL`](params::GLOBALSIGN_ROOT_URL)) and the intermediate
    /// ("GlobalSign Organization Validation CA - SHA256 - G2",
    /// [`GLOBALSIGN_INTERMEDIATE_URL`](params::GLOBALSIGN_INTERMEDIATE_URL)).
    pub fn globalsign(self, root: impl Into<PathBuf>, intermediate: impl Into<PathBuf>) -> Self {
        self.trust_anchor(root).trust_anchor(intermediate)
    }

    /// One more file of trust anchors (PEM with any number of certificates, or one DER
    /// certificate).
    pub fn trust_anchor(mut self, file: impl Into<PathBuf>) -> Self {
        self.roots.push(file.into());
        self
    }

    /// Connects to `host:port` instead of `tmf01.tullverket.se:6619` (a test responder).
    /// The server certificate is still checked against
    /// [`server_name`](Self::server_name).
    pub fn address(mut self, address: impl Into<String>) -> Self {
        self.address = address.into();
        self
    }

    /// The name the server certificate must carry. Default `tmf01.tullverket.se`.
    pub fn server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = name.into();
        self
    }

    /// How long connecting and the TLS handshake may take. Default 30 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long a session waits for Customs before it ends with ESID 09. Default 120 s.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// The profile, once a password and trust anchors are given and the trust anchor
    /// files hold certificates.
    pub fn build(self) -> Result<Profile, ProfileError> {
        let our_password =
            self.password.ok_or(ProfileError::MissingPassword { company: self.company })?;
        if self.roots.is_empty() {
            return Err(ProfileError::NoTrustAnchor);
        }
        TrustAnchors::from_files(&self.roots, "Customs' server certificate")
            .map_err(ProfileError::Trust)?;
        ServerName::try_from(self.server_name.clone())
            .map_err(|_| ProfileError::InvalidServerName(self.server_name.clone()))?;

        let customs = params::customs_odette_id();
        let partner = Partner {
            odette_id: customs,
            password: self.customs_password.unwrap_or(our_password),
            our_password,
            directions: params::FILE_DIRECTION,
            buffer_size: Some(params::BUFFER_SIZE),
            credit: Some(params::WINDOW_SIZE),
            text_lines: TextLineHandling::default(),
            address: Some(self.address.clone()),
            transport: Transport::Tls {
                server_name: Some(self.server_name.clone()),
                roots: self.roots.clone(),
                require_client_certificate: false,
            },
            secure_authentication: false,
            file_security: Default::default(),
        };
        let mut config = Config::new(self.company.odette_id());
        config.level = params::PROTOCOL_LEVEL;
        config.buffer_size = params::BUFFER_SIZE;
        config.credit = params::WINDOW_SIZE;
        config.send_receive = params::FILE_DIRECTION;
        config.limits.max_concurrent_sessions = params::CHANNELS;
        config.limits.connect_timeout = self.connect_timeout;
        config.limits.idle_timeout = self.idle_timeout;
        config.partners.push(partner);
        Ok(Profile {
            company: self.company,
            customs,
            address: self.address,
            server_name: self.server_name,
            roots: self.roots,
            config,
        })
    }
}

/// Everything a session with Customs needs: the company's side and Customs' parameters
/// (see [`params`](crate::params)), as an oftp2-session [`Config`] with Customs as its one
/// [`Partner`].
///
/// ```
/// # fn run(root: &str, intermediate: &str) -> Result<(), Box<dyn std::error::Error>> {
/// use tullverket_profile::Profile;
///
/// let profile = Profile::builder("O094200005560360793TEKN".parse()?)
///     .password("SECRET".parse()?)
///     .globalsign(root, intermediate)
///     .build()?;
/// assert_eq!(profile.customs_partner().credit.map(|c| c.get()), Some(7));
/// assert_eq!(profile.address(), "tmf01.tullverket.se:6619");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Profile {
    company: CompanyCode,
    customs: OdetteId,
    address: String,
    server_name: String,
    roots: Vec<PathBuf>,
    config: Config,
}

impl Profile {
    /// Starts a profile for the company with this code.
    pub fn builder(company: CompanyCode) -> ProfileBuilder {
        ProfileBuilder {
            company,
            password: None,
            customs_password: None,
            roots: Vec::new(),
            address: params::address(),
            server_name: params::HOST.to_owned(),
            connect_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(120),
        }
    }

    /// The company's code.
    pub fn company(&self) -> CompanyCode {
        self.company
    }

    /// Customs' code ([`CUSTOMS_ODETTE_ID`](params::CUSTOMS_ODETTE_ID)).
    pub fn customs(&self) -> OdetteId {
        self.customs
    }

    /// Where sessions connect to (`host:port`).
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The name Customs' certificate must carry.
    pub fn server_name(&self) -> &str {
        &self.server_name
    }

    /// The trust anchor files.
    pub fn trust_anchor_files(&self) -> &[PathBuf] {
        &self.roots
    }

    /// The trust anchors, loaded from their files.
    pub fn trust_anchors(&self) -> Result<TrustAnchors, ProfileError> {
        TrustAnchors::from_files(&self.roots, "Customs' server certificate")
            .map_err(ProfileError::Trust)
    }

    /// The session configuration: our code, level 2.0, buffer 2,048, credit 7, both
    /// directions, one session at a time, and Customs as the one partner.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Customs as a partner: its code, the passwords, TLS to its address.
    pub fn customs_partner(&self) -> &Partner {
        // `build` puts exactly one partner in the configuration.
        self.config.partners.first().expect("the profile's configuration names Customs")
    }

    /// The configuration, to adjust further or to serialize.
    pub fn into_config(self) -> Config {
        self.config
    }

    /// An oftp2-session node for this profile over `store`:
    /// `node.connect(&profile.customs(), progress)` runs a session with Customs.
    pub fn node<S: FileStore + ?Sized + 'static>(&self, store: Arc<S>) -> Node<S> {
        Node::new(Arc::new(self.config.clone()), store)
    }
}
