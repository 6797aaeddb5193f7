//! The file store receiving files: round trip, restart after an interruption and after a
//! process restart, duplicates, hostile dataset names, crash recovery.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod store_common;

use std::fs;

use oftp2_codec::fields::{FileEnveloping, FileSize, RecordFormat, SecurityLevel};
use oftp2_codec::reason::{EfnaReason, SfnaReason};
use oftp2_codec::record::{restart_position, Counts};
use oftp2_session::store::{
    FileStore, FsStore, IncomingDecision, Receipt, StoreError, StoreOptions,
};
use store_common::*;

const U: RecordFormat = RecordFormat::Unstructured;

fn counts(records: u64, octets: u64) -> Counts {
    Counts { records, octets }
}

#[test]
fn round_trip_delivers_into_the_inbox_and_owes_an_eerp() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let data = content(200_000);
    let sfid = sfid("INVOICES.2026", U, 0, data.len() as u64);
    let (mut file, restart) = accept(store.begin_incoming(&partner(), &sfid, true).unwrap());
    assert_eq!(restart, Counts::default());
    for chunk in data.chunks(7000) {
        file.write(chunk).unwrap();
    }
    file.checkpoint(counts(0, 100_000)).unwrap();
    assert_eq!(file.written(), data.len() as u64);
    let delivered = file.commit(counts(0, data.len() as u64)).unwrap();

    assert_eq!(delivered.path, store.inbox(&partner()).join("INVOICES_d2026+20261123+1430050001"));
    assert_eq!(fs::read(&delivered.path).unwrap(), data);
    assert_eq!(delivered.size, data.len() as u64);
    assert_eq!(delivered.counts, counts(0, data.len() as u64));
    assert_eq!(delivered.sfid, sfid);
    assert!(names(&store.incoming_dir(&partner())).is_empty(), "nothing left behind");

    let pending = store.pending_receipts(&partner()).unwrap();
    assert_eq!(pending.len(), 1);
    let Receipt::Eerp(eerp) = &pending[0].1 else { panic!("expected an EERP") };
    assert_eq!(eerp.dataset_name, sfid.dataset_name);
    assert_eq!((eerp.date, eerp.time), (sfid.date, sfid.time));
    assert_eq!(eerp.destination, partner(), "EERPDEST is the file's originator");
    assert_eq!(eerp.originator, us(), "EERPORIG is the file's destination");
}

#[test]
fn interrupted_transfer_resumes_from_the_checkpoint_after_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let data = content(10_000);
    let sfid = sfid("PAYROLL", U, 0, data.len() as u64);
    {
        let store = open(dir.path());
        let (mut file, _) = accept(store.begin_incoming(&partner(), &sfid, true).unwrap());
        file.write(&data[..3000]).unwrap();
        file.checkpoint(counts(0, 3000)).unwrap();
        file.write(&data[3000..5000]).unwrap();
        // The connection breaks: the writer is dropped without commit.
        drop(file);
    }
    let store = open(dir.path());
    let part = store.incoming_dir(&partner()).join(
        names(&store.incoming_dir(&partner())).into_iter().find(|n| n.ends_with(".part")).unwrap(),
    );
    assert!(fs::metadata(&part).unwrap().len() >= 3000, "the checkpointed data survived");

    // The peer offers to restart at block 4 (4096 octets); we hold 3000 octets: block 2.
    let offered = with_rest(sfid.clone(), 4);
    let (mut file, restart) = accept(store.begin_incoming(&partner(), &offered, true).unwrap());
    assert_eq!(restart, counts(0, 2048));
    assert_eq!(restart_position(U, false, restart).get(), 2);
    assert_eq!(fs::metadata(&part).unwrap().len(), 2048, "truncated to the agreed point");
    assert_eq!(file.written(), 2048);
    file.write(&data[2048..]).unwrap();
    let delivered = file.commit(counts(0, data.len() as u64)).unwrap();
    assert_eq!(fs::read(delivered.path).unwrap(), data);
}

