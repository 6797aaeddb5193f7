//! A small in-process FTPS server on tokio-rustls that behaves like the
//! gateway: explicit TLS only, a client certificate from the test CA
//! required, TLS session reuse required on data connections, passive mode,
//! and a gateway simulator that answers uploads with status files in `out/`.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{HandshakeKind, RootCertStore, ServerConfig};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio_rustls::TlsAcceptor;

use super::pki::Pki;

pub const USER: &str = "CVR_30808460_UI_e7057bbd-5e7d-4200-ad81-623333d5c657";
pub const PASS: &str = "gateway-password";

#[derive(Clone)]
pub struct Options {
    pub require_reuse: bool,
    pub epsv: bool,
    /// The address announced in PASV replies (the client must ignore it).
    pub pasv_announce: [u8; 4],
    pub simulate_gateway: bool,
    /// Time between the status files the simulator writes.
    pub status_delay: Duration,
    /// Pause between reads of an upload (a slow server).
    pub stor_throttle: Option<Duration>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            require_reuse: true,
            epsv: true,
            pasv_announce: [10, 255, 255, 1],
            simulate_gateway: true,
            status_delay: Duration::from_millis(0),
            stor_throttle: None,
        }
    }
}

#[derive(Default)]
pub struct State {
    /// Files by path without a leading slash ("out/x", "Service/y").
    pub files: BTreeMap<String, Vec<u8>>,
    /// Every command received (passwords masked), per session number.
    pub commands: Vec<(usize, String)>,
    /// Names that were uploaded (the gateway's used names).
    pub used_names: BTreeSet<String>,
    /// STOR commands received.
    pub stor_count: u64,
    /// Data connections that resumed / did a full handshake.
    pub data_resumed: u64,
    pub data_full: u64,
    pub sessions: usize,
    /// The bytes of the last STOR as they came off the wire.
    pub last_raw: Vec<u8>,
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub state: Arc<Mutex<State>>,
    /// Bytes received by STOR so far (live, also mid-transfer).
    pub stor_bytes: Arc<AtomicU64>,
    kick: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn load_certs(path: &Path) -> Vec<CertificateDer<'static>> {
    rustls_pemfile::certs(&mut &std::fs::read(path).unwrap()[..]).collect::<Result<_, _>>().unwrap()
}

fn load_key(path: &Path) -> PrivateKeyDer<'static> {
    rustls_pemfile::private_key(&mut &std::fs::read(path).unwrap()[..]).unwrap().unwrap()
}

pub fn server_tls(
    pki: &Pki,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<ServerConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = RootCertStore::empty();
    for c in load_certs(&pki.client_cas) {
        roots.add(c).unwrap();
    }
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .unwrap();
    let mut cfg = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(load_certs(&pki.server.cert), load_key(&pki.server.key))
        .unwrap();
    cfg.session_storage = rustls::server::ServerSessionMemoryCache::new(1024);
    Arc::new(cfg)
}

impl TestServer {
    pub async fn start(pki: &Pki, options: Options) -> Self {
        Self::start_with_tls(server_tls(pki, &[&rustls::version::TLS12]), options).await
    }

    /// A server that reads uploads slowly (64 KiB per 20 ms), so that a
    /// test can interrupt an upload midway.
    pub async fn start_slow(pki: &Pki) -> Self {
        let options =
            Options { stor_throttle: Some(Duration::from_millis(20)), ..Options::default() };
        Self::start(pki, options).await
    }

