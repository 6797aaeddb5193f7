//! The file store sending files: queue order and stamps, restart state of outgoing files,
//! refusals, receipt matching, and receipts owed surviving a reopen.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod store_common;

use std::io::{Read, Seek, SeekFrom};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use oftp2_codec::command::{Eerp, Nerp};
use oftp2_codec::fields::{OdetteId, RecordFormat, RecordLength, UserData, Utf8Text};
use oftp2_codec::reason::{EfnaReason, NerpReason, SfnaReason};
use oftp2_codec::record::{resume_at, Counts, ResumeAt};
use oftp2_session::store::{
    Failure, FileStore, FsStore, OutgoingEntry, OutgoingFile, OutgoingSource, OutgoingState,
    Receipt, RefusalReason, StoreError, StoreOptions,
};
use store_common::*;

fn fixed_clock() -> SystemTime {
    // 2026-11-23T14:30:05Z
    UNIX_EPOCH + Duration::from_secs(1_795_444_205)
}

fn file(dsn: &str, octets: &[u8]) -> OutgoingFile {
    OutgoingFile::unstructured(
        dsn.parse().unwrap(),
        partner(),
        OutgoingSource::Bytes(octets.to_vec()),
    )
}

fn eerp_for(entry: &OutgoingEntry) -> Eerp {
    Eerp {
        dataset_name: entry.sfid.dataset_name,
        date: entry.sfid.date,
        time: entry.sfid.time,
        user_data: UserData::EMPTY,
        destination: entry.sfid.originator,
        originator: entry.sfid.destination,
        hash: Bytes::new(),
        signature: Bytes::new(),
    }
}

fn nerp_for(entry: &OutgoingEntry) -> Nerp {
    Nerp {
        dataset_name: entry.sfid.dataset_name,
        date: entry.sfid.date,
        time: entry.sfid.time,
        destination: entry.sfid.originator,
        originator: entry.sfid.destination,
        creator: entry.sfid.destination,
        reason: NerpReason::FILE_PROCESSING_FAILED,
        text: Utf8Text::new("rejected by the application").unwrap(),
        hash: Bytes::new(),
        signature: Bytes::new(),
    }
}

#[test]
fn queue_order_and_unique_stamps_within_one_second() {
    let dir = tempfile::tempdir().unwrap();
    let options = StoreOptions { clock: fixed_clock, ..StoreOptions::new(us()) };
    let store = FsStore::with_options(dir.path(), options.clone()).unwrap();
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(store.queue_outgoing(&partner(), file(&format!("FILE{i}"), b"x")).unwrap());
    }
    let queued = store.outgoing(&partner()).unwrap();
    assert_eq!(queued.iter().map(|e| e.id).collect::<Vec<_>>(), ids);
    for (i, entry) in queued.iter().enumerate() {
        assert_eq!(entry.sfid.dataset_name.as_str(), format!("FILE{i}"));
        assert_eq!(entry.sfid.date.to_string(), "20261123");
        assert_eq!(entry.sfid.time.to_string(), format!("14300500{:02}", i + 1));
        assert_eq!(entry.id.stamp(), Some((entry.sfid.date, entry.sfid.time)));
        assert_eq!(entry.sfid.originator, us());
        assert_eq!(entry.sfid.destination, partner());
        assert_eq!(entry.state, OutgoingState::Queued);
    }
    // A new process in the same second goes on counting.
    drop(store);
    let store = FsStore::with_options(dir.path(), options).unwrap();
    let id = store.queue_outgoing(&partner(), file("LATER", b"y")).unwrap();
    assert_eq!(store.outgoing_entry(&id).unwrap().sfid.time.to_string(), "1430050006");
    assert_eq!(store.outgoing(&partner()).unwrap().last().unwrap().id, id);
}

