//! The end-to-end demo: two OFTP2 nodes on this machine exchange files over mutual TLS.
//!
//! ```text
//! cargo run --release -p oftp2-examples --bin oftp2-demo [FILE]
//! ```
//!
//! A throw-away test PKI is made (a CA, a server certificate for `localhost`, a client
//! certificate, and each node's RSA certificate for OFTP2 security, exchanged
//! bilaterally). "CUSTOMS" serves OFTP2 over TLS on 127.0.0.1, requiring the client
//! certificate; "TRADER" connects, both authenticate each other with SECD/AUCH/AURP
//! (RFC 5024 §4.2.3), and TRADER sends FILE (or 64 MiB of generated EDIFACT-like text) as a
//! U-format Virtual File signed, compressed and encrypted (CMS, cipher suite 04) and
//! receives an F/80 file back secured the same way. Both files are acknowledged with
//! signed EERPs in the same session, verified against the sender's certificate and the
//! hash of what was sent; the received octets are compared with the sent ones and the
//! throughput is printed. Everything lives in a temporary directory.
#![allow(clippy::indexing_slicing)] // a demo program: every slice bound is the length just read

use std::error::Error;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use oftp2_codec::fields::{
    CipherSuite, OdetteId, RecordFormat, RecordLength, SendReceive, UserData, Utf8Text,
};
use oftp2_session::config::{Config, Partner, TextLineHandling, TlsFiles, Transport};
use oftp2_session::driver::{Direction, OutgoingOutcome, Progress};
use oftp2_session::node::Node;
use oftp2_session::protection::{FileServices, ReceiptCheck};
use oftp2_session::security::identity::{Certificate, Identity};
use oftp2_session::security::CmsSecurity;
use oftp2_session::store::{FileStore, FsStore, OutgoingFile, OutgoingSource, StoreOptions};
use oftp2_session::transport::tls::server_config_for;
use oftp2_session::transport::{Listener, ServerSecurity};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};