    pub async fn start_with_tls(tls: Arc<ServerConfig>, options: Options) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let stor_bytes = Arc::new(AtomicU64::new(0));
        let kick = Arc::new(Notify::new());
        let (st, sb, k) = (state.clone(), stor_bytes.clone(), kick.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else { return };
                let session = Session {
                    id: {
                        let mut s = st.lock().unwrap();
                        s.sessions += 1;
                        s.sessions
                    },
                    tls: tls.clone(),
                    options: options.clone(),
                    state: st.clone(),
                    stor_bytes: sb.clone(),
                    logged_in: false,
                    user_ok: false,
                    ascii: false,
                    passive: None,
                };
                let kick = k.clone();
                tokio::spawn(async move {
                    tokio::select! {
                        _ = session.run(sock) => {}
                        _ = kick.notified() => {}
                    }
                });
            }
        });
        TestServer { addr, state, stor_bytes, kick, task }
    }

    /// Closes every open control connection (as a server restart would).
    pub fn kick_all(&self) {
        self.kick.notify_waiters();
    }

    pub fn file(&self, path: &str) -> Option<Vec<u8>> {
        self.state.lock().unwrap().files.get(path).cloned()
    }

    pub fn put(&self, path: &str, data: &[u8]) {
        self.state.lock().unwrap().files.insert(path.to_string(), data.to_vec());
    }

    pub fn names_in(&self, dir: &str) -> Vec<String> {
        let prefix = format!("{dir}/");
        self.state
            .lock()
            .unwrap()
            .files
            .keys()
            .filter_map(|k| k.strip_prefix(&prefix).map(str::to_string))
            .collect()
    }

    pub fn commands(&self) -> Vec<(usize, String)> {
        self.state.lock().unwrap().commands.clone()
    }
}

struct Session {
    id: usize,
    tls: Arc<ServerConfig>,
    options: Options,
    state: Arc<Mutex<State>>,
    stor_bytes: Arc<AtomicU64>,
    logged_in: bool,
    user_ok: bool,
    ascii: bool,
    passive: Option<TcpListener>,
}

type Ctrl = BufReader<tokio_rustls::server::TlsStream<TcpStream>>;

async fn reply(ctrl: &mut Ctrl, line: &str) {
    let _ = ctrl.get_mut().write_all(format!("{line}\r\n").as_bytes()).await;
    let _ = ctrl.get_mut().flush().await;
}

fn norm(path: &str) -> String {
    path.trim_start_matches('/').trim_end_matches('/').to_string()
}

