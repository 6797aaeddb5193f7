//! An OFTP node: our configuration and file store, opening sessions to partners and
//! serving the sessions they open.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use oftp2_session::config::Config;
//! use oftp2_session::node::Node;
//! use oftp2_session::store::FsStore;
//!
//! let config: Config = serde_json::from_str(&std::fs::read_to_string("oftp.json")?)?;
//! let store = FsStore::open("/var/lib/oftp", config.odette_id)?;
//! let node = Node::new(Arc::new(config), Arc::new(store));
//! let report = node.connect(&"O094200002021000969PRDINT".parse()?, None).await?;
//! println!("{} files received, {} sent", report.received.len(), report.sent.len());
//! # Ok(()) }
//! ```

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use oftp2_codec::fields::OdetteId;
use oftp2_codec::reason::EsidReason;
use tokio::sync::Semaphore;
use tracing::{info, warn, Instrument};

use crate::config::Config;
use crate::driver::{self, DriverError, InboundPolicy, ProgressFn, RunOptions, SessionReport};
use crate::engine::Session;
use crate::store::{FileStore, OutgoingFile, OutgoingId, StoreError};
use crate::transport::{connect, ClientSecurity, Connection, Listener, TransportError};

/// Why a session could not be run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// The partner is not in the configuration.
    #[error("partner {0} is not configured")]
    UnknownPartner(OdetteId),
    /// The partner has no address to connect to.
    #[error("partner {0} has no address configured")]
    NoAddress(OdetteId),
    /// The partner's TLS settings cannot be used.
    #[cfg(feature = "tls")]
    #[error("TLS settings for partner {partner}: {source}")]
    Tls {
        /// The partner.
        partner: OdetteId,
        /// What is wrong.
        source: crate::transport::tls::TlsConfigError,
    },
    /// Connecting failed (DNS, TCP, TLS).
    #[error(transparent)]
    Transport(Box<TransportError>),
    /// The connection failed before the session could start.
    #[error(transparent)]
    Driver(#[from] DriverError),
}

impl From<TransportError> for NodeError {
    fn from(error: TransportError) -> Self {
        NodeError::Transport(Box::new(error))
    }
}

/// Our side of OFTP: configuration and file store.
pub struct Node<S: FileStore + ?Sized> {
    config: Arc<Config>,
    store: Arc<S>,
    inbound: Option<InboundPolicy>,
}

impl<S: FileStore + ?Sized> Clone for Node<S> {
    fn clone(&self) -> Self {
        Node {
            config: self.config.clone(),
            store: self.store.clone(),
            inbound: self.inbound.clone(),
        }
    }
}