#[test]
fn records_restart_at_the_checkpoint_or_lower_and_the_lower_point_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let data = content(3000);
    let fixed = sfid("F100", RecordFormat::Fixed, 100, 3000);
    {
        let store = open(dir.path());
        let (mut file, _) = accept(store.begin_incoming(&partner(), &fixed, true).unwrap());
        file.write(&data[..2500]).unwrap();
        file.checkpoint(counts(25, 2500)).unwrap();
        file.write(&data[2500..2700]).unwrap();
    }
    {
        let store = open(dir.path());
        let (_file, restart) =
            accept(store.begin_incoming(&partner(), &with_rest(fixed.clone(), 30), true).unwrap());
        assert_eq!(restart, counts(25, 2500));
    }
    {
        // The peer only knows of 10 records: cut there.
        let store = open(dir.path());
        let (_file, restart) =
            accept(store.begin_incoming(&partner(), &with_rest(fixed.clone(), 10), true).unwrap());
        assert_eq!(restart, counts(10, 1000));
    }
    let store = open(dir.path());
    let (mut file, restart) =
        accept(store.begin_incoming(&partner(), &with_rest(fixed.clone(), 30), true).unwrap());
    assert_eq!(restart, counts(10, 1000), "the cut is durable: no more than 10 records remain");
    file.write(&data[1000..]).unwrap();
    let delivered = file.commit(counts(30, 3000)).unwrap();
    assert_eq!(fs::read(delivered.path).unwrap(), data);
}

#[test]
fn variable_records_below_the_checkpoint_start_over() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let variable = sfid("V", RecordFormat::Variable, 500, 900);
    let (mut file, _) = accept(store.begin_incoming(&partner(), &variable, true).unwrap());
    file.write(&content(450)).unwrap();
    file.checkpoint(counts(3, 450)).unwrap();
    drop(file);

    let (file, restart) =
        accept(store.begin_incoming(&partner(), &with_rest(variable.clone(), 3), true).unwrap());
    assert_eq!(restart, counts(3, 450));
    drop(file);
    let (file, restart) =
        accept(store.begin_incoming(&partner(), &with_rest(variable.clone(), 2), true).unwrap());
    assert_eq!(restart, Counts::default(), "record 2's offset is unknown");
    assert_eq!(file.written(), 0);
    drop(file);
    // The earlier state is gone with the data.
    let (_file, restart) =
        accept(store.begin_incoming(&partner(), &with_rest(variable, 3), true).unwrap());
    assert_eq!(restart, Counts::default());
}

#[test]
fn no_restart_without_agreement_or_for_another_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let first = sfid("DOC", U, 0, 8192);
    let (mut file, _) = accept(store.begin_incoming(&partner(), &first, true).unwrap());
    file.write(&content(4096)).unwrap();
    file.checkpoint(counts(0, 4096)).unwrap();
    drop(file);

    // Same identity, different size: not the same file.
    let mut other = with_rest(first.clone(), 4);
    other.file_size = FileSize::new(99).unwrap();
    let (file, restart) = accept(store.begin_incoming(&partner(), &other, true).unwrap());
    assert_eq!(restart, Counts::default());
    drop(file);

    let (mut file, _) = accept(store.begin_incoming(&partner(), &first, true).unwrap());
    file.write(&content(4096)).unwrap();
    file.checkpoint(counts(0, 4096)).unwrap();
    drop(file);
    // Restart not agreed for this session.
    let (file, restart) =
        accept(store.begin_incoming(&partner(), &with_rest(first.clone(), 4), false).unwrap());
    assert_eq!(restart, Counts::default());
    assert_eq!(file.written(), 0);
    drop(file);

    // A secured file (signed, compressed or enveloped, as the engine's `is_secured`
    // says) restarts in blocks of the transmitted file, even if it is F or V. (A store
    // with file security: one without refuses a signed file.)
    let dir = tempfile::tempdir().unwrap();
    let store = open_secured(dir.path());
    let mut signed = sfid("SIGNED", RecordFormat::Fixed, 80, 8192);
    signed.security_level = SecurityLevel::Signed;
    let mut enveloped = sfid("ENVELOPED", RecordFormat::Variable, 80, 8192);
    enveloped.enveloping = FileEnveloping::Cms;
    for (secured, held, expected) in [(signed, 3000, 2048), (enveloped, 1500, 1024)] {
        let (mut file, _) = accept(store.begin_incoming(&partner(), &secured, true).unwrap());
        file.write(&content(held)).unwrap();
        file.checkpoint(counts(0, held as u64)).unwrap();
        drop(file);
        let (_file, restart) =
            accept(store.begin_incoming(&partner(), &with_rest(secured, 9), true).unwrap());
        assert_eq!(restart, counts(0, expected));
    }
}

