//! The FTPS client: control connection, passive data connections, transfers.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use rustls::{AlertDescription, HandshakeKind};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::ascii::CrlfEncoder;
use crate::config::{ClientConfig, TlsVersion};
use crate::error::{Error, Reply, Result};
use crate::reply::ReplyReader;

type Tls = TlsStream<TcpStream>;
/// Data connections read through a buffer: rustls asks the socket for at
/// most 4 KiB at a time, which costs a system call per 4 KiB otherwise.
/// Writes pass straight through.
type DataTls = TlsStream<BufReader<TcpStream>>;

/// Read buffer of a data connection.
const DATA_READ_BUFFER: usize = 64 * 1024;

/// How the file's bytes travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum TransferMode {
    /// `TYPE I`: bytes as they are.
    #[default]
    Binary,
    /// `TYPE A`: text with CR LF line ends. Lone LF line ends in the source
    /// are sent as CR LF; CR LF stays as it is. eKapital Classic services
    /// require it.
    Ascii,
}

/// Size of the buffer used for transfers.
const CHUNK: usize = 256 * 1024;
/// How long to wait for the server's reason after a data connection failed.
const REASON_WAIT: Duration = Duration::from_secs(5);

struct Connection {
    ctrl: BufReader<Tls>,
    replies: ReplyReader,
    tls: Arc<rustls::ClientConfig>,
    server_name: ServerName<'static>,
    peer_ip: IpAddr,
    epsv: bool,
    transfer_type: Option<TransferMode>,
    last_used: Instant,
    version: Option<TlsVersion>,
}

/// Whether the last data connection resumed the control connection's TLS
/// session, and how many data connections this client opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DataConnectionStats {
    /// Data connections whose TLS handshake completed.
    pub opened: u64,
    /// Of those, how many resumed the control connection's session.
    pub resumed: u64,
    /// Control connections made (the first and every reconnect).
    pub control_connections: u64,
}

/// An FTPS client (explicit TLS) for one server, as the gateway needs it:
/// `AUTH TLS`, `PBSZ 0`, `PROT P`, passive data connections to the control
/// host only, TLS session reuse on data connections, and `close_notify`
/// after every transfer.
///
/// The control connection is made on first use and re-established when it
/// dropped (after a failed `NOOP` once idle, or after an error that broke it).
/// Uploads are never repeated automatically.
pub struct FtpsClient {
    config: ClientConfig,
    conn: Option<Connection>,
    stats: DataConnectionStats,
}

impl std::fmt::Debug for FtpsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FtpsClient")
            .field("config", &self.config)
            .field("connected", &self.conn.is_some())
            .field("stats", &self.stats)
            .finish()
    }
}

async fn timed<T>(
    after: Duration,
    step: impl FnOnce() -> String,
    fut: impl Future<Output = Result<T>>,
) -> Result<T> {
    match tokio::time::timeout(after, fut).await {
        Ok(r) => r,
        Err(_) => Err(Error::Timeout { step: step(), after }),
    }
}

impl FtpsClient {
    /// Creates a client; nothing is connected until [`FtpsClient::connect`]
    /// or the first operation.
    pub fn new(config: ClientConfig) -> Self {
        Self { config, conn: None, stats: DataConnectionStats::default() }
    }

