//! Helpers shared by the session fault, hostile-peer and load tests: nodes with file
//! stores, a responder serving on 127.0.0.1, a cutting STB proxy, and a raw peer that
//! speaks framed exchange buffers by hand.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, dead_code, unreachable_pub)]

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use oftp2_codec::command::{Esid, Sfid, Ssid};
use oftp2_codec::fields::{
    BufferSize, CipherSuite, Credit, FileCompression, FileEnveloping, FileSize, OdetteId,
    RecordFormat, RecordLength, RestartPosition, SecurityLevel, SendReceive, UserData, Utf8Text,
    VirtualFileDate, VirtualFileTime,
};
use oftp2_codec::reason::EsidReason;
use oftp2_codec::record::file_size;
use oftp2_codec::sth::{frame, Deframer};
use oftp2_codec::{Command, ProtocolLevel};
use oftp2_session::config::{Config, Partner, TextLineHandling, Transport};
use oftp2_session::driver::SessionReport;
use oftp2_session::node::Node;
use oftp2_session::protection::FileServices;
use oftp2_session::store::{FileStore, FsStore, OutgoingFile, OutgoingSource, OutgoingState};
use oftp2_session::transport::{Listener, ServerSecurity};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub const A: &str = "O0013000000000000001";
pub const B: &str = "O0013000000000000002";

pub fn id(code: &str) -> OdetteId {
    code.parse().unwrap()
}

/// The password `code` sends: derived from its last five characters.
pub fn password_of(code: &str) -> String {
    format!("PW{}", &code[code.len() - 5..])
}

/// `peer` as a partner of `own`.
pub fn partner(peer: &str, own: &str, transport: Transport, address: Option<String>) -> Partner {
    Partner {
        odette_id: id(peer),
        password: password_of(peer).parse().unwrap(),
        our_password: password_of(own).parse().unwrap(),
        directions: SendReceive::Both,
        buffer_size: None,
        credit: None,
        text_lines: TextLineHandling::KeepCrLf,
        address,
        transport,
        secure_authentication: false,
        file_security: Default::default(),
    }
}

/// A scratch directory: on tmpfs (`/dev/shm`) where there is one, so that the store's
/// fsyncs cost little, else in the default temporary directory.
pub fn scratch() -> TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(dir) = tempfile::Builder::new().prefix("oftp-test-").tempdir_in(shm) {
            return dir;
        }
    }
    TempDir::new().unwrap()
}

/// A node with its own store.
pub struct Site {
    pub node: Node<FsStore>,
    pub dir: TempDir,
}

/// Session parameters of a test site.
#[derive(Clone, Copy)]
pub struct Params {
    pub buffer_size: u32,
    pub credit: u16,
    pub idle: Duration,
}

impl Default for Params {
    fn default() -> Self {
        Params { buffer_size: 99_999, credit: 999, idle: Duration::from_secs(10) }
    }
}

pub fn config(own: &str, partners: Vec<Partner>, params: Params) -> Config {
    let mut config = Config::new(id(own));
    config.partners = partners;
    config.buffer_size = BufferSize::new(params.buffer_size.into()).unwrap();
    config.credit = Credit::new(params.credit.into()).unwrap();
    config.limits.idle_timeout = params.idle;
    config.limits.connect_timeout = Duration::from_secs(10);
    config
}

pub fn site(own: &str, partners: Vec<Partner>, params: Params) -> Site {
    site_with(config(own, partners, params))
}

pub fn site_with(config: Config) -> Site {
    let dir = scratch();
    let store = FsStore::open(dir.path(), config.odette_id).unwrap();
    Site { node: Node::new(Arc::new(config), Arc::new(store)), dir }
}

impl Site {
    pub fn store(&self) -> &FsStore {
        self.node.store()
    }

    /// The files in the inbox for `from`, by name.
    pub fn inbox(&self, from: &str) -> Vec<(String, Vec<u8>)> {
        inbox_of(self.store(), from)
    }

    /// Whether every outbox entry for `to` is delivered (its EERP came back) and no
    /// receipt is owed to it any more.
    pub fn settled_with(&self, to: &str) -> bool {
        let all = self.store().outgoing_all(&id(to)).unwrap();
        all.iter().all(|e| matches!(e.state, OutgoingState::Delivered { .. }))
            && self.store().pending_receipts(&id(to)).unwrap().is_empty()
    }
}

