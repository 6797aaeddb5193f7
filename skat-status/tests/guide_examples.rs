//! The guide's example status files, read field by field; what real files contain besides;
//! write -> read round trips; the lifecycle over the examples.

use skat_status::{
    Applied, ErrorCode, Ledger, LifecycleError, Outcome, ReadError, Remedy, Stage, StatusCode,
    StatusDocument, StatusFile, StatusFileError, Timestamp, TimestampFormat, Transaction,
};
use time::macros::datetime;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

macro_rules! fixture {
    ($name:literal) => {
        ($name, include_bytes!(concat!("fixtures/", $name)).as_slice())
    };
}

const DELIVERED: (&str, &[u8]) =
    fixture!("status_FTPSGW.Heartbeat_ping20201210143002441-hb01.xml_1.xml");
const ACCEPTED: (&str, &[u8]) =
    fixture!("status_FTPSGW.Heartbeat_ping20201210143002441-hb01.xml_2.xml");
const EXPOSED: (&str, &[u8]) =
    fixture!("status_FTPSGW.Heartbeat_ping20201210143002441-hb01.xml_3.xml");
const UNRELATED: (&str, &[u8]) = fixture!("status_Manifest.MidlertidigOpbevaringOpdater_Manifest.MidlertidigOpbevaringOpdater MAN_DKA54A eda73f9d-0215-4849-9e0b-275c91c62624.notify.xml_3.xml");
const ERROR: (&str, &[u8]) = fixture!("status_FTPSGW.Heartbeat_empty.xml_0.xml");

const ALL: [(&str, &[u8]); 5] = [DELIVERED, ACCEPTED, EXPOSED, UNRELATED, ERROR];

const PING_PATH: &str =
    "/CVR_19552101/RID_60134540/FTPSGW.Heartbeat/ping20201210143002441-hb01.xml";
const PING_ID: &str = "ping20201210143002441-hb01.xml";
const UNRELATED_ID: &str =
    "Manifest.MidlertidigOpbevaringOpdater MAN_DKA54A eda73f9d-0215-4849-9e0b-275c91c62624.notify.xml";

fn parse((name, xml): (&str, &[u8])) -> Result<StatusFile> {
    Ok(StatusFile::parse(name, xml)?)
}

/// Checks the fields the three heartbeat files share.
fn assert_ping(file: &StatusFile, status: StatusCode) {
    let doc = file.document();
    assert_eq!(file.status(), status);
    assert_eq!(file.name().service(), "FTPSGW.Heartbeat");
    assert_eq!(file.name().transaction_id(), PING_ID);
    assert_eq!(doc.filename, PING_PATH);
    assert_eq!(doc.ftp_transaction_id, PING_ID);
    assert_eq!(doc.skat_transaction_id.as_deref(), Some("ci1607607002916_31616756_1"));
    assert_eq!(doc.service, "FTPSGW.Heartbeat");
    assert_eq!(doc.timestamp.format(), TimestampFormat::Local);
    assert_eq!(doc.status_from_text(), Some(status));
    assert!(!file.is_unrelated_outbound());
    assert!(!doc.is_unrelated_outbound());
}

#[test]
fn status_1_delivered() -> Result {
    let file = parse(DELIVERED)?;
    assert_ping(&file, StatusCode::Delivered);
    let doc = file.document();
    assert_eq!(doc.timestamp.local(), Some(datetime!(2020-12-10 14:30:17)));
    assert_eq!(doc.status_text, "File delivered to requested Backend System");
    assert_eq!(doc.response_filename, None);
    assert_eq!(doc.error, None);
    Ok(())
}

#[test]
fn status_2_accepted() -> Result {
    let file = parse(ACCEPTED)?;
    assert_ping(&file, StatusCode::Accepted);
    let doc = file.document();
    assert_eq!(doc.timestamp.local(), Some(datetime!(2020-12-10 14:30:17)));
    assert_eq!(doc.status_text, "File accepted by FTPSGW.Heartbeat");
    assert_eq!(doc.response_filename, None);
    assert_eq!(doc.error, None);
    Ok(())
}

#[test]
fn status_3_response() -> Result {
    let file = parse(EXPOSED)?;
    assert_ping(&file, StatusCode::Exposed);
    let doc = file.document();
    assert_eq!(doc.timestamp.local(), Some(datetime!(2020-12-10 14:30:18)));
    assert_eq!(doc.status_text, "File exposed");
    assert_eq!(
        doc.response_filename.as_deref(),
        Some("/out/FTPSGW.Heartbeat_in_ping20201210143002441-hb01.xml_response.txt")
    );
    assert_eq!(doc.error, None);
    Ok(())
}

