//! Load: 200 initiators, each a node with its own store, open their sessions at once
//! against one responder (`Node::serve`, at most 200 concurrent sessions) over plain TCP,
//! and 16 more over mutual TLS on a second listener of the same node; files go both
//! ways, and every file must arrive intact with its EERP back, within a time bound.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a panic is a failure

mod session_support;
mod transport_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use oftp2_codec::fields::RecordFormat;
use oftp2_session::config::{Partner, TlsFiles, Transport};
use oftp2_session::driver::{OutgoingOutcome, SessionReport};
use oftp2_session::transport::tls::server_config_for;
use oftp2_session::transport::ServerSecurity;
use session_support::*;
use transport_support::{Pki, Usage};

const PLAIN: usize = 200;
const TLS: usize = 16;
const BOUND: Duration = Duration::from_secs(120);

fn initiator_code(i: usize) -> String {
    format!("O00130000000000{:05}", 10_000 + i)
}

fn files_for(i: usize) -> Vec<TestFile> {
    let seed = (i % 250) as u8;
    vec![
        TestFile::new("LOAD.U", RecordFormat::Unstructured, 0, binary(3_000 + i, seed)),
        TestFile::new("LOAD.F80", RecordFormat::Fixed, 80, content(80 * (5 + i % 20), seed)),
    ]
}

fn file_back(i: usize) -> TestFile {
    TestFile::new("BACK.T", RecordFormat::Text, 0, text_lines(5 + i % 30, (i % 250) as u8))
}

/// Makes sure the process may open enough files for the sessions: both ends of every
/// connection and the store files each session has open.
#[cfg(unix)]
fn enough_open_files(needed: u64) {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let limit = getrlimit(Resource::Nofile);
    let current = limit.current.unwrap_or(u64::MAX);
    if current >= needed {
        return;
    }
    let raised = limit.maximum.map_or(needed, |max| needed.min(max));
    setrlimit(Resource::Nofile, Rlimit { current: Some(raised), maximum: limit.maximum }).unwrap();
    eprintln!("open-file limit raised from {current} to {raised}");
    assert!(raised >= needed, "the hard open-file limit {raised} is below the {needed} needed");
}