#[test]
fn duplicate_after_commit_is_accepted_discarded_and_not_delivered_again() {
    let dir = tempfile::tempdir().unwrap();
    let data = content(5000);
    let sfid = sfid("ORDERS", U, 0, data.len() as u64);
    let first = {
        let store = open(dir.path());
        let (mut file, _) = accept(store.begin_incoming(&partner(), &sfid, true).unwrap());
        file.write(&data).unwrap();
        file.commit(counts(0, 5000)).unwrap()
    };
    // Our EFPA was lost; the peer sends the file again, after we restarted.
    let store = open(dir.path());
    let (mut file, original) = duplicate(store.begin_incoming(&partner(), &sfid, true).unwrap());
    assert_eq!(original, first);
    file.write(&content(5000)).unwrap();
    file.checkpoint(counts(0, 5000)).unwrap();
    assert_eq!(file.written(), 5000);
    assert_eq!(file.commit(counts(0, 5000)).unwrap(), first);

    assert_eq!(names(&store.inbox(&partner())).len(), 1, "delivered once");
    assert_eq!(fs::read(&first.path).unwrap(), data);
    assert_eq!(store.pending_receipts(&partner()).unwrap().len(), 1, "one EERP owed");
    assert!(names(&store.incoming_dir(&partner())).is_empty());

    // Even after the application took the file away.
    fs::remove_file(&first.path).unwrap();
    assert!(matches!(
        store.begin_incoming(&partner(), &sfid, false).unwrap(),
        IncomingDecision::Duplicate { .. }
    ));
    assert!(names(&store.inbox(&partner())).is_empty());
}

#[test]
fn hostile_dataset_names_stay_inside_the_inbox_and_never_collide() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let hostile = [
        "..",
        ".",
        "/",
        "../../ETC/PASSWD",
        "/ETC/SHADOW",
        "..&(..)",
        "-RF",
        "CON",
        "A/B",
        "A.B",
        "A_B-",
        "",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "//////////////////////////",
    ];
    let inbox = store.inbox(&partner());
    let mut paths = Vec::new();
    for (i, dsn) in hostile.iter().enumerate() {
        let dsn = dsn.replace('_', "");
        let sfid = sfid(&dsn, U, 0, 10);
        let (mut file, _) = accept(store.begin_incoming(&partner(), &sfid, false).unwrap());
        file.write(format!("file {i}").as_bytes()).unwrap();
        let delivered = file.commit(counts(0, 6)).unwrap();
        assert_eq!(delivered.path.parent().unwrap(), inbox, "{dsn:?}");
        let name = delivered.path.file_name().unwrap().to_str().unwrap().to_owned();
        assert!(!name.starts_with(['.', '-']), "{name}");
        assert!(
            name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_+".contains(&b)),
            "{name} has only portable characters"
        );
        assert_eq!(fs::read_to_string(&delivered.path).unwrap(), format!("file {i}"));
        paths.push(name.to_ascii_lowercase());
    }
    let distinct: std::collections::HashSet<_> = paths.iter().collect();
    assert_eq!(distinct.len(), hostile.len(), "distinct names, even ignoring case: {paths:?}");
    assert_eq!(names(&inbox).len(), hostile.len());
    // Nothing was written outside the store.
    assert_eq!(names(dir.path()), ["partners"]);
}

#[test]
fn same_name_from_two_originators_gets_two_files() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let first = sfid("SAME", U, 0, 1);
    let mut second = first.clone();
    second.originator = "O0013000000000000009".parse().unwrap();
    let mut paths = Vec::new();
    for (sfid, text) in [(&first, "one"), (&second, "two")] {
        let (mut file, _) = accept(store.begin_incoming(&partner(), sfid, false).unwrap());
        file.write(text.as_bytes()).unwrap();
        paths.push(file.commit(counts(0, 3)).unwrap().path);
    }
    assert_ne!(paths[0], paths[1]);
    assert!(paths[1].to_str().unwrap().ends_with("+2"));
    assert_eq!(fs::read_to_string(&paths[0]).unwrap(), "one");
    assert_eq!(fs::read_to_string(&paths[1]).unwrap(), "two");
    // Each is recognised as a duplicate of itself only.
    let (_, original) = duplicate(store.begin_incoming(&partner(), &second, false).unwrap());
    assert_eq!(original.path, paths[1]);
}