const TRADER: &str = "O0013000000000000001TRADE";
const CUSTOMS: &str = "O094200002021000969PRDINT";
const GENERATED: usize = 64 * 1024 * 1024;
/// The OFTP2 services both files travel with: signed, compressed, encrypted (AES-256-CBC,
/// RSA, SHA-256), with a signed EERP.
const SUITE: CipherSuite = CipherSuite::AES256_RSA_SHA256;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn Error>> {
    let work = tempfile::tempdir()?;
    let pki = Pki::create(work.path())?;
    println!("test PKI in {}", work.path().display());

    // The file to send: the argument, or generated EDIFACT-like text.
    let (source, label) = match std::env::args_os().nth(1) {
        Some(path) => (PathBuf::from(&path), PathBuf::from(path).display().to_string()),
        None => {
            let path = work.path().join("orders.edi");
            generate_edifact(&path, GENERATED)?;
            (path, format!("{} MiB of generated EDIFACT", GENERATED >> 20))
        }
    };
    let size = std::fs::metadata(&source)?.len();

    // The responder: "CUSTOMS", TLS with client certificates required from TRADER.
    let customs = node(
        CUSTOMS,
        TRADER,
        &work.path().join("customs"),
        TlsFiles {
            roots: vec![pki.ca.clone()],
            certificate: Some(pki.server.0.clone()),
            private_key: Some(pki.server.1.clone()),
            require_client_certificate: false,
        },
        None,
        true,
        (&pki.customs, &pki.trader.0),
    )?;
    let listener =
        Listener::bind("127.0.0.1:0", ServerSecurity::Tls(server_config_for(customs.config())?))
            .await?;
    let address = listener.local_addr()?.to_string();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (reports, mut responder_reports) = tokio::sync::mpsc::unbounded_channel();
    let serving = customs.clone();
    let server = tokio::spawn(async move {
        serving
            .serve(listener, async { stopped.await.unwrap_or(()) }, move |report| {
                let _ = reports.send(report);
            })
            .await;
    });
    println!("CUSTOMS serves OFTP2 over TLS on {address}");

    // The initiator: "TRADER", with its client certificate.
    let trader = node(
        TRADER,
        CUSTOMS,
        &work.path().join("trader"),
        TlsFiles {
            roots: vec![pki.ca.clone()],
            certificate: Some(pki.client.0.clone()),
            private_key: Some(pki.client.1.clone()),
            require_client_certificate: false,
        },
        Some(address),
        false,
        (&pki.trader, &pki.customs.0),
    )?;
    let customs_id: OdetteId = CUSTOMS.parse()?;
    let trader_id: OdetteId = TRADER.parse()?;
    let securing = Instant::now();
    trader
        .queue(
            &customs_id,
            OutgoingFile {
                dataset_name: "ORDERS.2026.11".parse()?,
                format: RecordFormat::Unstructured,
                max_record_length: RecordLength::ZERO,
                description: Utf8Text::new(&label)?,
                destination: customs_id,
                originator: None,
                user_data: UserData::EMPTY,
                source: OutgoingSource::Path(source.clone()),
                services: FileServices::all(SUITE),
            },
        )
        .await?;
    let answer: Vec<u8> = (0..500)
        .flat_map(|i| {
            format!("{:<80}", format!("CUSDEC RESPONSE LINE {i:05} STATUS ACCEPTED")).into_bytes()
        })
        .collect();
    customs
        .queue(
            &trader_id,
            OutgoingFile {
                dataset_name: "CUSRES.2026.11".parse()?,
                format: RecordFormat::Fixed,
                max_record_length: RecordLength::new(80)?,
                description: Utf8Text::new("customs response, F/80")?,
                destination: trader_id,
                originator: None,
                user_data: UserData::EMPTY,
                source: OutgoingSource::Bytes(answer.clone()),
                services: FileServices::all(SUITE),
            },
        )
        .await?;

    let secured = trader.store().outgoing(&customs_id)?;
    let transmitted = secured.first().map_or(0, |entry| entry.size);
    println!(
        "queued both files signed, compressed and encrypted (suite {:02}) in {:.2} s: \
         {size} octets travel as {transmitted}",
        SUITE.value(),
        securing.elapsed().as_secs_f64()
    );
    println!("TRADER sends {label} ({size} octets) to CUSTOMS");
    let started = Instant::now();
    let report = trader.connect(&customs_id, Some(progress_bar())).await?;
    let elapsed = started.elapsed();
    eprintln!();

    let negotiated = report.negotiated.ok_or("the session did not start")?;
    println!(
        "session: OFTP {} buffer {} credit {} restart {} compression {} secure authentication \
         {}; ended {:?}",
        negotiated.level,
        negotiated.buffer_size,
        negotiated.credit,
        negotiated.restart,
        negotiated.compression,
        negotiated.secure_authentication,
        report.end
    );
    for outcome in &report.sent {
        match outcome {
            OutgoingOutcome::Sent { id, counts } => {
                println!("sent     {id}: {} octets", counts.octets)
            }
            OutgoingOutcome::Refused { id, why } => println!("REFUSED  {id}: {why}"),
        }
    }
    for file in &report.received {
        println!("received {} -> {}", file.sfid.dataset_name, file.path.display());
    }
    for receipt in &report.receipts {
        println!(
            "receipt  {} for {:?}: signature {:?}",
            receipt.receipt.name(),
            receipt.file,
            receipt.check
        );
    }

    // Check: what CUSTOMS stored is what TRADER sent, and the response arrived.
    let theirs = responder_reports.recv().await.ok_or("no responder report")??;
    let stored = theirs.received.first().ok_or("CUSTOMS received nothing")?;
    let same = same_content(&source, &stored.path)?;
    let response_ok =
        report.received.first().map(|f| std::fs::read(&f.path)).transpose()?.as_deref()
            == Some(&answer[..]);
    let verified = |receipts: &[oftp2_session::driver::ReceivedReceipt]| {
        receipts.len() == 1 && receipts.iter().all(|r| r.check == ReceiptCheck::Verified)
    };
    let receipts_ok = verified(&report.receipts) && verified(&theirs.receipts);
    let authenticated = negotiated.secure_authentication;
    let mib_s = size as f64 / elapsed.as_secs_f64() / (1024.0 * 1024.0);
    println!(
        "\n{size} octets ({transmitted} on the wire) in {:.2} s: {mib_s:.1} MiB/s of the original \
         file, secured, over TLS on loopback, unwrapped and verified before EFPA",
        elapsed.as_secs_f64()
    );
    println!(
        "content identical: {same}; response intact: {response_ok}; signed EERPs verified \
         both ways: {receipts_ok}; partners authenticated: {authenticated}"
    );

    let _ = stop.send(());
    let _ = server.await;
    if same && response_ok && receipts_ok && authenticated && report.end.is_normal() {
        println!("demo OK");
        Ok(())
    } else {
        Err("the demo did not complete as expected".into())
    }
}

fn node(
    own: &str,
    peer: &str,
    dir: &Path,
    tls: TlsFiles,
    address: Option<String>,
    require_client_certificate: bool,
    (own_security, peer_certificate): (&(PathBuf, PathBuf), &PathBuf),
) -> Result<Node<FsStore>, Box<dyn Error>> {
    let own_id: OdetteId = own.parse()?;
    let mut config = Config::new(own_id);
    config.tls = Some(tls);
    config.partners.push(Partner {
        odette_id: peer.parse()?,
        password: "PEERPASS".parse()?,
        our_password: "PEERPASS".parse()?,
        directions: SendReceive::Both,
        buffer_size: None,
        credit: None,
        text_lines: TextLineHandling::KeepCrLf,
        address,
        transport: Transport::Tls {
            server_name: Some("localhost".into()),
            roots: Vec::new(),
            require_client_certificate,
        },
        secure_authentication: true,
        file_security: Default::default(),
    });
    // OFTP2 security: our identity, and the peer's certificate as it was exchanged.
    let security = CmsSecurity::builder(Identity::from_files(&own_security.0, &own_security.1)?)
        .partner(peer.parse()?, Certificate::from_file(peer_certificate)?)
        .build()?;
    let options = StoreOptions { security: Some(Arc::new(security)), ..StoreOptions::new(own_id) };
    let store = FsStore::with_options(dir, options)?;
    Ok(Node::new(Arc::new(config), Arc::new(store)))
}