impl<S: FileStore + ?Sized + 'static> Node<S> {
    /// A node with this configuration and store.
    pub fn new(config: Arc<Config>, store: Arc<S>) -> Self {
        Node { config, store, inbound: None }
    }

    /// Lets the application accept or refuse each incoming file before data flows: an
    /// `Err` answers SFNA with its reason, retry flag and text.
    pub fn with_inbound_policy(mut self, policy: InboundPolicy) -> Self {
        self.inbound = Some(policy);
        self
    }

    /// Queues `file` for `partner` ([`FileStore::queue_outgoing`]) on tokio's blocking
    /// threads, so that the sessions in progress go on meanwhile: the store copies the
    /// file into the outbox (and secures it, when it asks for OFTP2 security), which takes
    /// as long as the file is large, and makes it durable. The next session with the
    /// partner sends it.
    pub async fn queue(
        &self,
        partner: &OdetteId,
        file: OutgoingFile,
    ) -> Result<OutgoingId, StoreError>
    where
        S: Send + Sync,
    {
        let store = self.store.clone();
        let partner = *partner;
        match tokio::task::spawn_blocking(move || store.queue_outgoing(&partner, file)).await {
            Ok(queued) => queued,
            Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
            Err(_) => Err(StoreError::io(
                "queue",
                std::path::PathBuf::new(),
                std::io::Error::other("the runtime shut down before the file was queued"),
            )),
        }
    }

    fn options(&self, progress: Option<ProgressFn>) -> RunOptions {
        RunOptions { progress, inbound: self.inbound.clone() }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The store.
    pub fn store(&self) -> &Arc<S> {
        &self.store
    }

    /// Opens a session to `partner` at its configured address, over TLS unless it is
    /// configured for plain TCP: sends what its outbox holds and the receipts we owe it,
    /// receives what it has for us.
    pub async fn connect(
        &self,
        partner: &OdetteId,
        progress: Option<ProgressFn>,
    ) -> Result<SessionReport, NodeError> {
        let found = self.config.partner(partner).ok_or(NodeError::UnknownPartner(*partner))?;
        let address = found.address.clone().ok_or(NodeError::NoAddress(*partner))?;
        let security = self.client_security(found)?;
        let connection = connect(&address, &security, self.config.limits.connect_timeout).await?;
        self.run_initiator(connection, partner, progress).await
    }

    #[cfg(feature = "tls")]
    fn client_security(
        &self,
        partner: &crate::config::Partner,
    ) -> Result<ClientSecurity, NodeError> {
        ClientSecurity::for_partner(&self.config, partner)
            .map_err(|source| NodeError::Tls { partner: partner.odette_id, source })
    }

    #[cfg(not(feature = "tls"))]
    fn client_security(
        &self,
        partner: &crate::config::Partner,
    ) -> Result<ClientSecurity, NodeError> {
        let _ = partner;
        Ok(ClientSecurity::PlainTcp)
    }

    /// Runs a session as Initiator over an open connection to `partner`.
    pub async fn run_initiator(
        &self,
        connection: Connection,
        partner: &OdetteId,
        progress: Option<ProgressFn>,
    ) -> Result<SessionReport, NodeError> {
        let found = self.config.partner(partner).ok_or(NodeError::UnknownPartner(*partner))?;
        let session = Session::initiator(self.config.clone(), found.clone(), Instant::now());
        Ok(driver::run_with(session, connection, &*self.store, self.options(progress)).await?)
    }

    /// Serves one connection a partner opened (as Responder).
    pub async fn serve_connection(
        &self,
        connection: Connection,
    ) -> Result<SessionReport, DriverError> {
        let mut session = Session::responder(self.config.clone(), Instant::now());
        self.admit_by_certificate(&mut session, &connection);
        driver::run_with(session, connection, &*self.store, self.options(None)).await
    }

    #[cfg(feature = "tls")]
    fn admit_by_certificate(&self, session: &mut Session, connection: &Connection) {
        let config = self.config.clone();
        let tls = connection.is_tls();
        let certificates = connection.peer_certificates().map(<[_]>::to_vec);
        session.set_admission(Box::new(move |partner| {
            crate::transport::tls::check_partner_certificate(
                &config,
                partner,
                tls,
                certificates.as_deref(),
            )
            .map_err(|error| (error.esid_reason(), error.to_string()))
        }));
    }

    #[cfg(not(feature = "tls"))]
    fn admit_by_certificate(&self, _session: &mut Session, _connection: &Connection) {}

    /// Accepts and serves sessions on `listener` until `shutdown` completes, at most
    /// [`max_concurrent_sessions`](crate::config::Limits::max_concurrent_sessions) at
    /// once: a connection beyond that gets SSRM and ESID 08 (resources not available).
    /// Each finished session's report goes to `on_report`, and so does each connection
    /// whose TLS handshake failed, as [`DriverError::Handshake`]. A connection holds its
    /// place among the concurrent sessions from its acceptance, during its handshake too,
    /// so that handshakes (costly for the server) are bounded as well.
    pub async fn serve(
        &self,
        listener: Listener,
        shutdown: impl Future<Output = ()>,
        on_report: impl Fn(Result<SessionReport, DriverError>) + Send + Sync + 'static,
    ) where
        S: Send + Sync,
    {
        let on_report = Arc::new(on_report);
        let slots = Arc::new(Semaphore::new(self.config.limits.max_concurrent_sessions));
        tokio::pin!(shutdown);
        loop {
            let incoming = tokio::select! {
                () = &mut shutdown => break,
                incoming = listener.accept_tcp() => incoming,
            };
            let incoming = match incoming {
                Ok(incoming) => incoming,
                Err(error) => {
                    // Out of file descriptors, for instance: give the system a moment.
                    warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            };
            let node = self.clone();
            let on_report = on_report.clone();
            let slot = slots.clone().try_acquire_owned();
            let peer = incoming.peer_addr();
            tokio::spawn(
                async move {
                    let connection = match incoming.handshake().await {
                        Ok(connection) => connection,
                        Err(error) => {
                            info!(%error, "handshake failed");
                            on_report(Err(DriverError::Handshake(Box::new(error))));
                            return;
                        }
                    };
                    match slot {
                        Ok(_slot) => on_report(node.serve_connection(connection).await),
                        Err(_) => {
                            let mut session =
                                Session::responder(node.config.clone(), Instant::now());
                            session.abort(EsidReason::RESOURCES_NOT_AVAILABLE, "too many sessions");
                            on_report(driver::run(session, connection, &*node.store, None).await);
                        }
                    }
                }
                .instrument(tracing::info_span!("connection", %peer)),
            );
        }
    }
}