#[test]
fn a_second_session_for_the_same_file_is_refused_while_the_first_writes() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let sfid = sfid("BUSY", U, 0, 10);
    let (file, _) = accept(store.begin_incoming(&partner(), &sfid, true).unwrap());
    match store.begin_incoming(&partner(), &sfid, true).unwrap() {
        IncomingDecision::Refuse(refusal) => {
            assert_eq!(refusal.reason, SfnaReason::ACCESS_METHOD_FAILURE);
            assert!(refusal.retry);
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    drop(file);
    accept(store.begin_incoming(&partner(), &sfid, true).unwrap());
}

#[test]
fn abort_keeps_or_discards_the_partial_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let sfid = with_rest(sfid("ABORT", U, 0, 4096), 4);
    let (mut file, _) = accept(store.begin_incoming(&partner(), &sfid, true).unwrap());
    file.write(&content(2048)).unwrap();
    file.checkpoint(counts(0, 2048)).unwrap();
    file.abort(true).unwrap();
    let (file, restart) = accept(store.begin_incoming(&partner(), &sfid, true).unwrap());
    assert_eq!(restart, counts(0, 2048));
    file.abort(false).unwrap();
    assert!(names(&store.incoming_dir(&partner())).is_empty());
    let (_, restart) = accept(store.begin_incoming(&partner(), &sfid, true).unwrap());
    assert_eq!(restart, Counts::default());
}

#[test]
fn reopening_removes_partial_files_without_state_and_state_without_files() {
    let dir = tempfile::tempdir().unwrap();
    let incoming;
    {
        let store = open(dir.path());
        incoming = store.incoming_dir(&partner());
        let (mut file, _) =
            accept(store.begin_incoming(&partner(), &sfid("NOSTATE", U, 0, 10), true).unwrap());
        file.write(b"never checkpointed").unwrap();
        drop(file);
        let (mut file, _) =
            accept(store.begin_incoming(&partner(), &sfid("NOFILE", U, 0, 10), true).unwrap());
        file.write(b"checkpointed").unwrap();
        file.checkpoint(counts(0, 12)).unwrap();
        drop(file);
        let (mut file, _) =
            accept(store.begin_incoming(&partner(), &sfid("KEPT", U, 0, 10), true).unwrap());
        file.write(b"checkpointed").unwrap();
        file.checkpoint(counts(0, 12)).unwrap();
        drop(file);
        // The partial file of NOFILE vanishes; a state write was cut short.
        let part =
            names(&incoming).into_iter().find(|n| n.contains("NOFILE") && n.ends_with(".part"));
        fs::remove_file(incoming.join(part.unwrap())).unwrap();
        fs::write(incoming.join("X.state.tmp"), b"{").unwrap();
    }
    assert_eq!(names(&incoming).len(), 5);
    open(dir.path());
    let left = names(&incoming);
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(left.iter().all(|n| n.contains("KEPT")), "{left:?}");
}

#[test]
fn a_commit_cut_short_after_its_delivery_record_is_completed_on_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let data = content(3000);
    let sfid = sfid("CRASH", U, 0, 3000);
    let (delivered, receipts_dir) = {
        let store = open(dir.path());
        let (mut file, _) = accept(store.begin_incoming(&partner(), &sfid, true).unwrap());
        file.write(&data).unwrap();
        file.checkpoint(counts(0, 3000)).unwrap();
        let delivered = file.commit(counts(0, 3000)).unwrap();
        let receipts = store.inbox(&partner()).parent().unwrap().join("receipts");
        (delivered, receipts)
    };
    // Put the disk back into the state of a crash between the delivery record and the
    // rename: the partial file still in incoming/, its state there, no EERP yet.
    let incoming = delivered.path.parent().unwrap().parent().unwrap().join("incoming");
    let record = names(&incoming.parent().unwrap().join("delivered")).pop().unwrap();
    let key = record.strip_suffix(".json").unwrap();
    fs::rename(&delivered.path, incoming.join(format!("{key}.part"))).unwrap();
    fs::write(incoming.join(format!("{key}.state")), b"{}").unwrap();
    for name in names(&receipts_dir) {
        fs::remove_file(receipts_dir.join(name)).unwrap();
    }

    let store = open(dir.path());
    assert_eq!(fs::read(&delivered.path).unwrap(), data, "delivered by the roll forward");
    assert_eq!(names(&store.inbox(&partner())).len(), 1);
    assert!(names(&incoming).is_empty());
    assert_eq!(store.pending_receipts(&partner()).unwrap().len(), 1, "the EERP is owed");
    assert!(matches!(
        store.begin_incoming(&partner(), &sfid, true).unwrap(),
        IncomingDecision::Duplicate { .. }
    ));
}