impl Session {
    async fn run(mut self, sock: TcpStream) {
        let mut plain = BufReader::new(sock);
        let _ = plain.get_mut().write_all(b"220 in-process test gateway\r\n").await;
        let mut line = String::new();
        // Plain text: only AUTH TLS.
        for _ in 0..20 {
            line.clear();
            match tokio::time::timeout(Duration::from_secs(30), plain.read_line(&mut line)).await {
                Ok(Ok(n)) if n > 0 => {}
                _ => return,
            }
            let cmd = line.trim_end().to_string();
            self.log(&cmd);
            if cmd.eq_ignore_ascii_case("AUTH TLS") {
                let _ = plain.get_mut().write_all(b"234 Proceed with negotiation.\r\n").await;
                break;
            }
            let _ = plain
                .get_mut()
                .write_all(b"530 Non-anonymous sessions must use encryption.\r\n")
                .await;
        }
        let sock = plain.into_inner();
        let acceptor = TlsAcceptor::from(self.tls.clone());
        let Ok(Ok(tls)) =
            tokio::time::timeout(Duration::from_secs(10), acceptor.accept(sock)).await
        else {
            return;
        };
        let mut ctrl = BufReader::new(tls);
        for _ in 0..100_000 {
            line.clear();
            match tokio::time::timeout(Duration::from_secs(60), ctrl.read_line(&mut line)).await {
                Ok(Ok(n)) if n > 0 => {}
                _ => return,
            }
            let cmd = line.trim_end().to_string();
            let (verb, arg) = match cmd.split_once(' ') {
                Some((v, a)) => (v.to_ascii_uppercase(), a.to_string()),
                None => (cmd.to_ascii_uppercase(), String::new()),
            };
            self.log(if verb == "PASS" { "PASS ****" } else { &cmd });
            match verb.as_str() {
                "USER" => {
                    self.user_ok = arg == USER;
                    reply(&mut ctrl, "331 Please specify the password.").await;
                }
                "PASS" => {
                    if self.user_ok && arg == PASS {
                        self.logged_in = true;
                        reply(&mut ctrl, "230 Login successful.").await;
                    } else {
                        reply(&mut ctrl, "530 Login incorrect.").await;
                    }
                }
                "QUIT" => {
                    reply(&mut ctrl, "221 Goodbye.").await;
                    return;
                }
                _ if !self.logged_in => {
                    reply(&mut ctrl, "530 Please login with USER and PASS.").await
                }
                "PBSZ" => reply(&mut ctrl, "200 PBSZ set to 0.").await,
                "PROT" if arg == "P" => reply(&mut ctrl, "200 PROT now Private.").await,
                "PROT" => reply(&mut ctrl, "536 PROT P required.").await,
                "NOOP" => reply(&mut ctrl, "200 NOOP ok.").await,
                "TYPE" => {
                    self.ascii = arg.starts_with('A');
                    reply(&mut ctrl, "200 Type set.").await;
                }
                "EPSV" if self.options.epsv => {
                    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
                    let port = l.local_addr().unwrap().port();
                    self.passive = Some(l);
                    reply(&mut ctrl, &format!("229 Entering Extended Passive Mode (|||{port}|)"))
                        .await;
                }
                "PASV" => {
                    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
                    let port = l.local_addr().unwrap().port();
                    self.passive = Some(l);
                    let [a, b, c, d] = self.options.pasv_announce;
                    reply(
                        &mut ctrl,
                        &format!(
                            "227 Entering Passive Mode ({a},{b},{c},{d},{},{}).",
                            port / 256,
                            port % 256
                        ),
                    )
                    .await;
                }
                "STOR" => self.stor(&mut ctrl, &norm(&arg)).await,
                "RETR" => self.retr(&mut ctrl, &norm(&arg)).await,
                "NLST" => self.nlst(&mut ctrl, &norm(&arg)).await,
                "DELE" => {
                    let removed = self.state.lock().unwrap().files.remove(&norm(&arg)).is_some();
                    if removed {
                        reply(&mut ctrl, "250 Delete operation successful.").await;
                    } else {
                        reply(&mut ctrl, "550 Delete operation failed.").await;
                    }
                }
                "PWD" => reply(&mut ctrl, "257 \"/\" is the current directory").await,
                _ => reply(&mut ctrl, "502 Command not implemented.").await,
            }
        }
    }

    fn log(&self, cmd: &str) {
        self.state.lock().unwrap().commands.push((self.id, cmd.to_string()));
    }