    /// Creates a client and logs in.
    pub async fn connect(config: ClientConfig) -> Result<Self> {
        let mut client = Self::new(config);
        client.reconnect().await?;
        Ok(client)
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Counters of control and data connections.
    pub fn stats(&self) -> DataConnectionStats {
        self.stats
    }

    /// The TLS version of the control connection, if connected.
    pub fn tls_version(&self) -> Option<TlsVersion> {
        self.conn.as_ref().and_then(|c| c.version)
    }

    /// Whether a control connection is open (as far as the client knows).
    pub fn is_connected(&self) -> bool {
        self.conn.is_some()
    }

    /// Drops the control connection (if any) and logs in again.
    pub async fn reconnect(&mut self) -> Result<()> {
        self.conn = None;
        let conn = self.open_control().await?;
        self.conn = Some(conn);
        self.stats.control_connections += 1;
        Ok(())
    }

    /// Sends `QUIT` and closes the control connection.
    pub async fn quit(&mut self) -> Result<()> {
        if let Some(mut conn) = self.conn.take() {
            let t = self.config.timeouts();
            let _ = conn.command(t.reply, "QUIT", "QUIT").await;
            let _ = tokio::time::timeout(t.reply, conn.ctrl.get_mut().shutdown()).await;
        }
        Ok(())
    }

    async fn open_control(&self) -> Result<Connection> {
        let t = self.config.timeouts();
        let tls = self.config.rustls_config()?;
        let server_name = self.config.server_name()?;
        let addr = format!("{}:{}", self.config.host(), self.config.port());
        let tcp = timed(t.connect, || format!("connecting to {addr}"), async {
            TcpStream::connect((self.config.host(), self.config.port()))
                .await
                .map_err(|source| Error::Connect { addr: addr.clone(), source })
        })
        .await?;
        let _ = tcp.set_nodelay(true);
        let peer_ip =
            tcp.peer_addr().map_err(|e| Error::io("reading the server's address", e))?.ip();

        // Plain-text part: greeting and AUTH TLS.
        let mut plain = BufReader::new(tcp);
        let mut replies = ReplyReader::default();
        let greeting =
            timed(t.reply, || "waiting for the server's greeting".into(), replies.read(&mut plain))
                .await?;
        if greeting.code != 220 {
            return Err(Error::Command { command: "connect (greeting)".into(), reply: greeting });
        }
        timed(t.reply, || "sending AUTH TLS".into(), async {
            plain
                .get_mut()
                .write_all(b"AUTH TLS\r\n")
                .await
                .map_err(|e| Error::io("sending AUTH TLS", e))
        })
        .await?;
        let auth =
            timed(t.reply, || "waiting for the reply to AUTH TLS".into(), replies.read(&mut plain))
                .await?;
        if auth.code != 234 {
            return Err(Error::Command { command: "AUTH TLS".into(), reply: auth });
        }
        if !plain.buffer().is_empty() {
            return Err(Error::Protocol(
                "the server sent data after 234 before the TLS handshake".into(),
            ));
        }
        let tcp = plain.into_inner();
        let connector = TlsConnector::from(tls.clone());
        let has_identity = self.config.has_identity();
        let versions = self.config.tls_versions();
        let stream = timed(
            t.tls_handshake,
            || "doing the TLS handshake on the control connection".into(),
            async {
                connector.connect(server_name.clone(), tcp).await.map_err(|e| {
                    map_tls_io(
                        e,
                        "doing the TLS handshake on the control connection",
                        has_identity,
                        versions,
                    )
                })
            },
        )
        .await?;

        let version = match stream.get_ref().1.protocol_version() {
            Some(rustls::ProtocolVersion::TLSv1_2) => Some(TlsVersion::Tls12),
            Some(rustls::ProtocolVersion::TLSv1_3) => Some(TlsVersion::Tls13),
            _ => None,
        };
        let mut conn = Connection {
            version,
            ctrl: BufReader::new(stream),
            replies,
            tls,
            server_name,
            peer_ip,
            epsv: true,
            transfer_type: None,
            last_used: Instant::now(),
        };
        let login = async {
            let user = format!("USER {}", self.config.username());
            let r = conn.command(t.reply, &user, "USER").await?;
            let r = if r.code == 331 || r.code == 332 {
                let pass = format!("PASS {}", self.config.password());
                conn.command(t.reply, &pass, "PASS").await?
            } else {
                r
            };
            if !r.is_completion() {
                return Err(Error::LoginRejected { reply: r });
            }
            conn.expect(t.reply, "PBSZ 0", "PBSZ 0").await?;
            conn.expect(t.reply, "PROT P", "PROT P").await?;
            Ok(())
        };
        login.await.map_err(|e| map_post_handshake(e, has_identity, versions))?;
        Ok(conn)
    }

    /// A usable control connection: connects if there is none, and checks an
    /// idle one with `NOOP` (reconnecting if that fails).
    async fn ready(&mut self) -> Result<&mut Connection> {
        let idle_check = self.config.idle_check();
        let reply_timeout = self.config.timeouts().reply;
        let stale = match &mut self.conn {
            None => true,
            Some(conn) if conn.last_used.elapsed() >= idle_check => {
                match conn.command(reply_timeout, "NOOP", "NOOP").await {
                    Ok(r) if r.is_completion() => false,
                    Ok(r) => {
                        tracing::debug!(%r, "NOOP failed; reconnecting");
                        true
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "control connection lost; reconnecting");
                        true
                    }
                }
            }
            Some(_) => false,
        };
        if stale {
            self.reconnect().await?;
        }
        self.conn.as_mut().ok_or(Error::ConnectionClosed)
    }

    fn after<T>(&mut self, r: Result<T>) -> Result<T> {
        match &r {
            Err(e) if e.breaks_connection() => self.conn = None,
            _ => {
                if let Some(c) = &mut self.conn {
                    c.last_used = Instant::now();
                }
            }
        }
        r
    }

