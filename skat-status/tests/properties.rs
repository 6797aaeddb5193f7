//! Property tests: names and documents round trip, parsers take any input without panicking,
//! and the lifecycle fold does not depend on order or repeats.

use proptest::prelude::*;
use skat_status::{
    ErrorCode, ErrorReport, ServiceName, StatusCode, StatusDocument, StatusFile, StatusFileName,
    Timestamp, Transaction, TransactionId,
};
use time::{Date, Month, PrimitiveDateTime, Time};

fn service() -> impl Strategy<Value = ServiceName> {
    "[A-Za-z0-9ÆØÅæøå][A-Za-z0-9.ÆØÅæøå-]{0,40}"
        .prop_filter_map("valid service", |s| ServiceName::new(s).ok())
}

fn transaction_id() -> impl Strategy<Value = TransactionId> {
    "[A-Za-z0-9._ø-]([A-Za-z0-9._ ø-]{0,60}[A-Za-z0-9._ø-])?"
        .prop_filter_map("valid id", |s| TransactionId::new(s).ok())
}

fn status_code() -> impl Strategy<Value = StatusCode> {
    prop::sample::select(StatusCode::ALL.to_vec())
}

/// Free text as a reader returns it: no surrounding white space, no CR, no control
/// characters; markup characters included.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), "[!-~æøåÆØÅ€]([ -~æøåÆØÅ€\n]{0,40}[!-~æøåÆØÅ€])?",]
}

fn timestamp() -> impl Strategy<Value = Timestamp> {
    prop_oneof![
        (0..=skat_status::MAX_UNIX_MILLIS)
            .prop_filter_map("millis", |m| { Timestamp::from_unix_millis(m).ok() }),
        (0_i32..=9999, 1_u8..=12, 1_u8..=31, 0_u8..24, 0_u8..60, 0_u8..60).prop_filter_map(
            "valid date",
            |(y, mo, d, h, mi, s)| {
                let date = Date::from_calendar_date(y, Month::try_from(mo).ok()?, d).ok()?;
                let time = Time::from_hms(h, mi, s).ok()?;
                Timestamp::from_local(PrimitiveDateTime::new(date, time)).ok()
            }
        ),
    ]
}

fn error_code() -> impl Strategy<Value = ErrorCode> {
    prop_oneof![
        prop::sample::select(ErrorCode::KNOWN.to_vec()),
        "[A-Z][A-Z_ .]{0,30}[A-Z]".prop_filter_map("valid code", |s| ErrorCode::new(&s).ok()),
    ]
}

fn error_report() -> impl Strategy<Value = ErrorReport> {
    (error_code(), text(), text()).prop_map(|(code, message, resolution)| ErrorReport {
        code,
        message,
        resolution,
    })
}

prop_compose! {
    fn document()(
        filename in text(),
        ftp_transaction_id in transaction_id(),
        skat_transaction_id in proptest::option::of("[!-~]{1,30}"),
        timestamp in timestamp(),
        status_text in text(),
        service in service(),
        response_filename in proptest::option::of(text()),
        error in proptest::option::of(error_report()),
    ) -> StatusDocument {
        StatusDocument {
            filename,
            ftp_transaction_id,
            skat_transaction_id,
            timestamp,
            status_text,
            service,
            response_filename,
            error,
        }
    }
}

/// A status file of the transaction `service`/`id` with status `code`.
fn status_file(
    service: &ServiceName,
    id: &TransactionId,
    code: StatusCode,
    response: Option<String>,
    error: Option<ErrorReport>,
) -> Option<StatusFile> {
    let document = StatusDocument {
        filename: format!("/CVR_1/RID_2/{service}/{id}"),
        ftp_transaction_id: id.clone(),
        skat_transaction_id: Some(format!("ci{}", code.as_u8())),
        timestamp: Timestamp::from_unix_millis(i64::from(code.as_u8())).ok()?,
        status_text: code.status_text(service.as_str()),
        service: service.clone(),
        response_filename: response.filter(|_| code == StatusCode::Exposed),
        error: error.filter(|_| code == StatusCode::Error),
    };
    StatusFile::new(StatusFileName::new(service.clone(), id.clone(), code), document).ok()
}

proptest! {
    #[test]
    fn names_round_trip(service in service(), id in transaction_id(), code in status_code()) {
        let name = StatusFileName::new(service, id, code);
        let text = name.to_string();
        prop_assert_eq!(StatusFileName::parse(&text), Ok(name));
    }

    #[test]
    fn any_string_parses_as_a_name_or_fails_cleanly(s in "\\PC{0,80}|status_[A-Za-z._ -]{0,30}_[0-9]\\.xml") {
        if let Ok(name) = StatusFileName::parse(&s) {
            prop_assert_eq!(name.to_string(), s);
        }
    }

    #[test]
    fn timestamps_round_trip(t in timestamp()) {
        prop_assert_eq!(Timestamp::parse(&t.to_string()), Ok(t));
    }

    #[test]
    fn documents_round_trip(doc in document()) {
        let xml = doc.to_xml().map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(StatusDocument::from_xml(xml.as_bytes()), Ok(doc), "{}", xml);
    }

    #[test]
    fn any_bytes_read_or_fail_cleanly(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(doc) = StatusDocument::from_xml(&bytes) {
            let xml = doc.to_xml().map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(StatusDocument::from_xml(xml.as_bytes()), Ok(doc));
        }
    }

    #[test]
    fn mangled_documents_read_or_fail_cleanly(doc in document(), cut in 0_usize..2000, insert in "[<>&/ a-z;#]{0,6}") {
        let xml = doc.to_xml().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut at = cut.min(xml.len());
        while !xml.is_char_boundary(at) {
            at -= 1;
        }
        let (head, tail) = xml.split_at(at);
        let mangled = format!("{head}{insert}{tail}");
        if let Ok(read) = StatusDocument::from_xml(mangled.as_bytes()) {
            let again = read.to_xml().map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(StatusDocument::from_xml(again.as_bytes()), Ok(read));
        }
    }

    #[test]
    fn fold_ignores_order_and_repeats(
        service in service(),
        id in transaction_id(),
        picks in prop::collection::vec((status_code(), proptest::option::of(text()), proptest::option::of(error_report())), 1..8),
        seed in any::<u64>(),
    ) {
        let files: Vec<StatusFile> = picks
            .into_iter()
            .filter_map(|(code, response, error)| status_file(&service, &id, code, response, error))
            .collect();
        // Repeat some files and shuffle deterministically from the seed.
        let mut shuffled: Vec<&StatusFile> = files.iter().chain(files.iter().step_by(2)).collect();
        let mut state = seed | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let j = usize::try_from(state % (i as u64 + 1)).unwrap_or(0);
            shuffled.swap(i, j);
        }
        let in_order = Transaction::fold(&files).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let shuffled = Transaction::fold(shuffled).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&in_order, &shuffled);
        if let Some(t) = in_order {
            let furthest = files.iter().map(|f| f.status()).max_by_key(|c| match c {
                StatusCode::Error => 4,
                other => other.as_u8(),
            });
            let expected = match furthest {
                Some(StatusCode::Error) => skat_status::Stage::Failed,
                Some(StatusCode::Exposed) => skat_status::Stage::Exposed,
                Some(StatusCode::Accepted) => skat_status::Stage::Accepted,
                Some(StatusCode::Delivered) => skat_status::Stage::Delivered,
                None => skat_status::Stage::Uploaded,
            };
            prop_assert_eq!(t.stage(), expected);
        }
    }
}
