//! Any bytes given to the status file reader: no panic; a document that is read can be
//! written, the written form reads back to an equal document, and writing it again gives the
//! same text. Besides the raw input, the input is also spliced into one of the guide's example
//! files, so that mutations reach the deep paths of a nearly valid document.
#![no_main]

use libfuzzer_sys::fuzz_target;
use skat_status::StatusDocument;

const SEEDS: [&[u8]; 5] = [
    include_bytes!("../../skat-status/tests/fixtures/status_FTPSGW.Heartbeat_ping20201210143002441-hb01.xml_1.xml"),
    include_bytes!("../../skat-status/tests/fixtures/status_FTPSGW.Heartbeat_ping20201210143002441-hb01.xml_2.xml"),
    include_bytes!("../../skat-status/tests/fixtures/status_FTPSGW.Heartbeat_ping20201210143002441-hb01.xml_3.xml"),
    include_bytes!("../../skat-status/tests/fixtures/status_Manifest.MidlertidigOpbevaringOpdater_Manifest.MidlertidigOpbevaringOpdater MAN_DKA54A eda73f9d-0215-4849-9e0b-275c91c62624.notify.xml_3.xml"),
    include_bytes!("../../skat-status/tests/fixtures/status_FTPSGW.Heartbeat_empty.xml_0.xml"),
];

fn check(xml: &[u8]) {
    match StatusDocument::from_xml(xml) {
        Ok(document) => {
            let written = document.to_xml().expect("a document that was read can be written");
            let again = StatusDocument::from_xml(written.as_bytes())
                .unwrap_or_else(|e| panic!("written document does not read back: {e}\n{written}"));
            assert_eq!(again, document, "{written}");
            assert_eq!(again.to_xml().expect("writes again"), written);
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
}

/// Input layout: seed selector, two bytes of offset, one byte of how many bytes to cut there,
/// then the bytes to insert.
fn splice(data: &[u8]) -> Option<Vec<u8>> {
    let (&[selector, hi, lo, cut], insert) = data.split_first_chunk::<4>()?;
    let seed = SEEDS.get(usize::from(selector) % SEEDS.len())?;
    let at = usize::from(u16::from_be_bytes([hi, lo])) % (seed.len() + 1);
    let end = (at + usize::from(cut % 32)).min(seed.len());
    let mut out = Vec::with_capacity(seed.len() + insert.len());
    out.extend_from_slice(seed.get(..at)?);
    out.extend_from_slice(insert);
    out.extend_from_slice(seed.get(end..)?);
    Some(out)
}

fuzz_target!(|data: &[u8]| {
    check(data);
    if let Some(spliced) = splice(data) {
        check(&spliced);
    }
});