    /// Sends `NOOP` (connecting first if needed).
    pub async fn noop(&mut self) -> Result<()> {
        let t = self.config.timeouts().reply;
        let conn = self.ready().await?;
        let r = conn.expect(t, "NOOP", "NOOP").await.map(|_| ());
        self.after(r)
    }

    /// Sends a raw command and returns the reply, whatever its code (for
    /// commands this client has no method for, e.g. `MKD` or `SITE`).
    pub async fn raw_command(&mut self, command: &str) -> Result<Reply> {
        if command.contains(['\r', '\n']) {
            return Err(Error::InvalidName {
                name: command.into(),
                reason: "a command cannot contain CR or LF",
            });
        }
        let t = self.config.timeouts().reply;
        let conn = self.ready().await?;
        let verb = command.split(' ').next().unwrap_or("").to_owned();
        let r = conn.command(t, command, &verb).await;
        self.after(r)
    }

    /// Uploads `reader` to `remote` with `STOR`. Returns the number of bytes
    /// read from `reader`. If the control connection turns out to be dead
    /// before `STOR` is sent, the client reconnects and goes on.
    ///
    /// If anything fails after `STOR` was sent, the error is
    /// [`Error::UploadOutcomeUnknown`]: the server may have the file. The
    /// upload is never retried here. A local read error aborts the data
    /// connection without `close_notify`, so the server sees a broken
    /// transfer rather than a complete but truncated file.
    pub async fn upload<R>(
        &mut self,
        remote: &str,
        reader: R,
        mode: TransferMode,
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> Result<u64>
    where
        R: AsyncRead + Unpin,
    {
        check_path(remote)?;
        let mut reader = reader;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let had_conn = self.conn.is_some();
            let r = self.upload_inner(remote, &mut reader, mode, progress).await;
            let r = self.after(r);
            match r {
                // Only errors before STOR come back unwrapped: nothing was
                // sent and nothing read, so a dead connection may be replaced.
                Err(e) if attempt < 2 && had_conn && is_dead_connection(&e) => {
                    tracing::debug!(error = %e, "control connection lost before STOR; reconnecting");
                }
                r => return r,
            }
        }
    }