#[test]
fn content_is_copied_from_a_path_and_read_back_with_seek() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("store"));
    let source = dir.path().join("source.dat");
    let data = content(300_000);
    std::fs::write(&source, &data).unwrap();
    let mut outgoing = OutgoingFile::unstructured(
        "BIG".parse().unwrap(),
        partner(),
        OutgoingSource::Path(source.clone()),
    );
    outgoing.format = RecordFormat::Fixed;
    outgoing.max_record_length = RecordLength::new(100).unwrap();
    outgoing.description = Utf8Text::new("a description").unwrap();
    let id = store.queue_outgoing(&partner(), outgoing).unwrap();
    // The outbox holds its own copy.
    std::fs::remove_file(&source).unwrap();

    let entry = store.outgoing_entry(&id).unwrap();
    assert_eq!(entry.size, 300_000);
    assert_eq!(entry.sfid.file_size.get(), 293);
    assert_eq!(entry.sfid.format, RecordFormat::Fixed);
    assert_eq!(entry.sfid.description.as_str(), "a description");
    let mut reader = store.open_outgoing(&id).unwrap();
    let mut all = Vec::new();
    reader.read_to_end(&mut all).unwrap();
    assert_eq!(all, data);
    reader.seek(SeekFrom::Start(250_000)).unwrap();
    let mut tail = Vec::new();
    reader.read_to_end(&mut tail).unwrap();
    assert_eq!(tail, data[250_000..]);

    // An F file must be whole records.
    let mut ragged = file("RAGGED", &content(150));
    ragged.format = RecordFormat::Fixed;
    ragged.max_record_length = RecordLength::new(100).unwrap();
    assert!(matches!(
        store.queue_outgoing(&partner(), ragged).unwrap_err(),
        StoreError::InvalidOutgoing(_)
    ));
    assert_eq!(store.outgoing(&partner()).unwrap().len(), 1);
}

#[test]
fn outgoing_restart_state_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let store = open(dir.path());
        let id = store.queue_outgoing(&partner(), file("RESTART", &content(10_000))).unwrap();
        store.outgoing_progress(&id, Counts { records: 0, octets: 5000 }).unwrap();
        id
    };
    let store = open(dir.path());
    let entry = store.outgoing_entry(&id).unwrap();
    assert_eq!(entry.progress, Counts { records: 0, octets: 5000 });
    assert_eq!(entry.restart_position().get(), 4);
    assert_eq!(
        resume_at(entry.sfid.format, false, entry.restart_position()),
        ResumeAt::Octet(4096)
    );

    // SFNA with retry: stays queued, progress kept; EFNA: the progress is gone.
    store
        .outgoing_refused(&id, RefusalReason::Sfna(SfnaReason::FILE_TOO_BIG), true, "disk full")
        .unwrap();
    let entry = store.outgoing_entry(&id).unwrap();
    assert_eq!((entry.state.clone(), entry.attempts), (OutgoingState::Queued, 1));
    assert_eq!(entry.progress.octets, 5000);
    assert_eq!(entry.last_refusal.as_ref().unwrap().text, "disk full");
    store
        .outgoing_refused(&id, RefusalReason::Efna(EfnaReason::INVALID_BYTE_COUNT), true, "")
        .unwrap();
    let entry = store.outgoing_entry(&id).unwrap();
    assert_eq!(entry.progress, Counts::default());
    assert_eq!(store.outgoing(&partner()).unwrap().len(), 1);

    // Without retry it has failed and is no longer offered.
    store
        .outgoing_refused(&id, RefusalReason::Sfna(SfnaReason::INVALID_FILENAME), false, "no")
        .unwrap();
    let entry = store.outgoing_entry(&id).unwrap();
    assert!(matches!(entry.state, OutgoingState::Failed(Failure::Refused(_))));
    assert!(store.outgoing(&partner()).unwrap().is_empty());
    assert_eq!(store.outgoing_all(&partner()).unwrap().len(), 1);
}