pub fn inbox_of(store: &FsStore, from: &str) -> Vec<(String, Vec<u8>)> {
    let inbox = store.inbox(&id(from));
    let mut files: Vec<(String, Vec<u8>)> = match std::fs::read_dir(&inbox) {
        Ok(entries) => entries
            .map(|e| e.unwrap().path())
            .map(|p| {
                (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap())
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files
}

/// The names in a folder (empty if it does not exist).
pub fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(entries) => entries.map(|e| e.unwrap().file_name().into_string().unwrap()).collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

/// A file to queue.
#[derive(Clone, Debug)]
pub struct TestFile {
    pub name: &'static str,
    pub format: RecordFormat,
    pub lrecl: u64,
    pub data: Vec<u8>,
}

impl TestFile {
    pub fn new(name: &'static str, format: RecordFormat, lrecl: u64, data: Vec<u8>) -> Self {
        TestFile { name, format, lrecl, data }
    }
}

pub fn queue(site: &Site, to: &str, file: &TestFile) {
    queue_in(site.store(), to, file);
}

pub fn queue_in(store: &FsStore, to: &str, file: &TestFile) {
    let outgoing = OutgoingFile {
        dataset_name: file.name.parse().unwrap(),
        format: file.format,
        max_record_length: RecordLength::new(file.lrecl).unwrap(),
        description: Utf8Text::new("session test").unwrap(),
        destination: id(to),
        originator: None,
        user_data: UserData::EMPTY,
        source: OutgoingSource::Bytes(file.data.clone()),
        services: FileServices::NONE,
    };
    store.queue_outgoing(&id(to), outgoing).unwrap();
}

/// EDIFACT-like octets, different for each seed.
pub fn content(n: usize, seed: u8) -> Vec<u8> {
    const TEXT: &[u8] = b"UNH+1+ORDERS:D:96A:UN'BGM+220+4711'DTM+137:20261123:102'\r\n";
    (0..n).map(|i| TEXT[(i + seed as usize) % TEXT.len()]).collect()
}

/// Octets that differ from position to position, over a longer period.
pub fn binary(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| ((i * 7 + i / 251 + seed as usize) % 256) as u8).collect()
}

/// Text with CR LF line ends.
pub fn text_lines(lines: usize, seed: u8) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..lines {
        out.extend_from_slice(
            format!("LINE {i:05} SEED {seed} {}\r\n", "x".repeat(i % 40)).as_bytes(),
        );
    }
    out
}

/// What a responder's `serve` reported: one entry per session, the error in words.
pub type Reports = Arc<Mutex<Vec<Result<SessionReport, String>>>>;

/// A responder serving on 127.0.0.1 until dropped (or `stop`ped).
pub struct Serving {
    pub address: String,
    pub reports: Reports,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Serving {
    /// Waits until `n` sessions have reported (at most `within`).
    pub async fn wait_reports(
        &self,
        n: usize,
        within: Duration,
    ) -> Vec<Result<SessionReport, String>> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            {
                let reports = self.reports.lock().unwrap();
                if reports.len() >= n {
                    return reports.clone();
                }
            }
            let reported = self.count();
            assert!(
                tokio::time::Instant::now() < deadline,
                "only {reported} of {n} responder sessions reported within {within:?}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    pub fn count(&self) -> usize {
        self.reports.lock().unwrap().len()
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(5), task).await.unwrap().unwrap();
        }
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Starts `node` serving on 127.0.0.1.
pub async fn serve(node: &Node<FsStore>, security: ServerSecurity) -> Serving {
    let listener = Listener::bind("127.0.0.1:0", security).await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let reports: Reports = Arc::new(Mutex::new(Vec::new()));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let node = node.clone();
    let sink = reports.clone();
    let task = tokio::spawn(async move {
        node.serve(listener, async { stopped.await.unwrap_or(()) }, move |report| {
            sink.lock().unwrap().push(report.map_err(|e| e.to_string()));
        })
        .await;
    });
    Serving { address, reports, stop: Some(stop), task: Some(task) }
}

// ------------------------------------------------------------------ the cutting proxy

/// Which way a buffer went through the proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Way {
    /// From the initiator (the side that connected to the proxy) to the responder.
    Up,
    /// From the responder to the initiator.
    Down,
}

/// When the proxy drops a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cut {
    /// Forward everything.
    Never,
    /// Forward `n` stream buffers (both ways counted together), then drop both sides
    /// instead of forwarding the next one.
    AfterBuffers(usize),
    /// Drop both sides instead of forwarding the `nth` (1-based) buffer of this command
    /// (its first octet) going this way.
    AtCommand { code: u8, way: Way, nth: usize },
    /// Forward `n` stream buffers, then forward nothing more either way but keep both
    /// connections open: the peers must notice by their idle timeouts.
    StallAfter(usize),
    /// Forward the octets as they come, without looking for stream buffers (TLS), and
    /// drop both sides after `n` of them (both ways counted together).
    AfterOctets(usize),
}