    async fn upload_inner<R>(
        &mut self,
        remote: &str,
        mut reader: R,
        mode: TransferMode,
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> Result<u64>
    where
        R: AsyncRead + Unpin,
    {
        let t = self.config.timeouts();
        let versions = self.config.tls_versions();
        let has_identity = self.config.has_identity();
        let conn = self.ready().await?;
        conn.set_type(t.reply, mode).await?;
        let tcp = conn.passive(t.reply, t.connect).await?;
        let name = remote.to_owned();
        let unknown = |bytes_sent: u64, e: Error| Error::UploadOutcomeUnknown {
            name: name.clone(),
            bytes_sent,
            source: Box::new(e),
        };
        // From here on the server may create the file.
        let (mut data, resumed) = match conn
            .start_transfer(
                &format!("STOR {remote}"),
                "STOR",
                tcp,
                t.tls_handshake,
                t.reply,
                versions,
                has_identity,
            )
            .await
        {
            Ok(x) => x,
            // An explicit refusal of STOR: nothing was stored.
            Err(e @ Error::Command { .. }) => return Err(e),
            Err(e) => return Err(unknown(0, e)),
        };
        self.count_data_connection(resumed);
        let conn = self.conn.as_mut().ok_or(Error::ConnectionClosed)?;

        let mut buf = vec![0u8; CHUNK];
        let mut encoder = CrlfEncoder::default();
        let mut encoded = Vec::new();
        let mut total = 0u64;
        loop {
            let n = match tokio::time::timeout(t.data_idle, reader.read(&mut buf)).await {
                Ok(Ok(n)) => n,
                Ok(Err(e)) => {
                    // Abort without close_notify: the server must not take a
                    // truncated file for a complete one.
                    drop(data);
                    let reply = conn.read_reply_within(REASON_WAIT).await;
                    tracing::warn!(?reply, "upload aborted by a local read error");
                    return Err(unknown(total, Error::io("reading the local file", e)));
                }
                Err(_) => {
                    drop(data);
                    return Err(unknown(
                        total,
                        Error::Timeout {
                            step: "reading the local file".into(),
                            after: t.data_idle,
                        },
                    ));
                }
            };
            if n == 0 {
                break;
            }
            let chunk = buf.get(..n).unwrap_or_default();
            let out: &[u8] = match mode {
                TransferMode::Binary => chunk,
                TransferMode::Ascii => {
                    encoded.clear();
                    encoder.encode(chunk, &mut encoded);
                    &encoded
                }
            };
            let w = timed(t.data_idle, || "writing to the data connection".into(), async {
                data.write_all(out).await.map_err(|e| {
                    map_tls_io(e, "writing to the data connection", has_identity, versions)
                })
            })
            .await;
            if let Err(e) = w {
                drop(data);
                let reply = conn.read_reply_within(REASON_WAIT).await;
                let e = data_failure(e, reply, resumed);
                return Err(unknown(total, e));
            }
            total += n as u64;
            progress(total);
        }
        if let Err(e) = close_data(&mut data, t.data_idle).await {
            drop(data);
            let reply = conn.read_reply_within(REASON_WAIT).await;
            return Err(unknown(total, data_failure(e, reply, resumed)));
        }
        drop(data);
        match timed(
            t.transfer_complete,
            || "waiting for the end of the upload".into(),
            conn.replies.read(&mut conn.ctrl),
        )
        .await
        {
            Ok(r) if r.is_completion() => Ok(total),
            Ok(r) => Err(unknown(total, final_failure("STOR", r, resumed))),
            Err(e) => Err(unknown(total, e)),
        }
    }

    /// Downloads `remote` (binary) into `writer`. Returns the byte count.
    pub async fn download<W>(&mut self, remote: &str, writer: W) -> Result<u64>
    where
        W: AsyncWrite + Unpin,
    {
        check_path(remote)?;
        let r = self.download_inner(remote, writer, u64::MAX).await;
        self.after(r)
    }

    /// Downloads `remote` into memory, failing with [`Error::TooLarge`] past
    /// `limit` bytes. Retried once on a fresh connection if the control
    /// connection turned out to be dead.
    pub async fn download_to_vec(&mut self, remote: &str, limit: u64) -> Result<Vec<u8>> {
        check_path(remote)?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let had_conn = self.conn.is_some();
            let mut out = Vec::new();
            let r = self.download_inner(remote, &mut out, limit).await;
            let r = self.after(r);
            match r {
                Ok(_) => return Ok(out),
                Err(e) if attempt < 2 && had_conn && is_dead_connection(&e) => {
                    tracing::debug!(error = %e, "retrying the download on a new connection");
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn download_inner<W>(&mut self, remote: &str, writer: W, limit: u64) -> Result<u64>
    where
        W: AsyncWrite + Unpin,
    {
        self.receive("RETR", remote, TransferMode::Binary, writer, limit).await
    }

    /// Runs a transfer from the server (`RETR` or `NLST`) into `writer`.
    async fn receive<W>(
        &mut self,
        verb: &str,
        arg: &str,
        mode: TransferMode,
        mut writer: W,
        limit: u64,
    ) -> Result<u64>
    where
        W: AsyncWrite + Unpin,
    {
        let t = self.config.timeouts();
        let versions = self.config.tls_versions();
        let has_identity = self.config.has_identity();
        let conn = self.ready().await?;
        conn.set_type(t.reply, mode).await?;
        let tcp = conn.passive(t.reply, t.connect).await?;
        let (mut data, resumed) = conn
            .start_transfer(
                &format!("{verb} {arg}"),
                verb,
                tcp,
                t.tls_handshake,
                t.reply,
                versions,
                has_identity,
            )
            .await?;
        self.count_data_connection(resumed);
        let conn = self.conn.as_mut().ok_or(Error::ConnectionClosed)?;
        let mut buf = vec![0u8; CHUNK];
        let mut total = 0u64;
        loop {
            let n = match read_data(&mut data, &mut buf, t.data_idle).await {
                Ok(n) => n,
                Err(e) => {
                    drop(data);
                    let reply = conn.read_reply_within(REASON_WAIT).await;
                    return Err(data_failure(e, reply, resumed));
                }
            };
            if n == 0 {
                break;
            }
            total += n as u64;
            if total > limit {
                drop(data);
                // The server reports the aborted transfer; read it to keep
                // the control connection in step.
                let _ = conn.read_reply_within(REASON_WAIT).await;
                return Err(Error::TooLarge { name: arg.into(), limit });
            }
            let chunk = buf.get(..n).unwrap_or_default();
            timed(t.data_idle, || "writing the received data".into(), async {
                writer.write_all(chunk).await.map_err(|e| Error::io("writing the received data", e))
            })
            .await?;
        }
        let _ = tokio::time::timeout(REASON_WAIT, data.shutdown()).await;
        drop(data);
        writer.flush().await.map_err(|e| Error::io("writing the received data", e))?;
        let r = timed(
            t.transfer_complete,
            || format!("waiting for the end of the {verb} transfer"),
            conn.replies.read(&mut conn.ctrl),
        )
        .await?;
        if r.is_completion() {
            Ok(total)
        } else {
            Err(final_failure(verb, r, resumed))
        }
    }

    fn count_data_connection(&mut self, resumed: bool) {
        self.stats.opened += 1;
        if resumed {
            self.stats.resumed += 1;
        }
    }

    /// Lists the names in a directory (`NLST`), without directory parts.
    /// An empty directory gives an empty list (also from servers that answer
    /// 450/550 "No files found").
    pub async fn list(&mut self, dir: &str) -> Result<Vec<String>> {
        check_path(dir)?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let had_conn = self.conn.is_some();
            let r = self.list_inner(dir).await;
            let r = self.after(r);
            match r {
                Err(e) if attempt < 2 && had_conn && is_dead_connection(&e) => {
                    tracing::debug!(error = %e, "retrying the listing on a new connection");
                }
                r => return r,
            }
        }
    }

    async fn list_inner(&mut self, dir: &str) -> Result<Vec<String>> {
        let mut listing = Vec::new();
        match self.receive("NLST", dir, TransferMode::Ascii, &mut listing, 16 * 1024 * 1024).await {
            Ok(_) => {}
            Err(Error::Command { reply, .. })
                if (reply.code == 450 || reply.code == 550)
                    && reply.text.to_ascii_lowercase().contains("no files") =>
            {
                return Ok(Vec::new());
            }
            Err(e) => return Err(e),
        }
        let text = String::from_utf8_lossy(&listing);
        Ok(text
            .lines()
            .map(|l| l.trim_end_matches('\r'))
            .filter(|l| !l.is_empty())
            .map(|l| l.rsplit('/').next().unwrap_or(l).to_owned())
            .filter(|l| l != "." && l != "..")
            .collect())
    }

    /// Deletes a remote file (`DELE`).
    pub async fn delete(&mut self, remote: &str) -> Result<()> {
        check_path(remote)?;
        let t = self.config.timeouts().reply;
        let conn = self.ready().await?;
        let r = conn.expect(t, &format!("DELE {remote}"), "DELE").await.map(|_| ());
        self.after(r)
    }
}

fn is_dead_connection(e: &Error) -> bool {
    matches!(e, Error::ConnectionClosed | Error::Io { .. }) || e.reply_code() == Some(421)
}

fn check_path(path: &str) -> Result<()> {
    if path.is_empty() {
        return Err(Error::InvalidName { name: path.into(), reason: "empty path" });
    }
    if path.contains(['\r', '\n', '\0']) {
        return Err(Error::InvalidName {
            name: path.into(),
            reason: "a path cannot contain CR, LF or NUL",
        });
    }
    Ok(())
}

/// Reads from a data connection; the end is a close_notify (`Ok(0)`) or,
/// from servers that close without one, an unexpected EOF (also `Ok(0)`:
/// completeness is confirmed by the server's 226 reply).
async fn read_data(data: &mut DataTls, buf: &mut [u8], idle: Duration) -> Result<usize> {
    match tokio::time::timeout(idle, data.read(buf)).await {
        Ok(Ok(n)) => Ok(n),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(0),
        Ok(Err(e)) => Err(Error::io("reading from the data connection", e)),
        Err(_) => {
            Err(Error::Timeout { step: "reading from the data connection".into(), after: idle })
        }
    }
}

/// Sends close_notify, shuts the write side and drains the socket until the
/// server closes it.
async fn close_data(data: &mut DataTls, idle: Duration) -> Result<()> {
    timed(idle, || "closing the data connection".into(), async {
        data.shutdown().await.map_err(|e| Error::io("closing the data connection", e))
    })
    .await?;
    let mut sink = [0u8; 4096];
    let drain = async {
        for _ in 0..10_000 {
            match data.read(&mut sink).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    let _ = tokio::time::timeout(idle, drain).await;
    Ok(())
}

/// Explains a failed data connection, using the server's reply if it sent one.
fn data_failure(e: Error, reply: Option<Reply>, resumed: bool) -> Error {
    if let Some(r) = &reply {
        if refused_for_reuse(r, resumed) {
            return Error::DataConnectionWithoutReuse { reply };
        }
    }
    match e {
        Error::Io { step, source } => {
            Error::DataConnectionRefused { detail: format!("{step}: {source}"), reply }
        }
        Error::Tls { step, detail } => {
            Error::DataConnectionRefused { detail: format!("{step}: {detail}"), reply }
        }
        other => other,
    }
}

/// The error for a failure reply that ends a transfer. vsftpd sends `150`,
/// then checks session reuse and ends with `522 ... session reuse required`;
/// ProFTPD ends with `425 Unable to build data connection: Operation not
/// permitted`. A data connection that did not resume its session and fails
/// like this was refused for lack of reuse.
fn final_failure(verb: &str, reply: Reply, resumed: bool) -> Error {
    if refused_for_reuse(&reply, resumed) {
        Error::DataConnectionWithoutReuse { reply: Some(reply) }
    } else {
        Error::Command { command: verb.into(), reply }
    }
}

/// Whether a failure reply about a data connection means the server refused
/// it for lack of TLS session reuse: the text says so, or the connection did
/// not resume its session and the reply is one servers use for that (425
/// ProFTPD, 522 vsftpd, 534 policy).
fn refused_for_reuse(reply: &Reply, resumed: bool) -> bool {
    reply.is_failure()
        && (mentions_reuse(&reply.text) || (!resumed && matches!(reply.code, 425 | 522 | 534)))
}

fn mentions_reuse(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    t.contains("reuse") || t.contains("session resum") || t.contains("resumption")
}

impl Connection {
    async fn send(&mut self, timeout: Duration, line: &str, shown: &str) -> Result<()> {
        let mut bytes = Vec::with_capacity(line.len() + 2);
        bytes.extend_from_slice(line.as_bytes());
        bytes.extend_from_slice(b"\r\n");
        tracing::trace!(command = shown, "->");
        timed(timeout, || format!("sending {shown}"), async {
            let s = self.ctrl.get_mut();
            s.write_all(&bytes).await.map_err(|e| Error::io(format!("sending {shown}"), e))?;
            s.flush().await.map_err(|e| Error::io(format!("sending {shown}"), e))
        })
        .await
    }

    /// Sends a command and reads its reply (any code).
    async fn command(&mut self, timeout: Duration, line: &str, shown: &str) -> Result<Reply> {
        self.send(timeout, line, shown).await?;
        let r = timed(
            timeout,
            || format!("waiting for the reply to {shown}"),
            self.replies.read(&mut self.ctrl),
        )
        .await?;
        tracing::trace!(command = shown, %r, "<-");
        Ok(r)
    }

    /// Sends a command and requires a 2xx reply.
    async fn expect(&mut self, timeout: Duration, line: &str, shown: &str) -> Result<Reply> {
        let r = self.command(timeout, line, shown).await?;
        if r.is_completion() {
            Ok(r)
        } else {
            Err(Error::Command { command: shown.into(), reply: r })
        }
    }

    async fn read_reply_within(&mut self, wait: Duration) -> Option<Reply> {
        tokio::time::timeout(wait, self.replies.read(&mut self.ctrl))
            .await
            .ok()
            .and_then(|r| r.ok())
    }

    async fn set_type(&mut self, timeout: Duration, mode: TransferMode) -> Result<()> {
        if self.transfer_type == Some(mode) {
            return Ok(());
        }
        let cmd = match mode {
            TransferMode::Binary => "TYPE I",
            TransferMode::Ascii => "TYPE A",
        };
        self.expect(timeout, cmd, cmd).await?;
        self.transfer_type = Some(mode);
        Ok(())
    }

    /// `EPSV` (or `PASV` if the server does not know it) and a TCP
    /// connection to the port it names, always on the control host.
    async fn passive(
        &mut self,
        reply_timeout: Duration,
        connect_timeout: Duration,
    ) -> Result<TcpStream> {
        let mut port = None;
        if self.epsv {
            let r = self.command(reply_timeout, "EPSV", "EPSV").await?;
            if r.code == 229 {
                port = Some(parse_epsv(&r)?);
            } else if matches!(r.code, 500 | 501 | 502 | 504 | 522) {
                self.epsv = false;
            } else {
                return Err(Error::Command { command: "EPSV".into(), reply: r });
            }
        }
        let port = match port {
            Some(p) => p,
            None => {
                let r = self.expect(reply_timeout, "PASV", "PASV").await?;
                parse_pasv(&r)?
            }
        };
        // Never the address in the reply: servers behind NAT announce
        // addresses that are wrong or unreachable.
        let addr = SocketAddr::new(self.peer_ip, port);
        timed(connect_timeout, || format!("opening the data connection to {addr}"), async {
            let s = TcpStream::connect(addr).await.map_err(|e| Error::DataConnectionRefused {
                detail: format!("cannot connect to {addr}: {e}"),
                reply: None,
            })?;
            let _ = s.set_nodelay(true);
            Ok(s)
        })
        .await
    }

    /// Sends the transfer command and does the data connection's TLS
    /// handshake (resuming the control session), racing the server's
    /// reply: a refusal can come before or after the handshake.
    #[allow(clippy::too_many_arguments)]
    async fn start_transfer(
        &mut self,
        line: &str,
        verb: &str,
        tcp: TcpStream,
        handshake_timeout: Duration,
        reply_timeout: Duration,
        versions: crate::config::TlsVersions,
        has_identity: bool,
    ) -> Result<(DataTls, bool)> {
        self.send(reply_timeout, line, verb).await?;
        let connector = TlsConnector::from(self.tls.clone());
        let handshake = connector
            .connect(self.server_name.clone(), BufReader::with_capacity(DATA_READ_BUFFER, tcp));
        tokio::pin!(handshake);
        let mut preliminary: Option<Reply> = None;
        let deadline = tokio::time::sleep(handshake_timeout.max(reply_timeout));
        tokio::pin!(deadline);
        let step = "doing the TLS handshake on the data connection";
        let tls = loop {
            tokio::select! {
                hs = &mut handshake => match hs {
                    Ok(tls) => break tls,
                    Err(e) => {
                        let err = map_tls_io(e, step, has_identity, versions);
                        let reply = self.read_reply_within(REASON_WAIT).await;
                        if let Some(r) = &reply {
                            if r.is_failure() && !refused_for_reuse(r, false) {
                                return Err(Error::Command { command: verb.into(), reply: r.clone() });
                            }
                        }
                        return Err(data_failure(err, reply, false));
                    }
                },
                r = self.replies.read(&mut self.ctrl), if preliminary.is_none() => {
                    let r = r?;
                    if r.is_preliminary() {
                        preliminary = Some(r);
                    } else if r.is_failure() {
                        // Before the handshake it is not known whether it resumes.
                        if refused_for_reuse(&r, true) {
                            return Err(Error::DataConnectionWithoutReuse { reply: Some(r) });
                        }
                        return Err(Error::Command { command: verb.into(), reply: r });
                    } else {
                        return Err(Error::Protocol(format!("unexpected reply to {verb} before the transfer: {r}")));
                    }
                },
                _ = &mut deadline => {
                    return Err(Error::Timeout { step: format!("starting the {verb} transfer"), after: handshake_timeout.max(reply_timeout) });
                }
            }
        };
        let resumed = tls.get_ref().1.handshake_kind() == Some(HandshakeKind::Resumed);
        if preliminary.is_none() {
            let r = timed(
                reply_timeout,
                || format!("waiting for the reply to {verb}"),
                self.replies.read(&mut self.ctrl),
            )
            .await?;
            if !r.is_preliminary() {
                if r.is_failure() {
                    return Err(final_failure(verb, r, resumed));
                }
                return Err(Error::Protocol(format!(
                    "unexpected reply to {verb} before the transfer: {r}"
                )));
            }
        }
        tracing::debug!(verb, resumed, "data connection open");
        Ok((tls, resumed))
    }
}

fn parse_epsv(r: &Reply) -> Result<u16> {
    // "Entering Extended Passive Mode (|||6446|)"
    let bad = || Error::Protocol(format!("cannot read the port from the EPSV reply: {r}"));
    let open = r.text.find('(').ok_or_else(bad)?;
    let inner = r.text.get(open + 1..).ok_or_else(bad)?;
    let close = inner.find(')').ok_or_else(bad)?;
    let inner = inner.get(..close).ok_or_else(bad)?;
    let delim = inner.chars().next().ok_or_else(bad)?;
    let parts: Vec<&str> = inner.split(delim).collect();
    // "", "", "", "6446", ""
    match parts.as_slice() {
        ["", _, _, port, ""] => port.parse().map_err(|_| bad()),
        _ => Err(bad()),
    }
}

fn parse_pasv(r: &Reply) -> Result<u16> {
    // "Entering Passive Mode (127,0,0,1,195,80)" (parentheses optional)
    let bad = || Error::Protocol(format!("cannot read the port from the PASV reply: {r}"));
    let start = r.text.find(|c: char| c.is_ascii_digit()).ok_or_else(bad)?;
    let tail = r.text.get(start..).ok_or_else(bad)?;
    let end = tail.find(|c: char| !(c.is_ascii_digit() || c == ',')).unwrap_or(tail.len());
    let nums: Vec<u16> = tail
        .get(..end)
        .ok_or_else(bad)?
        .split(',')
        .map(|n| n.parse::<u16>().map_err(|_| bad()))
        .collect::<Result<_>>()?;
    match nums.as_slice() {
        [_, _, _, _, hi, lo] if *hi < 256 && *lo < 256 => Ok(hi * 256 + lo),
        _ => Err(bad()),
    }
}

/// Turns an I/O error from tokio-rustls into an error that says what the
/// TLS problem was.
fn map_tls_io(
    e: std::io::Error,
    step: &str,
    has_identity: bool,
    versions: crate::config::TlsVersions,
) -> Error {
    let inner = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()).cloned();
    match inner {
        Some(tls) => map_tls(tls, step, has_identity, versions),
        None => Error::io(step, e),
    }
}

fn map_tls(
    e: rustls::Error,
    step: &str,
    has_identity: bool,
    versions: crate::config::TlsVersions,
) -> Error {
    use rustls::Error as E;
    match e {
        E::AlertReceived(alert) => match alert {
            AlertDescription::BadCertificate
            | AlertDescription::UnsupportedCertificate
            | AlertDescription::CertificateRevoked
            | AlertDescription::CertificateExpired
            | AlertDescription::CertificateUnknown
            | AlertDescription::UnknownCA
            | AlertDescription::AccessDenied
            | AlertDescription::CertificateRequired => Error::ClientCertificateRejected {
                detail: format!(
                    "TLS alert {alert:?} while {step}{}",
                    if has_identity { "" } else { "; no client certificate is configured" }
                ),
            },
            AlertDescription::HandshakeFailure if !has_identity => Error::ClientCertificateRejected {
                detail: format!("TLS alert HandshakeFailure while {step}; no client certificate is configured and the server requires one"),
            },
            AlertDescription::ProtocolVersion => Error::TlsVersion {
                allowed: versions.to_string(),
                detail: format!("TLS alert ProtocolVersion while {step}"),
            },
            other => Error::Tls {
                step: step.into(),
                detail: format!("TLS alert {other:?} from the server"),
            },
        },
        E::PeerIncompatible(p) => {
            let d = format!("{p:?}");
            if d.contains("Tls1") || d.contains("Version") {
                Error::TlsVersion {
                    allowed: versions.to_string(),
                    detail: d,
                }
            } else {
                Error::Tls {
                    step: step.into(),
                    detail: d,
                }
            }
        }
        E::InvalidCertificate(c) => Error::ServerCertificate {
            detail: format!("{c:?}"),
        },
        other => Error::Tls {
            step: step.into(),
            detail: other.to_string(),
        },
    }
}

/// With TLS 1.3 (and some servers on 1.2) a rejected client certificate
/// shows only on the first read after the handshake.
fn map_post_handshake(e: Error, has_identity: bool, versions: crate::config::TlsVersions) -> Error {
    match e {
        Error::Io { step, source } => {
            let tls = source.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()).cloned();
            match tls {
                Some(tls) => map_tls(tls, &step, has_identity, versions),
                None => Error::Io { step, source },
            }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(code: u16, text: &str) -> Reply {
        Reply { code, text: text.into() }
    }

    #[test]
    fn epsv_and_pasv_ports() {
        assert_eq!(
            parse_epsv(&reply(229, "Entering Extended Passive Mode (|||6446|)")).ok(),
            Some(6446)
        );
        assert_eq!(parse_epsv(&reply(229, "EPSV ok (!!!40001!)")).ok(), Some(40001));
        assert!(parse_epsv(&reply(229, "Entering Extended Passive Mode")).is_err());
        assert_eq!(
            parse_pasv(&reply(227, "Entering Passive Mode (10,0,0,7,156,64).")).ok(),
            Some(40000)
        );
        assert_eq!(
            parse_pasv(&reply(227, "Entering Passive Mode 10,0,0,7,156,65")).ok(),
            Some(40001)
        );
        assert!(parse_pasv(&reply(227, "Entering Passive Mode (10,0,0,7,156)")).is_err());
        assert!(parse_pasv(&reply(227, "Entering Passive Mode (10,0,0,7,300,1)")).is_err());
    }

    #[test]
    fn reuse_refusals_are_named() {
        let e = data_failure(
            Error::ConnectionClosed,
            Some(reply(522, "SSL connection failed: session reuse required")),
            false,
        );
        assert!(e.to_string().contains("server refused data connection without TLS session reuse"));
        let e = data_failure(Error::ConnectionClosed, Some(reply(550, "No such file")), true);
        assert!(!e.to_string().contains("reuse"));
        // ProFTPD's refusal names no reason; a data connection that did not
        // resume makes it one.
        let proftpd = reply(425, "Unable to build data connection: Operation not permitted");
        assert!(matches!(
            final_failure("NLST", proftpd.clone(), false),
            Error::DataConnectionWithoutReuse { .. }
        ));
        assert!(matches!(final_failure("NLST", proftpd, true), Error::Command { .. }));
        // An aborted transfer is not a reuse problem.
        let aborted = reply(426, "Failure writing network stream.");
        assert!(matches!(final_failure("RETR", aborted, false), Error::Command { .. }));
    }
}