#[test]
fn eerp_and_nerp_are_matched_to_the_sent_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let a = store.queue_outgoing(&partner(), file("A", b"aaa")).unwrap();
    let b = store.queue_outgoing(&partner(), file("B", b"bbb")).unwrap();
    store.outgoing_sent(&a, Counts { records: 0, octets: 3 }).unwrap();
    store.outgoing_sent(&b, Counts { records: 0, octets: 3 }).unwrap();
    assert!(store.outgoing(&partner()).unwrap().is_empty(), "both wait for receipts");
    let entry_a = store.outgoing_entry(&a).unwrap();
    let entry_b = store.outgoing_entry(&b).unwrap();
    assert_eq!(entry_a.state, OutgoingState::Sent { counts: Counts { records: 0, octets: 3 } });

    // Unknown receipts: another dataset name, another originator, another time.
    let mut wrong_name = eerp_for(&entry_a);
    wrong_name.dataset_name = "OTHER".parse().unwrap();
    let mut wrong_dest = eerp_for(&entry_a);
    wrong_dest.destination = "O0013000000000000077".parse().unwrap();
    let mut wrong_time = eerp_for(&entry_a);
    wrong_time.time = oftp2_codec::fields::VirtualFileTime::new(1, 2, 3, 4).unwrap();
    for eerp in [wrong_name, wrong_dest, wrong_time] {
        assert_eq!(store.receipt_received(&partner(), &Receipt::Eerp(eerp)).unwrap(), None);
    }

    let eerp = eerp_for(&entry_a);
    assert_eq!(store.receipt_received(&partner(), &Receipt::Eerp(eerp.clone())).unwrap(), Some(a));
    let delivered = store.outgoing_entry(&a).unwrap();
    assert_eq!(delivered.state, OutgoingState::Delivered { receipt: eerp.clone() });
    assert!(matches!(store.open_outgoing(&a), Err(StoreError::UnknownOutgoing(_))));
    // The same EERP again (our RTR was lost) settles nothing new.
    assert_eq!(store.receipt_received(&partner(), &Receipt::Eerp(eerp)).unwrap(), None);

    let nerp = nerp_for(&entry_b);
    assert_eq!(store.receipt_received(&partner(), &Receipt::Nerp(nerp.clone())).unwrap(), Some(b));
    assert_eq!(store.outgoing_entry(&b).unwrap().state, OutgoingState::Failed(Failure::Nerp(nerp)));
    // The content of a failed file is kept for the application.
    assert!(store.open_outgoing(&b).is_ok());

    store.remove_outgoing(&a).unwrap();
    store.remove_outgoing(&b).unwrap();
    assert!(store.outgoing_all(&partner()).unwrap().is_empty());
    assert!(matches!(store.remove_outgoing(&a), Err(StoreError::UnknownOutgoing(_))));
}

#[test]
fn a_receipt_arriving_through_another_partner_is_matched() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let hub: OdetteId = "O0013000000000000HUB".parse().unwrap();
    let id = store.queue_outgoing(&partner(), file("ROUTED", b"r")).unwrap();
    store.outgoing_sent(&id, Counts::default()).unwrap();
    let eerp = eerp_for(&store.outgoing_entry(&id).unwrap());
    assert_eq!(store.receipt_received(&hub, &Receipt::Eerp(eerp)).unwrap(), Some(id));
}