#[cfg(not(unix))]
fn enough_open_files(_needed: u64) {}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_sessions_against_one_responder_all_intact() {
    enough_open_files(4096);
    let started = Instant::now();
    let pki = Pki::new();
    let ca = pki.ca("ca");
    let server = pki.leaf(&ca, "server", &["localhost"], Usage::Server, false);
    let client = pki.leaf(&ca, "client", &["initiators"], Usage::Client, false);
    let tls_transport = |require| Transport::Tls {
        server_name: Some("localhost".into()),
        roots: Vec::new(),
        require_client_certificate: require,
    };

    // The responder knows every initiator; the TLS ones must present a certificate.
    let codes: Vec<String> = (0..PLAIN + TLS).map(initiator_code).collect();
    let partners: Vec<Partner> = codes
        .iter()
        .enumerate()
        .map(|(i, code)| {
            let transport = if i < PLAIN { Transport::PlainTcp } else { tls_transport(true) };
            partner(code, B, transport, None)
        })
        .collect();
    let mut b_config = config(B, partners, Params::default());
    b_config.limits.max_concurrent_sessions = PLAIN;
    b_config.tls = Some(TlsFiles {
        roots: vec![ca.pem_file.clone()],
        certificate: Some(server.certificate_file.clone()),
        private_key: Some(server.key_file.clone()),
        require_client_certificate: false,
    });
    let server_config = server_config_for(&b_config).unwrap();
    let b = site_with(b_config);
    for (i, code) in codes.iter().enumerate() {
        queue(&b, code, &file_back(i));
    }
    let plain = serve(&b.node, ServerSecurity::PlainTcp).await;
    let tls = serve(&b.node, ServerSecurity::Tls(server_config)).await;

    // The initiators, each with its own store and files for B.
    let sites: Vec<Arc<Site>> = codes
        .iter()
        .enumerate()
        .map(|(i, code)| {
            let (address, transport) = if i < PLAIN {
                (plain.address.clone(), Transport::PlainTcp)
            } else {
                (tls.address.clone(), tls_transport(false))
            };
            let mut config =
                config(code, vec![partner(B, code, transport, Some(address))], Params::default());
            config.limits.idle_timeout = Duration::from_secs(60);
            config.limits.connect_timeout = Duration::from_secs(60);
            if i >= PLAIN {
                config.tls = Some(TlsFiles {
                    roots: vec![ca.pem_file.clone()],
                    certificate: Some(client.certificate_file.clone()),
                    private_key: Some(client.key_file.clone()),
                    require_client_certificate: false,
                });
            }
            let site = site_with(config);
            for file in files_for(i) {
                queue(&site, B, &file);
            }
            Arc::new(site)
        })
        .collect();
    eprintln!("{} sites set up in {:?}", sites.len(), started.elapsed());

    // All at once.
    let sessions_started = Instant::now();
    let tasks: Vec<_> = sites
        .iter()
        .map(|site| {
            let site = site.clone();
            tokio::spawn(async move {
                let begin = Instant::now();
                let report = site.node.connect(&id(B), None).await;
                (begin, Instant::now(), report)
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        let left = BOUND.saturating_sub(started.elapsed());
        let outcome =
            tokio::time::timeout(left, task).await.expect("the load test took over 120 s");
        outcomes.push(outcome.unwrap());
    }
    let took = sessions_started.elapsed();

    // How many ran at the same time, at most.
    let mut edges: Vec<(Instant, i32)> =
        outcomes.iter().flat_map(|(s, e, _)| [(*s, 1), (*e, -1)]).collect();
    edges.sort();
    let (mut now, mut peak) = (0, 0);
    for (_, step) in edges {
        now += step;
        peak = peak.max(now);
    }
    eprintln!("{} sessions in {took:?}, at most {peak} at once", outcomes.len());

    for (i, (_, _, report)) in outcomes.iter().enumerate() {
        let report: &SessionReport =
            report.as_ref().unwrap_or_else(|e| panic!("initiator {i}: {e}"));
        assert!(report.end.is_normal(), "initiator {i}: {:?}", report.end);
        let sent = report.sent.iter().filter(|o| matches!(o, OutgoingOutcome::Sent { .. })).count();
        assert_eq!(sent, 2, "initiator {i}: {:?}", report.sent);
        assert_eq!(report.received.len(), 1, "initiator {i}");
        assert_eq!(report.receipts.len(), 2, "initiator {i}: both EERPs in the session");
    }
    let plain_reports = plain.wait_reports(PLAIN, Duration::from_secs(20)).await;
    let tls_reports = tls.wait_reports(TLS, Duration::from_secs(20)).await;
    for report in plain_reports.iter().chain(&tls_reports) {
        let report = report.as_ref().unwrap();
        assert!(report.end.is_normal(), "{:?}", report.end);
        assert_eq!(report.received.len(), 2);
    }
    assert!(tls_reports.iter().all(|r| r.as_ref().unwrap().negotiated.is_some()));

    // Every file intact, exactly once, on both sides; every outbox settled.
    for (i, (code, site)) in codes.iter().zip(&sites).enumerate() {
        let mut got: Vec<Vec<u8>> = b.inbox(code).into_iter().map(|(_, d)| d).collect();
        let mut want: Vec<Vec<u8>> = files_for(i).into_iter().map(|f| f.data).collect();
        got.sort();
        want.sort();
        assert!(
            got == want,
            "initiator {i}: B's inbox holds {} files, not the 2 sent intact",
            got.len()
        );
        let back = site.inbox(B);
        assert!(
            back.len() == 1 && back[0].1 == file_back(i).data,
            "initiator {i}: its file from B"
        );
        assert!(site.settled_with(B), "initiator {i}: outbox not settled");
        assert!(b.settled_with(code), "B's outbox for initiator {i} not settled");
    }
    assert!(started.elapsed() < BOUND, "the load test took {:?}", started.elapsed());
    plain.stop().await;
    tls.stop().await;
}
