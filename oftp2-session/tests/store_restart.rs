//! A transfer cut at every point of a multi-buffer file (and cut again while resuming),
//! the store reopened each time as after a crash: the file arrives byte-identical,
//! exactly once, with exactly one EERP owed.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod store_common;

use std::fs;

use oftp2_codec::fields::RecordFormat;
use oftp2_codec::record::{restart_position, resume_at, Counts, ResumeAt};
use oftp2_session::store::{FileStore, IncomingDecision};
use store_common::*;

const CHUNK: usize = 700;
const CHUNKS: usize = 12;
const CHECKPOINT_EVERY: usize = 3;

/// The counts of the first `octets` of a file of this format (F records of 100 octets).
fn counts_of(format: RecordFormat, octets: usize) -> Counts {
    let records = if format == RecordFormat::Fixed { octets as u64 / 100 } else { 0 };
    Counts { records, octets: octets as u64 }
}

/// Sends `data` from `from` octets on, checkpointing as a driver would at buffer
/// boundaries, and breaks off after `cut` chunks if given. Returns whether it completed.
fn send(
    dir: &std::path::Path,
    format: RecordFormat,
    data: &[u8],
    sent_before: usize,
    cut: Option<usize>,
) -> (bool, usize) {
    let store = open(dir);
    let lrecl = if format == RecordFormat::Fixed { 100 } else { 0 };
    let base = sfid("CUT.TEST", format, lrecl, data.len() as u64);
    // The sender offers to restart where its last attempt got to.
    let offer = restart_position(format, false, counts_of(format, sent_before)).get();
    let announced = with_rest(base, offer);
    let (mut file, restart_from) = match store.begin_incoming(&partner(), &announced, true).unwrap()
    {
        IncomingDecision::Accept { file, restart_from } => (file, restart_from),
        other => panic!("expected Accept, got {other:?}"),
    };
    let position = restart_position(format, false, restart_from);
    assert!(position.get() <= offer, "never more than offered");
    let from = match resume_at(format, false, position) {
        ResumeAt::Record(n) => n as usize * 100,
        ResumeAt::Octet(n) => n as usize,
    };
    assert_eq!(from as u64, restart_from.octets);
    assert_eq!(file.written(), restart_from.octets, "the partial file is cut to the restart");
    let mut at = from;
    let mut chunks = 0;
    while at < data.len() {
        if cut == Some(chunks) {
            return (false, at);
        }
        let end = (at + CHUNK).min(data.len());
        file.write(&data[at..end]).unwrap();
        at = end;
        chunks += 1;
        if chunks % CHECKPOINT_EVERY == 0 {
            file.checkpoint(counts_of(format, at)).unwrap();
        }
    }
    file.commit(counts_of(format, data.len())).unwrap();
    (true, at)
}

/// A folder on a memory file system where there is one (this test is about restart
/// logic, not about how fast a disk syncs).
fn scratch() -> tempfile::TempDir {
    let shm = std::path::Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(dir) = tempfile::tempdir_in(shm) {
            return dir;
        }
    }
    tempfile::tempdir().unwrap()
}

#[test]
fn cut_at_every_buffer_and_resumed_the_file_arrives_once() {
    let data = content(CHUNK * CHUNKS);
    for format in [RecordFormat::Unstructured, RecordFormat::Fixed, RecordFormat::Text] {
        for first_cut in 0..CHUNKS {
            for second_cut in [None, Some(1), Some(2)] {
                let dir = scratch();
                let (done, sent) = send(dir.path(), format, &data, 0, Some(first_cut));
                assert!(!done);
                let mut sent = sent;
                if second_cut.is_some() {
                    let (done, again) = send(dir.path(), format, &data, sent, second_cut);
                    if !done {
                        sent = again;
                    } else {
                        sent = data.len();
                    }
                }
                if sent < data.len() {
                    let (done, _) = send(dir.path(), format, &data, sent, None);
                    assert!(done);
                }
                let store = open(dir.path());
                let inbox = names(&store.inbox(&partner()));
                assert_eq!(inbox.len(), 1, "{format:?} cut at {first_cut}, {second_cut:?}");
                let path = store.inbox(&partner()).join(&inbox[0]);
                assert_eq!(fs::read(path).unwrap(), data, "{format:?} cut at {first_cut}");
                assert_eq!(store.pending_receipts(&partner()).unwrap().len(), 1);
                assert!(names(&store.incoming_dir(&partner())).is_empty());
            }
        }
    }
}