/// A TCP proxy on 127.0.0.1 that forwards stream transmission buffers one by one,
/// logs them, and drops connections where it is told to.
pub struct Proxy {
    pub address: String,
    /// Every buffer forwarded, with the connection's number (0-based) and its way.
    pub log: Arc<Mutex<Vec<(usize, Way, Bytes)>>>,
    plans: Arc<Mutex<VecDeque<Cut>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Proxy {
    /// A proxy to `target`; each connection takes the next plan of `plans`, `Cut::Never`
    /// once they are used up.
    pub async fn start(target: &str, plans: Vec<Cut>) -> Proxy {
        Self::start_with(target, plans, Cut::Never).await
    }

    /// A proxy that forwards octets without looking at them (for TLS), cutting where
    /// the [`Cut::AfterOctets`] plans say.
    pub async fn start_octets(target: &str, plans: Vec<Cut>) -> Proxy {
        Self::start_with(target, plans, Cut::AfterOctets(usize::MAX)).await
    }

    async fn start_with(target: &str, plans: Vec<Cut>, default: Cut) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let log = Arc::new(Mutex::new(Vec::new()));
        let plans = Arc::new(Mutex::new(VecDeque::from(plans)));
        let target = target.to_owned();
        let (task_log, task_plans) = (log.clone(), plans.clone());
        let task = tokio::spawn(async move {
            for connection in 0.. {
                let Ok((client, _)) = listener.accept().await else { return };
                let plan = task_plans.lock().unwrap().pop_front().unwrap_or(default);
                let Ok(server) = TcpStream::connect(&target).await else { return };
                let log = task_log.clone();
                match plan {
                    Cut::AfterOctets(n) => tokio::spawn(relay_octets(client, server, n, log)),
                    _ => tokio::spawn(relay(connection, client, server, plan, log)),
                };
            }
        });
        Proxy { address, log, plans, task }
    }

    /// Plans for the next connections.
    pub fn plan(&self, cuts: impl IntoIterator<Item = Cut>) {
        self.plans.lock().unwrap().extend(cuts);
    }

    /// The buffers forwarded on connection `connection`.
    pub fn buffers(&self, connection: usize) -> Vec<(Way, Bytes)> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|(c, ..)| *c == connection)
            .map(|(_, w, b)| (*w, b.clone()))
            .collect()
    }

    /// Every command forwarded, decoded at level 2.0.
    pub fn commands(&self) -> Vec<(usize, Way, Command)> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter_map(|(c, w, b)| {
                Command::from_exchange_buffer(b.clone(), ProtocolLevel::V2_0)
                    .ok()
                    .map(|cmd| (*c, *w, cmd))
            })
            .collect()
    }
}

/// Forwards octets both ways until one side closes or `limit` octets have passed; the
/// count of octets forwarded is logged as one empty entry per octet chunk.
async fn relay_octets(
    client: TcpStream,
    server: TcpStream,
    limit: usize,
    log: Arc<Mutex<Vec<(usize, Way, Bytes)>>>,
) {
    let _ = (client.set_nodelay(true), server.set_nodelay(true));
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let (mut up, mut down) = (vec![0u8; 16 * 1024], vec![0u8; 16 * 1024]);
    let mut passed = 0usize;
    loop {
        let (read, way) = tokio::select! {
            read = client_read.read(&mut up) => (read, Way::Up),
            read = server_read.read(&mut down) => (read, Way::Down),
        };
        let n = match read {
            Ok(0) | Err(_) => {
                let _ = client_write.shutdown().await;
                let _ = server_write.shutdown().await;
                return;
            }
            Ok(n) => n,
        };
        let allowed = n.min(limit - passed);
        let (octets, to) = match way {
            Way::Up => (&up[..allowed], &mut server_write),
            Way::Down => (&down[..allowed], &mut client_write),
        };
        if to.write_all(octets).await.is_err() {
            return;
        }
        passed += allowed;
        log.lock().unwrap().push((usize::MAX, way, Bytes::copy_from_slice(octets)));
        if passed == limit {
            return; // drops all four halves
        }
    }
}