#[test]
fn status_3_unrelated_outbound() -> Result {
    let file = parse(UNRELATED)?;
    let doc = file.document();
    assert_eq!(file.status(), StatusCode::Exposed);
    assert_eq!(file.name().service(), "Manifest.MidlertidigOpbevaringOpdater");
    assert_eq!(file.name().transaction_id(), UNRELATED_ID);
    assert_eq!(doc.filename, "");
    assert_eq!(doc.ftp_transaction_id, UNRELATED_ID);
    assert_eq!(doc.skat_transaction_id.as_deref(), Some("MAN_1607577057900"));
    assert_eq!(doc.timestamp.local(), Some(datetime!(2020-12-10 06:11:59)));
    assert_eq!(doc.status_text, "File exposed");
    assert_eq!(doc.service, "Manifest.MidlertidigOpbevaringOpdater");
    assert_eq!(
        doc.response_filename.as_deref(),
        Some("/out/Manifest.MidlertidigOpbevaringOpdater MAN_DKA54A_eda73f9d-0215-4849-9e0b-275c91c62624.notify.xml")
    );
    assert_eq!(doc.error, None);
    assert!(file.is_unrelated_outbound());
    assert!(doc.is_unrelated_outbound());
    assert_eq!(
        doc.service.catalogue_entry().map(|s| s.system),
        Some(skat_status::System::Manifest)
    );
    Ok(())
}

#[test]
fn status_0_error() -> Result {
    let file = parse(ERROR)?;
    let doc = file.document();
    assert_eq!(file.status(), StatusCode::Error);
    assert_eq!(file.name().service(), "FTPSGW.Heartbeat");
    assert_eq!(file.name().transaction_id(), "empty.xml");
    assert_eq!(doc.filename, "RID_60134540/FTPSGW.Heartbeat/empty.xml");
    assert_eq!(doc.ftp_transaction_id, "empty.xml");
    assert_eq!(doc.skat_transaction_id, None);
    assert_eq!(doc.timestamp.unix_millis(), Some(1_607_615_347_963));
    assert_eq!(doc.timestamp.format(), TimestampFormat::UnixMillis);
    assert_eq!(doc.status_text, "ERROR");
    assert_eq!(doc.service, "FTPSGW.Heartbeat");
    assert_eq!(doc.response_filename, None);
    let error = doc.error.as_ref().ok_or("no error element")?;
    assert_eq!(error.code, ErrorCode::FilenameCannotBeReusedForTransaction);
    assert_eq!(
        error.message,
        "The filename provided has already been used for previous transaction"
    );
    assert_eq!(error.resolution, "Resubmit the file with a new filename");
    // The file says what the guide's table says.
    assert_eq!(error.code.message(), Some(error.message.as_str()));
    assert_eq!(error.code.resolution(), Some(error.resolution.as_str()));
    assert_eq!(error.code.remedy(), Remedy::UploadUnderNewName);
    assert!(!file.is_unrelated_outbound());
    Ok(())
}

#[test]
fn every_example_survives_write_then_read() -> Result {
    for fixture in ALL {
        let doc = parse(fixture)?.into_parts().1;
        let written = doc.to_xml()?;
        assert!(written.starts_with(skat_status::XML_DECLARATION), "{written}");
        assert_eq!(StatusDocument::from_xml(written.as_bytes())?, doc, "{written}");
        // And the name too.
        let name = parse(fixture)?.name().to_string();
        assert_eq!(name, fixture.0);
    }
    Ok(())
}

#[test]
fn written_form_follows_the_guide() -> Result {
    let written = parse(EXPOSED)?.document().to_xml()?;
    let expected = r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<status>
  <file>
    <filename>/CVR_19552101/RID_60134540/FTPSGW.Heartbeat/ping20201210143002441-hb01.xml</filename>
    <FTPTransaktionsId>ping20201210143002441-hb01.xml</FTPTransaktionsId>
    <SKATTransactionId>ci1607607002916_31616756_1</SKATTransactionId>
    <timestamp>20201210143018</timestamp>
    <status.code>File exposed</status.code>
    <service>FTPSGW.Heartbeat</service>
    <response>
      <filename>/out/FTPSGW.Heartbeat_in_ping20201210143002441-hb01.xml_response.txt</filename>
    </response>
  </file>
</status>
"#;
    assert_eq!(written, expected);
    Ok(())
}

