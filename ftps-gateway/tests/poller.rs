//! The poller against the in-process server's gateway simulator.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod support;

use std::time::Duration;

use ftps_gateway::{
    Error, FtpsClient, Gateway, Journal, PollInterval, Poller, PollerConfig, TransactionEvent,
    TransferMode, UploadState,
};
use support::server::{Options, TestServer};
use support::{good_config, Pki};

const SERVICE: &str = "FTPSGW.Heartbeat";

async fn gateway(pki: &Pki, srv: &TestServer, dir: &tempfile::TempDir) -> Gateway {
    let client = FtpsClient::connect(good_config(pki, srv.addr)).await.unwrap();
    Gateway::new(client, Journal::open(support::journal_path(dir)).unwrap())
}

fn test_poller(dir: &tempfile::TempDir, delete: bool) -> Poller {
    let mut cfg = PollerConfig::new(dir.path().join("downloads"));
    cfg.interval = PollInterval::unchecked_for_tests(Duration::ZERO);
    cfg.delete_after_download = delete;
    Poller::new(cfg)
}

#[tokio::test]
async fn follows_an_upload_to_its_response() {
    let pki = Pki::new();
    let srv = TestServer::start(
        &pki,
        Options { status_delay: Duration::from_millis(150), ..Options::default() },
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut gw = gateway(&pki, &srv, &dir).await;
    let name = gw.unique_name("ping", ".xml").unwrap();
    gw.upload_stream(SERVICE, &name, &b"<ping/>"[..], TransferMode::Binary).await.unwrap();
    let mut poller = test_poller(&dir, false);
    let mut events = Vec::new();
    for _ in 0..50 {
        let report = poller.poll(&mut gw).await.unwrap();
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        for t in report.transactions {
            assert_eq!(t.transaction_id, name);
            assert_eq!(t.service, SERVICE);
            assert!(t.saved_as.exists());
            assert!(!t.to_string().is_empty());
            events.push(t.event);
        }
        if events.len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(events.len(), 3, "{events:?}");
    assert_eq!(events[0], TransactionEvent::Delivered);
    assert_eq!(events[1], TransactionEvent::Accepted);
    let TransactionEvent::Exposed { response_file, saved_as } = &events[2] else {
        panic!("{:?}", events[2])
    };
    let expected = format!("/out/{SERVICE}_in_{name}_response.txt");
    assert_eq!(response_file.as_deref(), Some(expected.as_str()));
    let saved = saved_as.clone().unwrap();
    assert_eq!(std::fs::read(&saved).unwrap(), format!("response to {name}\r\n").into_bytes());
    let rec = gw.journal().get(&name).unwrap().unwrap();
    assert!(matches!(rec.state, UploadState::Exposed { .. }), "{rec:?}");
    let labels: Vec<&str> = rec.history.iter().map(|h| h.state.as_str()).collect();
    assert_eq!(labels, ["in progress", "uploaded", "delivered", "accepted", "exposed"]);

    // Nothing new on the next poll; files were kept in /out.
    let again = poller.poll(&mut gw).await.unwrap();
    assert!(again.transactions.is_empty());
    assert!(srv.names_in("out").len() >= 4);
}

#[tokio::test]
async fn reused_name_is_reported_with_what_to_do() {
    let pki = Pki::new();
    let srv = TestServer::start(&pki, Options::default()).await;
    // Another installation used the name first.
    let other = tempfile::tempdir().unwrap();
    let mut gw_other = gateway(&pki, &srv, &other).await;
    gw_other
        .upload_stream(SERVICE, "order-1.xml", &b"<a/>"[..], TransferMode::Binary)
        .await
        .unwrap();
    for f in srv.names_in("out") {
        srv.state.lock().unwrap().files.remove(&format!("out/{f}"));
    }

    let dir = tempfile::tempdir().unwrap();
    let mut gw = gateway(&pki, &srv, &dir).await;
    gw.upload_stream(SERVICE, "order-1.xml", &b"<a/>"[..], TransferMode::Binary).await.unwrap();
    let mut poller = test_poller(&dir, true);
    let report = poller.poll(&mut gw).await.unwrap();
    assert_eq!(report.transactions.len(), 1, "{report:?}");
    let t = &report.transactions[0];
    let TransactionEvent::Error { code, message, resolution, next_step } = &t.event else {
        panic!("{t:?}")
    };
    assert_eq!(code, "FILENAME_CANNOT_BE_REUSED_FOR_TRANSACTION");
    assert_eq!(message, "The filename provided has already been used for previous transaction");
    assert_eq!(resolution, "Resubmit the file with a new filename");
    assert!(next_step.contains("new"), "{next_step}");
    assert!(t.to_string().contains("ERROR FILENAME_CANNOT_BE_REUSED_FOR_TRANSACTION"));
    assert!(matches!(
        gw.journal().get("order-1.xml").unwrap().unwrap().state,
        UploadState::Rejected { .. }
    ));
    // Deleted after download.
    assert!(srv.names_in("out").is_empty(), "{:?}", srv.names_in("out"));
}

#[tokio::test]
async fn unrelated_outbound_files_are_recognised() {
    let pki = Pki::new();
    let srv = TestServer::start(&pki, Options::default()).await;
    let id = "Manifest.MidlertidigOpbevaringOpdater_MAN_DKA54A_eda73f9d-0215-4849-9e0b-275c91c62624.notify.xml";
    let status = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n<status>\n<file>\n<filename/>\n<FTPTransaktionsId>{id}</FTPTransaktionsId>\n<SKATTransactionId>MAN_1607577057900</SKATTransactionId>\n<timestamp>20201210061159</timestamp>\n<status.code>File exposed</status.code>\n<service>Manifest.MidlertidigOpbevaringOpdater</service>\n<response>\n<filename>/out/{id}</filename>\n</response>\n</file>\n</status>\n"
    );
    srv.put(
        &format!("out/status_Manifest.MidlertidigOpbevaringOpdater_{id}_3.xml"),
        status.as_bytes(),
    );
    srv.put(&format!("out/{id}"), b"<notify/>");
    let dir = tempfile::tempdir().unwrap();
    let mut gw = gateway(&pki, &srv, &dir).await;
    let report = test_poller(&dir, false).poll(&mut gw).await.unwrap();
    assert_eq!(report.transactions.len(), 1, "{report:?}");
    let t = &report.transactions[0];
    assert!(t.unrelated_outbound);
    assert_eq!(t.journal_state, None);
    let TransactionEvent::Exposed { saved_as, .. } = &t.event else { panic!("{t:?}") };
    assert_eq!(std::fs::read(saved_as.as_ref().unwrap()).unwrap(), b"<notify/>");
}

#[tokio::test]
async fn polls_at_most_once_a_minute_even_across_restarts() {
    assert!(matches!(
        PollInterval::new(Duration::from_secs(59)),
        Err(Error::PollIntervalTooShort(_))
    ));
    let pki = Pki::new();
    let srv = TestServer::start(&pki, Options::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut gw = gateway(&pki, &srv, &dir).await;
    let mut poller = Poller::new(PollerConfig::new(dir.path().join("d")));
    poller.poll(&mut gw).await.unwrap();
    let e = poller.poll(&mut gw).await.unwrap_err();
    let Error::PollTooSoon { wait } = e else { panic!("{e:?}") };
    assert!(wait > Duration::from_secs(55) && wait <= Duration::from_secs(60), "{wait:?}");
    // A new poller (a restarted program) on the same journal waits too.
    let mut restarted = Poller::new(PollerConfig::new(dir.path().join("d")));
    assert!(matches!(restarted.poll(&mut gw).await, Err(Error::PollTooSoon { .. })));
    let nlst = srv.commands().iter().filter(|(_, c)| c.starts_with("NLST")).count();
    assert_eq!(nlst, 1);
}