    /// Accepts the data connection and requires TLS session reuse, like
    /// vsftpd's `require_ssl_reuse=YES`.
    async fn data(
        &mut self,
        ctrl: &mut Ctrl,
    ) -> Option<tokio_rustls::server::TlsStream<TcpStream>> {
        let Some(listener) = self.passive.take() else {
            reply(ctrl, "425 Use PASV or EPSV first.").await;
            return None;
        };
        let Ok(Ok((sock, _))) =
            tokio::time::timeout(Duration::from_secs(10), listener.accept()).await
        else {
            reply(ctrl, "425 Failed to establish connection.").await;
            return None;
        };
        let acceptor = TlsAcceptor::from(self.tls.clone());
        let tls = match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(sock)).await {
            Ok(Ok(t)) => t,
            _ => {
                reply(ctrl, "522 SSL connection failed; session reuse required: see require_ssl_reuse option in vsftpd.conf man page").await;
                return None;
            }
        };
        let resumed = tls.get_ref().1.handshake_kind() == Some(HandshakeKind::Resumed);
        {
            let mut s = self.state.lock().unwrap();
            if resumed {
                s.data_resumed += 1;
            } else {
                s.data_full += 1;
            }
        }
        if self.options.require_reuse && !resumed {
            drop(tls);
            reply(ctrl, "522 SSL connection failed; session reuse required: see require_ssl_reuse option in vsftpd.conf man page").await;
            return None;
        }
        Some(tls)
    }

    async fn stor(&mut self, ctrl: &mut Ctrl, path: &str) {
        self.state.lock().unwrap().stor_count += 1;
        let Some(mut data) = self.data(ctrl).await else { return };
        reply(ctrl, "150 Ok to send data.").await;
        let mut buf = vec![0u8; 64 * 1024];
        let mut content = Vec::new();
        let complete = loop {
            match tokio::time::timeout(Duration::from_secs(30), data.read(&mut buf)).await {
                Ok(Ok(0)) => break true, // close_notify
                Ok(Ok(n)) => {
                    content.extend_from_slice(&buf[..n]);
                    self.stor_bytes.fetch_add(n as u64, Ordering::SeqCst);
                    if let Some(pause) = self.options.stor_throttle {
                        tokio::time::sleep(pause).await;
                    }
                }
                _ => break false, // EOF without close_notify, error or stall
            }
        };
        let _ = data.shutdown().await;
        drop(data);
        if !complete {
            reply(ctrl, "426 Failure reading network stream.").await;
            return;
        }
        self.state.lock().unwrap().last_raw = content.clone();
        if self.ascii {
            // Like vsftpd's ascii_upload_enable: CR LF -> LF on store.
            let mut out = Vec::with_capacity(content.len());
            let mut i = 0;
            while i < content.len() {
                if content[i] == b'\r' && content.get(i + 1) == Some(&b'\n') {
                    i += 1;
                    continue;
                }
                out.push(content[i]);
                i += 1;
            }
            content = out;
        }
        self.state.lock().unwrap().files.insert(path.to_string(), content);
        reply(ctrl, "226 Transfer complete.").await;
        if self.options.simulate_gateway {
            if let Some((service, name)) = path.split_once('/') {
                if service != "out" && !name.contains('/') {
                    let sim = simulate(
                        self.state.clone(),
                        service.to_string(),
                        name.to_string(),
                        self.options.status_delay,
                    );
                    if self.options.status_delay.is_zero() {
                        sim.await;
                    } else {
                        tokio::spawn(sim);
                    }
                }
            }
        }
    }

    async fn retr(&mut self, ctrl: &mut Ctrl, path: &str) {
        let content = self.state.lock().unwrap().files.get(path).cloned();
        let Some(content) = content else {
            reply(ctrl, "550 Failed to open file.").await;
            return;
        };
        let Some(mut data) = self.data(ctrl).await else { return };
        reply(ctrl, "150 Opening BINARY mode data connection.").await;
        let _ = data.write_all(&content).await;
        let _ = data.shutdown().await;
        let mut sink = [0u8; 1024];
        let _ = tokio::time::timeout(Duration::from_secs(5), data.read(&mut sink)).await;
        reply(ctrl, "226 Transfer complete.").await;
    }

    async fn nlst(&mut self, ctrl: &mut Ctrl, dir: &str) {
        let names: Vec<String> = {
            let prefix = format!("{dir}/");
            let s = self.state.lock().unwrap();
            s.files
                .keys()
                .filter_map(|k| k.strip_prefix(&prefix))
                .filter(|k| !k.contains('/'))
                .map(|k| format!("/{dir}/{k}"))
                .collect()
        };
        let Some(mut data) = self.data(ctrl).await else { return };
        reply(ctrl, "150 Here comes the directory listing.").await;
        let mut text = String::new();
        for n in names {
            text.push_str(&n);
            text.push_str("\r\n");
        }
        let _ = data.write_all(text.as_bytes()).await;
        let _ = data.shutdown().await;
        reply(ctrl, "226 Directory send OK.").await;
    }
}