#[test]
fn receipts_owed_survive_a_reopen_until_sent() {
    let dir = tempfile::tempdir().unwrap();
    let other: OdetteId = "O0013000000000000003".parse().unwrap();
    let nerp_id = {
        let store = open(dir.path());
        for (dsn, text) in [("ONE", "1"), ("TWO", "2")] {
            let decision =
                store.begin_incoming(&partner(), &sfid(dsn, RecordFormat::Text, 0, 1), true);
            let (mut file, _) = accept(decision.unwrap());
            file.write(text.as_bytes()).unwrap();
            file.commit(Counts { records: 0, octets: 1 }).unwrap();
        }
        // The session ends before the EERPs go out. The application also owes a NERP.
        let queued = store.queue_outgoing(&other, file("X", b"x")).unwrap();
        let nerp = nerp_for(&store.outgoing_entry(&queued).unwrap());
        let id = store.queue_receipt(&partner(), Receipt::Nerp(nerp.clone())).unwrap();
        assert_eq!(store.queue_receipt(&partner(), Receipt::Nerp(nerp)).unwrap(), id);
        id
    };
    let store = open(dir.path());
    let pending = store.pending_receipts(&partner()).unwrap();
    let kinds: Vec<_> = pending
        .iter()
        .map(|(_, r)| match r {
            Receipt::Eerp(e) => format!("EERP {}", e.dataset_name),
            Receipt::Nerp(n) => format!("NERP {}", n.dataset_name),
        })
        .collect();
    assert_eq!(kinds, ["EERP ONE", "EERP TWO", "NERP X"]);
    assert_eq!(pending[2].0, nerp_id);
    assert!(store.pending_receipts(&other).unwrap().is_empty());

    // The partner answers the first with RTR.
    store.receipt_sent(&pending[0].0).unwrap();
    assert!(matches!(store.receipt_sent(&pending[0].0), Err(StoreError::UnknownReceipt(_))));
    drop(store);
    let store = open(dir.path());
    let left: Vec<_> =
        store.pending_receipts(&partner()).unwrap().into_iter().map(|p| p.0).collect();
    assert_eq!(left, [pending[1].0.clone(), pending[2].0.clone()]);
}

#[test]
fn an_unfinished_queue_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let outbox;
    {
        let store = open(dir.path());
        store.queue_outgoing(&partner(), file("KEEP", b"k")).unwrap();
        outbox = store.inbox(&partner()).parent().unwrap().join("outbox");
        // A copy whose entry was never written (crash while copying).
        std::fs::write(outbox.join("000000000000000001.data"), b"half").unwrap();
        let missing = OutgoingSource::Path(dir.path().join("does-not-exist"));
        let err = store
            .queue_outgoing(
                &partner(),
                OutgoingFile::unstructured("GONE".parse().unwrap(), partner(), missing),
            )
            .unwrap_err();
        assert!(matches!(err, StoreError::Io { op: "open", .. }), "{err}");
    }
    assert_eq!(names(&outbox).len(), 3);
    let store = open(dir.path());
    assert_eq!(names(&outbox).len(), 2);
    assert_eq!(store.outgoing(&partner()).unwrap().len(), 1);
}

#[test]
fn a_file_asking_for_security_is_secured_when_queued_and_needs_a_file_security() {
    use oftp2_codec::fields::{CipherSuite, FileCompression, FileEnveloping, SecurityLevel};
    use oftp2_session::protection::FileServices;
    let dir = tempfile::tempdir().unwrap();
    let services = FileServices::all(CipherSuite::AES256_RSA_SHA512);
    let mut wanting = file("SECURE.ME", b"payload");
    wanting.services = services;
    let error = open(dir.path()).queue_outgoing(&partner(), wanting).unwrap_err();
    assert!(error.to_string().contains("no FileSecurity"), "{error}");

    let store = open_secured(dir.path());
    let mut secured = file("SECURE.ME", b"payload");
    secured.services = services;
    let id = store.queue_outgoing(&partner(), secured).unwrap();
    let entry = store.outgoing_entry(&id).unwrap();
    assert_eq!(entry.sfid.security_level, SecurityLevel::EncryptedAndSigned);
    assert_eq!(entry.sfid.cipher_suite, CipherSuite::AES256_RSA_SHA512);
    assert_eq!(entry.sfid.compression, FileCompression::Zlib);
    assert_eq!(entry.sfid.enveloping, FileEnveloping::Cms);
    assert!(entry.sfid.signed_eerp_request);
    assert_eq!(FileServices::of(&entry.sfid), services);
    assert_eq!(entry.transmitted_hash, Some(Vec::new()), "the hash the FileSecurity gave");
}