async fn relay(
    connection: usize,
    client: TcpStream,
    server: TcpStream,
    plan: Cut,
    log: Arc<Mutex<Vec<(usize, Way, Bytes)>>>,
) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let (mut up, mut down) = (BytesMut::new(), BytesMut::new());
    let mut deframer = Deframer::new();
    let mut forwarded = 0usize;
    let mut seen: Vec<(u8, Way, usize)> = Vec::new();
    let mut stalled = false;
    loop {
        let (read, way) = tokio::select! {
            read = client_read.read_buf(&mut up) => (read, Way::Up),
            read = server_read.read_buf(&mut down) => (read, Way::Down),
        };
        match read {
            Ok(0) | Err(_) if stalled => return,
            Ok(0) | Err(_) => {
                // One side closed: close the other's reading half, and let the other
                // side's last octets (its ESID) through before closing ours.
                let (rest, to, closed_side) = match way {
                    Way::Up => (&mut server_read, &mut client_write, &mut server_write),
                    Way::Down => (&mut client_read, &mut server_write, &mut client_write),
                };
                let _ = closed_side.shutdown().await;
                let mut tail = Vec::new();
                let _ =
                    tokio::time::timeout(Duration::from_secs(2), rest.read_to_end(&mut tail)).await;
                let _ = to.write_all(&tail).await;
                let _ = to.shutdown().await;
                return;
            }
            Ok(_) => {}
        }
        let stream = match way {
            Way::Up => &mut up,
            Way::Down => &mut down,
        };
        loop {
            let buffer = match deframer.decode(stream) {
                Ok(Some(buffer)) => buffer,
                Ok(None) => break,
                Err(_) => return, // not OFTP: drop both sides
            };
            let code = buffer.first().copied().unwrap_or(0);
            let nth = match seen.iter_mut().find(|(c, w, _)| *c == code && *w == way) {
                Some(entry) => {
                    entry.2 += 1;
                    entry.2
                }
                None => {
                    seen.push((code, way, 1));
                    1
                }
            };
            let cut = match plan {
                Cut::Never | Cut::StallAfter(_) | Cut::AfterOctets(_) => false,
                Cut::AfterBuffers(n) => forwarded >= n,
                Cut::AtCommand { code: c, way: w, nth: k } => c == code && w == way && k == nth,
            };
            if cut {
                return; // drops all four halves: both peers see the connection end
            }
            stalled = stalled || matches!(plan, Cut::StallAfter(n) if forwarded >= n);
            if stalled {
                continue; // swallowed
            }
            forwarded += 1;
            log.lock().unwrap().push((connection, way, buffer.clone()));
            let mut framed = BytesMut::new();
            frame(&buffer, &mut framed).unwrap();
            let to = match way {
                Way::Up => &mut server_write,
                Way::Down => &mut client_write,
            };
            if to.write_all(&framed).await.is_err() {
                return;
            }
        }
    }
}

// ------------------------------------------------------------------ a raw peer

/// A peer speaking framed exchange buffers by hand over a TcpStream.
pub struct RawPeer {
    pub stream: TcpStream,
    deframer: Deframer,
    pending: BytesMut,
}

impl RawPeer {
    pub fn new(stream: TcpStream) -> Self {
        RawPeer { stream, deframer: Deframer::new(), pending: BytesMut::new() }
    }

    pub async fn connect(address: &str) -> Self {
        Self::new(TcpStream::connect(address).await.unwrap())
    }

    /// Connects with a small receive buffer (no autotuning), so that a peer writing to
    /// us blocks soon once we stop reading.
    pub async fn connect_small_window(address: &str) -> Self {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(8 * 1024).unwrap();
        Self::new(socket.connect(address.parse().unwrap()).await.unwrap())
    }