/// The gateway's answer to an upload, as the guide shows: the file is
/// processed (removed) at once; status 1, 2 and 3 with a response file, or
/// status 0 FILENAME_CANNOT_BE_REUSED_FOR_TRANSACTION for a reused name.
async fn simulate(state: Arc<Mutex<State>>, service: String, name: String, delay: Duration) {
    let reused = {
        let mut s = state.lock().unwrap();
        s.files.remove(&format!("{service}/{name}"));
        !s.used_names.insert(name.clone())
    };
    let skat_id = format!("ci{}_{}_1", 1_607_607_002_916u64 + name.len() as u64, 31_616_756);
    let status_name = |code: u8| format!("out/status_{service}_{name}_{code}.xml");
    let doc = |status: &str, extra: &str, ts: &str, with_id: bool| {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\r\n<status>\r\n<file>\r\n<filename>/CVR_19552101/RID_60134540/{service}/{name}</filename>\r\n<FTPTransaktionsId>{name}</FTPTransaktionsId>\r\n{}<timestamp>{ts}</timestamp>\r\n<status.code>{status}</status.code>\r\n<service>{service}</service>\r\n{extra}</file>\r\n</status>\r\n",
            if with_id { format!("<SKATTransactionId>{skat_id}</SKATTransactionId>\r\n") } else { String::new() }
        )
    };
    let put = |path: String, body: String| {
        state.lock().unwrap().files.insert(path, body.into_bytes());
    };
    if reused {
        put(
            status_name(0),
            doc(
                "ERROR",
                "<error>\r\n<error.code>FILENAME_CANNOT_BE_REUSED_FOR_TRANSACTION</error.code>\r\n<error.message>The filename provided has already been used for previous transaction</error.message>\r\n<error.resolution>Resubmit the file with a new filename</error.resolution>\r\n</error>\r\n",
                "1607615347963",
                false,
            ),
        );
        return;
    }
    put(
        status_name(1),
        doc("File delivered to requested Backend System", "", "20201210143017", true),
    );
    tokio::time::sleep(delay).await;
    put(status_name(2), doc(&format!("File accepted by {service}"), "", "20201210143017", true));
    tokio::time::sleep(delay).await;
    let response = format!("{service}_in_{name}_response.txt");
    put(format!("out/{response}"), format!("response to {name}\r\n"));
    put(
        status_name(3),
        doc(
            "File exposed",
            &format!("<response>\r\n<filename>/out/{response}</filename>\r\n</response>\r\n"),
            "20201210143018",
            true,
        ),
    );
}

/// A server that answers AUTH TLS and then a ServerHello for TLS 1.1, as a
/// server that offers only TLS 1.1 does.
pub async fn start_tls11_only() -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        for _ in 0..10 {
            let Ok((sock, _)) = listener.accept().await else { return };
            tokio::spawn(async move {
                let mut s = BufReader::new(sock);
                let _ = s.get_mut().write_all(b"220 old server\r\n").await;
                let mut line = String::new();
                let _ = tokio::time::timeout(Duration::from_secs(10), s.read_line(&mut line)).await;
                let _ = s.get_mut().write_all(b"234 AUTH TLS successful\r\n").await;
                // Read the ClientHello record.
                let mut hdr = [0u8; 5];
                if s.read_exact(&mut hdr).await.is_err() {
                    return;
                }
                let len = u16::from_be_bytes([hdr[3], hdr[4]]) as usize;
                let mut body = vec![0u8; len];
                if s.read_exact(&mut body).await.is_err() {
                    return;
                }
                // ServerHello, version 3.2 (TLS 1.1), TLS_RSA_WITH_AES_128_CBC_SHA, no extensions.
                let mut hello = vec![0x03, 0x02];
                hello.extend_from_slice(&[0x5a; 32]);
                hello.push(0); // session id length
                hello.extend_from_slice(&[0x00, 0x2f]);
                hello.push(0); // compression
                let mut hs = vec![0x02, 0x00, 0x00, hello.len() as u8];
                hs.extend_from_slice(&hello);
                let mut rec = vec![0x16, 0x03, 0x02, 0x00, hs.len() as u8];
                rec.extend_from_slice(&hs);
                let _ = s.get_mut().write_all(&rec).await;
                let mut sink = [0u8; 512];
                let _ = tokio::time::timeout(Duration::from_secs(5), s.read(&mut sink)).await;
            });
        }
    });
    (addr, task)
}