#[test]
fn tolerates_crlf_bom_and_the_other_spelling() -> Result {
    for fixture in ALL {
        let expected = parse(fixture)?.into_parts().1;
        let text = std::str::from_utf8(fixture.1)?;
        let variants = [
            text.replace('\n', "\r\n"),
            format!("\u{feff}{text}"),
            format!("\u{feff}{}", text.replace('\n', "\r\n")),
            text.replace("SKATTransactionId", "SKATTransaktionsId"),
            text.replace('\n', "\n\t  "),
            text.replace("<file>", "<file>\n<unknown a=\"1\"><deep><er>x</er></deep></unknown>")
                .replace("</file>", "<trailer/></file>")
                .replace("<status>", "<status version=\"2\"><!-- note --><header>h</header>"),
        ];
        for variant in variants {
            assert_eq!(
                StatusDocument::from_xml(variant.as_bytes()).as_ref(),
                Ok(&expected),
                "{variant}"
            );
        }
    }
    Ok(())
}

#[test]
fn elements_may_come_in_any_order() -> Result {
    let xml = "<status><file><service>FTPSGW.Heartbeat</service>\
        <error><error.resolution>r</error.resolution><error.code>X_Y</error.code></error>\
        <status.code>ERROR</status.code><timestamp>20201210143017</timestamp>\
        <FTPTransaktionsId>a.xml</FTPTransaktionsId></file></status>";
    let doc = StatusDocument::from_xml(xml.as_bytes())?;
    assert_eq!(doc.filename, "");
    assert_eq!(doc.ftp_transaction_id, "a.xml");
    let error = doc.error.ok_or("no error")?;
    assert_eq!(error.code.as_str(), "X_Y");
    assert!(!error.code.is_known());
    assert_eq!(error.message, "");
    assert_eq!(error.resolution, "r");
    Ok(())
}

#[test]
fn cdata_and_other_declarations_are_read() -> Result {
    let xml = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<!DOCTYPE status>\n\
        <status><file><filename><![CDATA[/in/a&b.xml]]></filename>\
        <FTPTransaktionsId> a&amp;b.xml </FTPTransaktionsId><timestamp>\r\n20201210143017\r\n</timestamp>\
        <status.code>File delivered</status.code><service>S</service></file></status>";
    let doc = StatusDocument::from_xml(xml.as_bytes())?;
    assert_eq!(doc.filename, "/in/a&b.xml");
    assert_eq!(doc.ftp_transaction_id, "a&b.xml");
    assert_eq!(doc.timestamp.local(), Some(datetime!(2020-12-10 14:30:17)));
    Ok(())
}

#[test]
fn escaped_text_is_unescaped_and_written_escaped() -> Result {
    let xml = "<status><file><filename>/a&amp;b/&lt;c&gt;.xml</filename>\
        <FTPTransaktionsId>&lt;c&gt; &amp; d.xml</FTPTransaktionsId><timestamp>0</timestamp>\
        <status.code>File delivered</status.code><service>S</service></file></status>";
    let doc = StatusDocument::from_xml(xml.as_bytes())?;
    assert_eq!(doc.filename, "/a&b/<c>.xml");
    assert_eq!(doc.ftp_transaction_id, "<c> & d.xml");
    assert_eq!(doc.timestamp, Timestamp::from_unix_millis(0)?);
    let written = doc.to_xml()?;
    assert!(written.contains("&lt;c&gt; &amp; d.xml"), "{written}");
    assert_eq!(StatusDocument::from_xml(written.as_bytes())?, doc);
    Ok(())
}

fn read_error(xml: &str) -> ReadError {
    match StatusDocument::from_xml(xml.as_bytes()) {
        Ok(doc) => panic!("read {doc:?} from {xml}"),
        Err(e) => e,
    }
}