#[test]
fn configured_size_limit_refuses_without_retry() {
    let dir = tempfile::tempdir().unwrap();
    let options = StoreOptions { max_file_size: Some(10_000), ..StoreOptions::new(us()) };
    let store = FsStore::with_options(dir.path(), options).unwrap();
    match store.begin_incoming(&partner(), &sfid("BIG", U, 0, 20_000), true).unwrap() {
        IncomingDecision::Refuse(refusal) => {
            assert_eq!((refusal.reason, refusal.retry), (SfnaReason::FILE_TOO_BIG, false));
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    // A peer that announces less than it sends is stopped at the limit.
    let (mut file, _) =
        accept(store.begin_incoming(&partner(), &sfid("LIAR", U, 0, 1000), true).unwrap());
    file.write(&content(9000)).unwrap();
    let err = file.write(&content(2000)).unwrap_err();
    assert!(matches!(err, StoreError::TooBig { limit: 10_000 }));
    assert_eq!(err.efna_reason(), EfnaReason::FILE_TOO_BIG);
    file.abort(false).unwrap();
    assert!(names(&store.inbox(&partner())).is_empty());
}

#[cfg(unix)]
#[test]
fn a_rename_whose_old_name_came_back_is_not_delivered_twice() {
    let dir = tempfile::tempdir().unwrap();
    let sfid = sfid("TWICE", U, 0, 4);
    let delivered = {
        let store = open(dir.path());
        let (mut file, _) = accept(store.begin_incoming(&partner(), &sfid, true).unwrap());
        file.write(b"once").unwrap();
        file.commit(counts(0, 4)).unwrap()
    };
    // Both directory entries survived a crash: the inbox name and the partial name.
    let partner_dir = delivered.path.parent().unwrap().parent().unwrap();
    let record = names(&partner_dir.join("delivered")).pop().unwrap();
    let key = record.strip_suffix(".json").unwrap();
    fs::hard_link(&delivered.path, partner_dir.join("incoming").join(format!("{key}.part")))
        .unwrap();

    let store = open(dir.path());
    assert_eq!(names(&store.inbox(&partner())).len(), 1, "still delivered once");
    assert!(names(&store.incoming_dir(&partner())).is_empty());
    assert_eq!(fs::read(&delivered.path).unwrap(), b"once");
}

#[test]
fn forgotten_deliveries_are_no_longer_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let sfid = sfid("OLD", U, 0, 3);
    let (mut file, _) = accept(store.begin_incoming(&partner(), &sfid, true).unwrap());
    file.write(b"old").unwrap();
    file.commit(counts(0, 3)).unwrap();
    let long_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    assert_eq!(store.forget_delivered(&partner(), long_ago).unwrap(), 0);
    assert!(matches!(
        store.begin_incoming(&partner(), &sfid, true).unwrap(),
        IncomingDecision::Duplicate { .. }
    ));
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(1);
    assert_eq!(store.forget_delivered(&partner(), later).unwrap(), 1);
    let (mut file, _) = accept(store.begin_incoming(&partner(), &sfid, true).unwrap());
    file.write(b"new").unwrap();
    let second = file.commit(counts(0, 3)).unwrap();
    assert!(second.path.to_str().unwrap().ends_with("+2"), "the first copy is not overwritten");
}

#[test]
fn the_engine_may_resume_lower_than_offered() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let data = content(5000);
    let sfid = with_rest(sfid("LOWER", U, 0, 5000), 4);
    let (mut file, _) = accept(store.begin_incoming(&partner(), &sfid, true).unwrap());
    file.write(&data[..4096]).unwrap();
    file.checkpoint(counts(0, 4096)).unwrap();
    drop(file);

    let (mut file, offered) = accept(store.begin_incoming(&partner(), &sfid, true).unwrap());
    assert_eq!(offered, counts(0, 4096));
    file.restart_at(offered).unwrap();
    assert!(file.restart_at(counts(0, 5000)).is_err(), "not beyond the offer");
    file.restart_at(counts(0, 1024)).unwrap();
    assert_eq!(file.written(), 1024);
    drop(file);
    // The lower point is durable.
    let (mut file, offered) = accept(store.begin_incoming(&partner(), &sfid, true).unwrap());
    assert_eq!(offered, counts(0, 1024));
    file.write(&data[1024..]).unwrap();
    assert!(file.restart_at(Counts::default()).is_err(), "not after writing");
    let delivered = file.commit(counts(0, 5000)).unwrap();
    assert_eq!(fs::read(delivered.path).unwrap(), data);

    // A V file cannot be cut between checkpoints, only started over.
    let variable = with_rest(sfid_v(), 3);
    let (mut file, _) = accept(store.begin_incoming(&partner(), &variable, true).unwrap());
    file.write(&content(300)).unwrap();
    file.checkpoint(counts(3, 294)).unwrap();
    drop(file);
    let (mut file, offered) = accept(store.begin_incoming(&partner(), &variable, true).unwrap());
    assert_eq!(offered, counts(3, 294));
    assert!(matches!(file.restart_at(counts(1, 98)), Err(StoreError::Restart { .. })));
    file.restart_at(Counts::default()).unwrap();
    assert_eq!(file.written(), 0);
    drop(file);
    let (_, offered) = accept(store.begin_incoming(&partner(), &variable, true).unwrap());
    assert_eq!(offered, Counts::default());
}