fn progress_bar() -> Box<dyn FnMut(&Progress) + Send> {
    let started = Instant::now();
    let mut last = Instant::now() - Duration::from_secs(1);
    Box::new(move |progress: &Progress| {
        if progress.direction != Direction::Outbound {
            return;
        }
        let done = progress.octets >= progress.total_estimate;
        if last.elapsed() < Duration::from_millis(100) && !done {
            return;
        }
        last = Instant::now();
        let total = progress.total_estimate.max(1);
        let share = (progress.octets as f64 / total as f64).min(1.0);
        let width = 40;
        let filled = (share * width as f64) as usize;
        let rate =
            progress.octets as f64 / started.elapsed().as_secs_f64().max(1e-6) / (1024.0 * 1024.0);
        eprint!(
            "\r{} [{}{}] {:>5.1}% {:>8.1} MiB/s",
            progress.dataset_name,
            "#".repeat(filled),
            ".".repeat(width - filled),
            share * 100.0,
            rate
        );
        let _ = std::io::stderr().flush();
    })
}

fn generate_edifact(path: &Path, size: usize) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut written = 0;
    let mut n = 0u64;
    while written < size {
        let segment = format!(
            "UNH+{n}+ORDERS:D:96A:UN'BGM+220+PO{n:08}+9'DTM+137:20261123:102'NAD+BY+5412345000013::9'LIN+{}++4000862141404:SRS'QTY+21:{}'UNT+7+{n}'\r\n",
            n % 999 + 1,
            n % 97 + 1
        );
        let bytes = segment.as_bytes();
        let take = bytes.len().min(size - written);
        out.write_all(&bytes[..take])?;
        written += take;
        n += 1;
    }
    out.flush()
}

fn same_content(a: &Path, b: &Path) -> std::io::Result<bool> {
    use std::io::Read;
    let (mut a, mut b) = (std::fs::File::open(a)?, std::fs::File::open(b)?);
    if a.metadata()?.len() != b.metadata()?.len() {
        return Ok(false);
    }
    let (mut x, mut y) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let n = a.read(&mut x)?;
        if n == 0 {
            return Ok(true);
        }
        b.read_exact(&mut y[..n])?;
        if x[..n] != y[..n] {
            return Ok(false);
        }
    }
}

/// A throw-away PKI: CA, server certificate for localhost, client certificate, and each
/// node's RSA certificate and key for OFTP2 security (self-signed, exchanged bilaterally).
struct Pki {
    ca: PathBuf,
    server: (PathBuf, PathBuf),
    client: (PathBuf, PathBuf),
    trader: (PathBuf, PathBuf),
    customs: (PathBuf, PathBuf),
}

impl Pki {
    fn create(dir: &Path) -> Result<Self, Box<dyn Error>> {
        let ca_key = KeyPair::generate()?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(DnType::CommonName, "oftp2-rs demo CA");
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = ca_params.self_signed(&ca_key)?;
        let write = |name: &str, contents: String| -> std::io::Result<PathBuf> {
            let path = dir.join(name);
            std::fs::write(&path, contents)?;
            Ok(path)
        };
        let leaf =
            |name: &str, sans: Vec<String>, usage| -> Result<(PathBuf, PathBuf), Box<dyn Error>> {
                let key = KeyPair::generate()?;
                let mut params = CertificateParams::new(sans)?;
                params.distinguished_name.push(DnType::CommonName, name);
                params.extended_key_usages = vec![usage];
                params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
                let certificate = params.signed_by(&key, &ca, &ca_key)?;
                Ok((
                    write(&format!("{name}.pem"), certificate.pem())?,
                    write(&format!("{name}.key"), key.serialize_pem())?,
                ))
            };
        let server = leaf(
            "localhost",
            vec!["localhost".into(), "127.0.0.1".into()],
            ExtendedKeyUsagePurpose::ServerAuth,
        )?;
        let client =
            leaf("trader", vec!["trader.example".into()], ExtendedKeyUsagePurpose::ClientAuth)?;
        // OFTP2 security needs RSA (PKCS#1 v1.5 signatures and key transport): a key that
        // signs files and receipts and receives encrypted files and challenges.
        let oftp2 = |name: &str| -> Result<(PathBuf, PathBuf), Box<dyn Error>> {
            let key = KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256)?;
            let mut params = CertificateParams::new(Vec::<String>::new())?;
            params.distinguished_name.push(DnType::CommonName, name);
            params.key_usages = vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::ContentCommitment,
                KeyUsagePurpose::KeyEncipherment,
            ];
            let certificate = params.self_signed(&key)?;
            Ok((
                write(&format!("{name}-oftp2.pem"), certificate.pem())?,
                write(&format!("{name}-oftp2.key"), key.serialize_pem())?,
            ))
        };
        Ok(Pki {
            ca: write("ca.pem", ca.pem())?,
            server,
            client,
            trader: oftp2(TRADER)?,
            customs: oftp2(CUSTOMS)?,
        })
    }
}