#[test]
fn missing_elements_are_named() -> Result {
    let text = std::str::from_utf8(ERROR.1)?;
    let cases = [
        ("<FTPTransaktionsId>empty.xml</FTPTransaktionsId>", "status/file/FTPTransaktionsId"),
        ("<timestamp>1607615347963</timestamp>", "status/file/timestamp"),
        ("<status.code>ERROR</status.code>", "status/file/status.code"),
        ("<service>FTPSGW.Heartbeat</service>", "status/file/service"),
        (
            "<error.code>FILENAME_CANNOT_BE_REUSED_FOR_TRANSACTION</error.code>",
            "status/file/error/error.code",
        ),
    ];
    for (element, path) in cases {
        let error = read_error(&text.replace(element, ""));
        assert_eq!(error, ReadError::Missing { element: path });
        assert_eq!(error.to_string(), format!("required element {path} is missing"));
    }
    assert_eq!(
        read_error("<status><other/></status>"),
        ReadError::Missing { element: "status/file" }
    );
    let no_response_name = std::str::from_utf8(EXPOSED.1)?.replace(
        "<filename>/out/FTPSGW.Heartbeat_in_ping20201210143002441-hb01.xml_response.txt</filename>",
        "",
    );
    assert_eq!(
        read_error(&no_response_name),
        ReadError::Missing { element: "status/file/response/filename" }
    );
    Ok(())
}

#[test]
fn bad_values_are_named() -> Result {
    let text = std::str::from_utf8(DELIVERED.1)?;
    let cases = [
        ("20201210143017", "2020-12-10", "status/file/timestamp"),
        ("20201210143017", "20201310143017", "status/file/timestamp"),
        ("<service>FTPSGW.Heartbeat", "<service>FTPSGW_Heartbeat", "status/file/service"),
        (">ping20201210143002441-hb01.xml<", ">a/b<", "status/file/FTPTransaktionsId"),
        (">ping20201210143002441-hb01.xml<", "><", "status/file/FTPTransaktionsId"),
    ];
    for (from, to, path) in cases {
        match read_error(&text.replace(from, to)) {
            ReadError::Invalid { element, .. } => assert_eq!(element, path, "{to}"),
            other => panic!("{to}: {other:?}"),
        }
    }
    Ok(())
}

#[test]
fn refuses_what_is_not_a_status_file() {
    assert_eq!(read_error(""), ReadError::NoRoot);
    assert_eq!(read_error("<?xml version=\"1.0\"?>  "), ReadError::NoRoot);
    assert_eq!(
        read_error("<response><file/></response>"),
        ReadError::WrongRoot { found: "response".into() }
    );
    assert!(matches!(read_error("<status><file>"), ReadError::Xml { .. }));
    assert!(matches!(read_error("<status><file></status>"), ReadError::Xml { .. }));
    assert!(matches!(
        read_error("<status><file><filename>&bogus;</filename></file></status>"),
        ReadError::Xml { .. }
    ));
    assert!(matches!(
        read_error("<status><file><service>a</service><service>b</service></file></status>"),
        ReadError::Xml { .. }
    ));
    assert_eq!(
        StatusDocument::from_xml(b"<status>\xff</status>"),
        Err(ReadError::NotUtf8 { offset: 8 })
    );
    assert_eq!(StatusDocument::from_xml(b"\xff\xfe<\0s\0"), Err(ReadError::Utf16));
}

#[test]
fn size_is_limited() -> Result {
    let (_, xml) = DELIVERED;
    assert_eq!(
        StatusDocument::from_xml_with_limit(xml, xml.len() - 1),
        Err(ReadError::TooLarge { len: xml.len(), limit: xml.len() - 1 })
    );
    assert!(StatusDocument::from_xml_with_limit(xml, xml.len()).is_ok());
    let huge = vec![b' '; skat_status::DEFAULT_MAX_LEN + 1];
    assert!(matches!(StatusDocument::from_xml(&huge), Err(ReadError::TooLarge { .. })));
    Ok(())
}

#[test]
fn deep_nesting_is_skipped_without_overflow() -> Result {
    let depth = 9_000;
    let text = std::str::from_utf8(DELIVERED.1)?;
    let deep = format!("{}{}", "<u>".repeat(depth), "</u>".repeat(depth));
    let xml = text.replace("<file>", &format!("<file>{deep}"));
    assert!(xml.len() <= skat_status::DEFAULT_MAX_LEN);
    assert_eq!(StatusDocument::from_xml(xml.as_bytes()), Ok(parse(DELIVERED)?.into_parts().1));
    Ok(())
}

