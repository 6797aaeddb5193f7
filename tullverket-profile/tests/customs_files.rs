//! Files with a local responder set up as Customs is: a U file goes to Customs and an
//! F/80 file comes back in the same session, with EERPs both ways; the F/80 file reads
//! as records and lines; files of another format (U) or record length (F/120) are
//! reported clearly;
//! the builder refuses to work without trust anchors.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a panic is a failure

mod customs_support;

use std::sync::Arc;

use oftp2_codec::fields::RecordFormat;
use oftp2_session::driver::{Direction, OutgoingOutcome};
use oftp2_session::engine::Receipt;
use oftp2_session::store::{FileStore, FsStore, OutgoingSource, OutgoingState};
use tullverket_profile::records::{lines_to_records, record_to_line, Records, RecordsError};
use tullverket_profile::{params, queue_to_customs, Profile, ProfileError};

use customs_support::{company, profile, Customs, CustomsPki, PASSWORD};

fn declaration(size: usize) -> Vec<u8> {
    b"UNA:+.? 'UNB+UNOC:3+5560360793:30+2021000969:30+261123:1200+1'UNH+1+CUSDEC:D:96B:UN'"
        .iter()
        .cycle()
        .take(size)
        .copied()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_u_file_goes_out_and_an_f80_file_comes_in_with_receipts_both_ways() {
    let pki = CustomsPki::new();
    let customs = Customs::start(&pki).await;
    let lines: Vec<String> = (0..500).map(|i| format!("CUSRES LINE {i:04} ACCEPTED")).collect();
    let mut f80 = Vec::new();
    lines_to_records(lines.join("\r\n").as_bytes(), &mut f80).unwrap();
    customs.queue("CUSRES", RecordFormat::Fixed, 80, f80.clone());

    let profile = profile(&customs.address, &pki.root, &pki.intermediate);
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FsStore::open(dir.path(), company().odette_id()).unwrap());
    let body = declaration(50_000);
    queue_to_customs(&*store, "CUSDEC".parse().unwrap(), OutgoingSource::Bytes(body.clone()))
        .unwrap();
    let node = profile.node(store.clone());
    let progress = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = progress.clone();
    let report = node
        .connect(
            &profile.customs(),
            Some(Box::new(move |p: &oftp2_session::driver::Progress| {
                seen.lock().unwrap().push((p.direction, p.octets));
            })),
        )
        .await
        .unwrap();

    assert!(report.end.is_normal(), "{:?}", report.end);
    let negotiated = report.negotiated.unwrap();
    assert_eq!(
        (negotiated.buffer_size, negotiated.credit),
        (params::BUFFER_SIZE, params::WINDOW_SIZE)
    );
    assert!(matches!(report.sent.as_slice(), [OutgoingOutcome::Sent { .. }]), "{:?}", report.sent);
    assert_eq!(report.receipts.len(), 1, "Customs' EERP for our file");
    assert!(matches!(report.receipts[0].receipt, Receipt::Eerp(_)));
    let progress = progress.lock().unwrap().clone();
    let last = |direction| progress.iter().filter(|p| p.0 == direction).map(|p| p.1).max();
    assert_eq!(last(Direction::Outbound), Some(body.len() as u64), "{progress:?}");
    assert_eq!(last(Direction::Inbound), Some(f80.len() as u64), "{progress:?}");
    for entry in store.outgoing_all(&profile.customs()).unwrap() {
        assert!(matches!(entry.state, OutgoingState::Delivered { .. }), "{entry:?}");
    }

    // The F/80 file, as records and as lines.
    assert_eq!(report.received.len(), 1);
    let delivered = &report.received[0];
    assert_eq!(delivered.sfid.format, RecordFormat::Fixed);
    assert_eq!(std::fs::read(&delivered.path).unwrap(), f80);
    let mut records = Records::open(delivered).unwrap();
    let read: Vec<String> = records
        .by_ref()
        .map(|record| String::from_utf8(record_to_line(&record.unwrap()).to_vec()).unwrap())
        .collect();
    assert_eq!(read, lines);
    assert_eq!(records.records_read(), 500);

    // Customs got our U file and our EERP for theirs.
    let theirs = customs.report(1).await;
    assert!(theirs.end.is_normal(), "{:?}", theirs.end);
    assert_eq!(theirs.received.len(), 1);
    assert_eq!(theirs.received[0].sfid.format, RecordFormat::Unstructured);
    assert_eq!(theirs.received[0].sfid.destination, params::customs_odette_id());
    assert_eq!(std::fs::read(&theirs.received[0].path).unwrap(), body);
    assert_eq!(theirs.receipts.len(), 1, "our EERP for the F/80 file");
    assert!(theirs.receipts[0].file.is_some(), "it settles Customs' file");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_of_another_format_or_record_length_are_reported() {
    let pki = CustomsPki::new();
    let customs = Customs::start(&pki).await;
    customs.queue("WIDE", RecordFormat::Fixed, 120, vec![b'W'; 360]);
    customs.queue("UNSTRUCTURED", RecordFormat::Unstructured, 0, vec![b'U'; 100]);
    let profile = profile(&customs.address, &pki.root, &pki.intermediate);
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FsStore::open(dir.path(), company().odette_id()).unwrap());
    let report = profile.node(store).connect(&profile.customs(), None).await.unwrap();
    assert!(report.end.is_normal(), "{:?}", report.end);
    assert_eq!(report.received.len(), 2);

    let wide = report.received.iter().find(|f| f.sfid.dataset_name.as_str() == "WIDE").unwrap();
    let error = Records::open(wide).unwrap_err();
    assert!(matches!(error, RecordsError::WrongRecordLength { found: 120, .. }), "{error:?}");
    assert!(error.to_string().contains("records of 120 octets"), "{error}");
    assert!(error.to_string().contains("80 octets"), "{error}");

    let unstructured =
        report.received.iter().find(|f| f.sfid.dataset_name.as_str() == "UNSTRUCTURED").unwrap();
    let error = Records::open(unstructured).unwrap_err();
    assert!(
        matches!(error, RecordsError::NotFixed { format: RecordFormat::Unstructured, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("format U"), "{error}");
    assert!(error.to_string().contains("format F with records of 80 octets"), "{error}");
}

#[test]
fn the_profile_refuses_to_trust_nothing_and_names_the_downloads() {
    let refused = Profile::builder(company()).password(PASSWORD.parse().unwrap()).build();
    let error = refused.unwrap_err();
    assert!(matches!(error, ProfileError::NoTrustAnchor));
    assert!(error.to_string().contains(params::GLOBALSIGN_ROOT_URL), "{error}");

    let missing = Profile::builder(company())
        .password(PASSWORD.parse().unwrap())
        .globalsign("/nonexistent/Root-R1.crt", "/nonexistent/intermediate.crt")
        .build()
        .unwrap_err();
    assert!(matches!(missing, ProfileError::Trust(_)), "{missing:?}");
    assert!(missing.to_string().contains("Root-R1.crt"), "{missing}");

    let pki = CustomsPki::new();
    let no_password = Profile::builder(company())
        .globalsign(&pki.root.pem_file, &pki.intermediate.pem_file)
        .build()
        .unwrap_err();
    assert!(matches!(no_password, ProfileError::MissingPassword { .. }));
}
