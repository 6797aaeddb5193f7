//! Crash safety: a client killed during an upload leaves the upload as
//! "outcome unknown" in the journal, and nothing is resent without the
//! user's decision.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod support;

use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use ftps_gateway::{
    ClientConfig, ClientIdentity, Error, FtpsClient, Gateway, Journal, UnknownResolution,
    UploadOptions, UploadState,
};
use support::server::{self, TestServer};
use support::Pki;

const SERVICE: &str = "FTPSGW.Heartbeat";
const NAME: &str = "big-order.xml";

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: this is the child half of kill_mid_upload_leaves_unknown_and_nothing_is_resent, which runs it")
    })
}

/// The client process that gets killed. Run only by the test below.
#[tokio::test]
#[ignore = "child process of kill_mid_upload_leaves_unknown_and_nothing_is_resent"]
async fn crash_child() {
    let port: u16 = env("CRASH_PORT").parse().unwrap();
    let id = ClientIdentity::from_pem_files(env("CRASH_CERT"), env("CRASH_KEY")).unwrap();
    let cfg = ClientConfig::new("127.0.0.1", port, server::USER, server::PASS)
        .with_root_pem(&std::fs::read(env("CRASH_CA")).unwrap())
        .unwrap()
        .with_identity(id)
        .with_timeouts(support::test_timeouts());
    let client = FtpsClient::connect(cfg).await.unwrap();
    let mut gw = Gateway::new(client, Journal::open(env("CRASH_JOURNAL")).unwrap());
    let r = gw
        .upload_file(
            SERVICE,
            env("CRASH_FILE"),
            UploadOptions { name: Some(NAME.into()), ..UploadOptions::default() },
        )
        .await;
    // Reaching this point means the parent did not kill us in time.
    panic!("the upload ended before the kill: {r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_mid_upload_leaves_unknown_and_nothing_is_resent() {
    let pki = Pki::new();
    let srv = TestServer::start_slow(&pki).await;
    let dir = tempfile::tempdir().unwrap();
    let journal = support::journal_path(&dir);
    let file = dir.path().join("order.xml");
    let content: Vec<u8> = (0..16 * 1024 * 1024u32).map(|i| b'a' + (i % 26) as u8).collect();
    std::fs::write(&file, &content).unwrap();

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["crash_child", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env("CRASH_PORT", srv.addr.port().to_string())
        .env("CRASH_CERT", &pki.client.cert)
        .env("CRASH_KEY", &pki.client.key)
        .env("CRASH_CA", &pki.ca)
        .env("CRASH_JOURNAL", &journal)
        .env("CRASH_FILE", &file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    // Kill it once the server has received part of the file.
    let deadline = Instant::now() + Duration::from_secs(30);
    while srv.stor_bytes.load(Ordering::SeqCst) < 256 * 1024 {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            panic!("child ended early ({status}): {}", String::from_utf8_lossy(&out.stderr));
        }
        assert!(Instant::now() < deadline, "the child never started uploading");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let received = srv.stor_bytes.load(Ordering::SeqCst);
    assert!(received < content.len() as u64, "killed mid-upload");

    // The server did not take the broken transfer for a complete file.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(srv.file(&format!("{SERVICE}/{NAME}")).is_none());
    assert_eq!(srv.state.lock().unwrap().stor_count, 1);

    // Restart: the journal says "unknown".
    let j = Journal::open(&journal).unwrap();
    let rec = j.get(NAME).unwrap().unwrap();
    assert!(
        matches!(&rec.state, UploadState::Unknown { reason } if reason.contains("stopped during the upload")),
        "{rec:?}"
    );
    assert_eq!(j.unknown().unwrap().len(), 1);

    // Nothing is resent: not under the same name, not the same content
    // under a new name.
    let client = FtpsClient::connect(support::good_config(&pki, srv.addr)).await.unwrap();
    let mut gw = Gateway::new(client, j);
    let e = gw
        .upload_file(
            SERVICE,
            &file,
            UploadOptions { name: Some(NAME.into()), ..UploadOptions::default() },
        )
        .await
        .unwrap_err();
    assert!(matches!(e, Error::UploadOutcomeUnknown { .. }), "{e:?}");
    let e = gw.upload_file(SERVICE, &file, UploadOptions::default()).await.unwrap_err();
    assert!(matches!(e, Error::ContentOutcomeUnknown { ref earlier } if earlier == NAME), "{e:?}");
    assert_eq!(srv.state.lock().unwrap().stor_count, 1, "nothing was sent");

    // The user's say: SKAT confirms it did not get the file. Now it can be
    // sent again, under a new name.
    gw.journal().resolve_unknown(NAME, UnknownResolution::NotReceived).unwrap();
    let small = dir.path().join("small.xml");
    std::fs::write(&small, b"<order/>").unwrap();
    // (A small file keeps the throttled server quick; the content rule was shown above.)
    let r = gw.upload_file(SERVICE, &small, UploadOptions::default()).await.unwrap();
    assert_ne!(r.name, NAME);
    assert_eq!(srv.state.lock().unwrap().stor_count, 2);
}