    /// Sends one exchange buffer behind its stream transmission header.
    pub async fn send(&mut self, buffer: &[u8]) {
        let mut framed = BytesMut::new();
        frame(buffer, &mut framed).unwrap();
        self.stream.write_all(&framed).await.unwrap();
    }

    /// Sends a command, encoded at level 2.0.
    pub async fn send_command(&mut self, command: &Command) {
        let octets = command.to_bytes(ProtocolLevel::V2_0).unwrap();
        self.send(&octets).await;
    }

    /// Sends octets as they are (no header added). Errors are ignored: the peer may have
    /// closed already.
    pub async fn send_raw(&mut self, octets: &[u8]) {
        let _ = self.stream.write_all(octets).await;
    }

    /// The next exchange buffer, `None` when the connection ends or nothing comes
    /// within `within`.
    pub async fn recv(&mut self, within: Duration) -> Option<Bytes> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(buffer) = self.deframer.decode(&mut self.pending).unwrap() {
                return Some(buffer);
            }
            let read =
                tokio::time::timeout_at(deadline, self.stream.read_buf(&mut self.pending)).await;
            match read {
                Ok(Ok(n)) if n > 0 => {}
                _ => return None,
            }
        }
    }

    /// The next command, decoded at level 2.0.
    pub async fn recv_command(&mut self, within: Duration) -> Option<Command> {
        let buffer = self.recv(within).await?;
        Some(Command::from_exchange_buffer(buffer, ProtocolLevel::V2_0).unwrap())
    }

    /// Reads until an ESID arrives (other commands are skipped) and returns it; panics if
    /// the connection ends or `within` passes first.
    pub async fn expect_esid(&mut self, within: Duration) -> Esid {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.recv_command(left).await {
                Some(Command::Esid(esid)) => return esid,
                Some(_) => {}
                None => panic!("no ESID within {within:?}"),
            }
        }
    }

    /// Whether the peer closed the connection (EOF or reset) within `within`, ignoring
    /// what it still sends.
    pub async fn closed_within(&mut self, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        let mut sink = vec![0u8; 64 * 1024];
        loop {
            match tokio::time::timeout_at(deadline, self.stream.read(&mut sink)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                Ok(Ok(_)) => {}
                Err(_) => return false,
            }
        }
    }
}

/// An SFID from `from` to `to` for a U file, as a hand-written peer sends it.
pub fn raw_sfid(from: &str, to: &str, name: &str, announced: u64) -> Sfid {
    Sfid {
        dataset_name: name.parse().unwrap(),
        date: VirtualFileDate::new(2026, 11, 23).unwrap(),
        time: VirtualFileTime::new(16, 0, 0, 1).unwrap(),
        user_data: UserData::EMPTY,
        destination: id(to),
        originator: id(from),
        format: RecordFormat::Unstructured,
        max_record_length: RecordLength::new(0).unwrap(),
        file_size: file_size(announced),
        original_file_size: FileSize::new(0).unwrap(),
        restart_position: RestartPosition::ZERO,
        security_level: SecurityLevel::None,
        cipher_suite: CipherSuite::NONE,
        compression: FileCompression::None,
        enveloping: FileEnveloping::None,
        signed_eerp_request: false,
        description: Utf8Text::empty(),
    }
}

pub fn raw_ssid(code: &str, password: &str, buffer: u64, credit: u64) -> Ssid {
    Ssid {
        level: ProtocolLevel::V2_0,
        code: id(code),
        password: password.parse().unwrap(),
        buffer_size: BufferSize::new(buffer).unwrap(),
        send_receive: SendReceive::Both,
        compression: false,
        restart: true,
        special_logic: false,
        credit: Credit::new(credit).unwrap(),
        secure_authentication: false,
        user_data: UserData::EMPTY,
    }
}

/// A listener on 127.0.0.1 whose connections have a small receive buffer (see
/// [`RawPeer::connect_small_window`]).
pub fn listen_small_window() -> TcpListener {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(8 * 1024).unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    socket.listen(16).unwrap()
}

/// Asserts an ESID has `reason`.
pub fn assert_esid(esid: &Esid, reason: EsidReason) {
    assert_eq!(esid.reason, reason, "ESID {}: {}", esid.reason, esid.text.as_str());
}

/// Paths of the regular files under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}