#[test]
fn name_and_content_must_agree() -> Result {
    let (_, xml) = DELIVERED;
    for name in [
        "status_FTPSGW.Heartbeat_ping20201210143002441-hb01.xml_2.xml",
        "status_FTPSGW.Other_ping20201210143002441-hb01.xml_1.xml",
        "status_FTPSGW.Heartbeat_other.xml_1.xml",
    ] {
        assert!(
            matches!(StatusFile::parse(name, xml), Err(StatusFileError::Mismatch(_))),
            "{name}"
        );
    }
    let error = StatusFile::parse("status_x.xml", xml).err().ok_or("parsed")?;
    assert!(matches!(error, StatusFileError::Name(_)));
    let error = StatusFile::parse(DELIVERED.0, b"<status/>").err().ok_or("parsed")?;
    assert!(error.to_string().starts_with(&format!("status file {}: ", DELIVERED.0)), "{error}");
    Ok(())
}

#[test]
fn lifecycle_of_the_heartbeat_in_every_order() -> Result {
    let files = [parse(DELIVERED)?, parse(ACCEPTED)?, parse(EXPOSED)?];
    let orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
    let mut results = Vec::new();
    for order in orders {
        let sequence = order.iter().chain(order.iter()).filter_map(|&i| files.get(i));
        let t = Transaction::fold(sequence)?.ok_or("no files")?;
        assert_eq!(t.stage(), Stage::Exposed);
        assert_eq!(
            t.response_filenames().collect::<Vec<_>>(),
            ["/out/FTPSGW.Heartbeat_in_ping20201210143002441-hb01.xml_response.txt"]
        );
        assert_eq!(t.skat_transaction_id(), Some("ci1607607002916_31616756_1"));
        assert_eq!(t.filename(), Some(PING_PATH));
        assert_eq!(t.errors().count(), 0);
        results.push(t);
    }
    assert!(results.windows(2).all(|w| w.first() == w.last()));
    Ok(())
}

#[test]
fn lifecycle_reports_each_step() -> Result {
    let [delivered, accepted, exposed] = [parse(DELIVERED)?, parse(ACCEPTED)?, parse(EXPOSED)?];
    let mut t = Transaction::new(
        delivered.name().service().clone(),
        delivered.name().transaction_id().clone(),
    );
    assert_eq!(t.stage(), Stage::Uploaded);
    assert_eq!(
        t.apply(&accepted)?,
        Applied::Advanced { from: Stage::Uploaded, to: Stage::Accepted }
    );
    assert!(t.has_seen(StatusCode::Accepted) && !t.has_seen(StatusCode::Delivered));
    assert_eq!(t.apply(&delivered)?, Applied::Recorded);
    assert_eq!(t.apply(&delivered)?, Applied::Duplicate);
    assert_eq!(t.apply(&exposed)?, Applied::Advanced { from: Stage::Accepted, to: Stage::Exposed });
    assert!(t.stage().is_final());
    assert!(matches!(t.apply(&parse(ERROR)?), Err(LifecycleError::OtherTransaction { .. })));
    Ok(())
}

#[test]
fn an_error_outranks_everything() -> Result {
    let error = parse(ERROR)?;
    let text = std::str::from_utf8(DELIVERED.1)?.replace(PING_ID, "empty.xml");
    let delivered = StatusFile::parse("status_FTPSGW.Heartbeat_empty.xml_1.xml", text.as_bytes())?;
    for order in [[&error, &delivered], [&delivered, &error]] {
        let t = Transaction::fold(order)?.ok_or("no files")?;
        assert_eq!(t.stage(), Stage::Failed);
        let codes: Vec<_> = t.errors().map(|e| e.code.clone()).collect();
        assert_eq!(codes, [ErrorCode::FilenameCannotBeReusedForTransaction]);
    }
    Ok(())
}

#[test]
fn unrelated_outbound_files_are_kept_apart() -> Result {
    let unrelated = parse(UNRELATED)?;
    assert!(matches!(
        Transaction::fold([&unrelated]),
        Err(LifecycleError::UnrelatedOutbound { .. })
    ));

    let mut ledger = Ledger::new();
    assert_eq!(ledger.apply(unrelated.clone()), Outcome::UnrelatedOutbound { new: true });
    assert_eq!(ledger.apply(unrelated.clone()), Outcome::UnrelatedOutbound { new: false });
    for fixture in [EXPOSED, DELIVERED, EXPOSED, ERROR] {
        ledger.apply(parse(fixture)?);
    }
    assert_eq!(ledger.unrelated_outbound().count(), 1);
    let stages: Vec<(&str, Stage)> =
        ledger.transactions().map(|t| (t.transaction_id().as_str(), t.stage())).collect();
    assert_eq!(stages, [("empty.xml", Stage::Failed), (PING_ID, Stage::Exposed)]);
    assert_eq!(ledger.pending().count(), 0);
    Ok(())
}