fn sfid_v() -> oftp2_codec::command::Sfid {
    sfid("VAR", RecordFormat::Variable, 100, 300)
}

#[test]
fn a_secured_file_is_refused_before_its_data_when_the_store_has_no_file_security() {
    use oftp2_codec::fields::{CipherSuite, FileCompression};
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let cases = [
        (
            SecurityLevel::EncryptedAndSigned,
            FileCompression::Zlib,
            false,
            SfnaReason::ENCRYPTED_FILE_NOT_ALLOWED,
        ),
        (SecurityLevel::Signed, FileCompression::Zlib, false, SfnaReason::SIGNED_FILE_NOT_ALLOWED),
        (SecurityLevel::None, FileCompression::Zlib, false, SfnaReason::COMPRESSION_NOT_ALLOWED),
        (SecurityLevel::None, FileCompression::None, true, SfnaReason::CIPHER_SUITE_NOT_SUPPORTED),
    ];
    for (level, compression, signed_receipt, reason) in cases {
        let mut secured = sfid("SECURED", U, 0, 10);
        secured.security_level = level;
        secured.compression = compression;
        secured.cipher_suite = CipherSuite::AES256_RSA_SHA256;
        secured.enveloping = FileEnveloping::Cms;
        secured.signed_eerp_request = signed_receipt;
        match store.begin_incoming(&partner(), &secured, true).unwrap() {
            IncomingDecision::Refuse(refusal) => {
                assert_eq!(refusal.reason, reason, "{level:?} {compression:?}");
                assert!(!refusal.retry);
                assert!(refusal.text.contains("no OFTP2 file security"), "{}", refusal.text);
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
    // An unsecured file is still welcome.
    accept(store.begin_incoming(&partner(), &sfid("PLAIN", U, 0, 10), true).unwrap());
}

#[test]
fn what_a_secured_file_unwraps_to_is_held_to_the_size_limit() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = PassThrough { inflate: 1_000_000 };
    let store = open_with_security(dir.path(), bomb, Some(100_000));
    let mut compressed = sfid("SMALL.ON.THE.WIRE", U, 0, 10);
    compressed.compression = oftp2_codec::fields::FileCompression::Zlib;
    compressed.enveloping = FileEnveloping::Cms;
    let (mut file, _) = accept(store.begin_incoming(&partner(), &compressed, true).unwrap());
    file.write(&content(10)).unwrap();
    let error = file.commit(counts(0, 10)).unwrap_err();
    assert!(matches!(error, StoreError::TooBig { limit: 100_000 }), "{error}");
    assert_eq!(error.efna_reason(), EfnaReason::FILE_TOO_BIG);
    assert!(names(&store.inbox(&partner())).is_empty(), "nothing delivered");
    assert!(names(&store.incoming_dir(&partner())).is_empty(), "nothing left behind");
    // The originator is owed a NERP.
    let owed = store.pending_receipts(&partner()).unwrap();
    assert!(matches!(owed.as_slice(), [(_, Receipt::Nerp(_))]), "{owed:?}");
}
