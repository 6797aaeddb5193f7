//! The streaming BER/DER reader over arbitrary input: never a panic; what `read_element`
//! normalises to DER reads back as exactly itself; OCTET STRING streaming, skipping and
//! walking stay within the input.
#![no_main]

use std::io::Read;

use libfuzzer_sys::fuzz_target;
use oftp2_session::security::asn1::Reader;

const LIMIT: usize = 1 << 16;

/// Walks every element, entering constructed ones, up to the reader's depth limit.
fn walk(r: &mut Reader<&[u8]>) -> Result<(), oftp2_session::security::SecurityError> {
    while !r.at_end()? {
        let h = r.read_header()?;
        if h.tag.constructed {
            r.enter(&h)?;
            walk(r)?;
            r.leave()?;
        } else {
            r.skip_content(&h)?;
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let mut r = Reader::new(data, "Fuzz");
    if let Ok(der) = r.read_element(LIMIT) {
        assert!(der.len() <= LIMIT);
        let mut again = Reader::new(der.as_slice(), "Fuzz");
        let twice = again.read_element(2 * LIMIT).expect("normalised DER reads again");
        assert_eq!(twice, der, "normalising DER changes nothing");
        again.expect_eof().expect("nothing follows the normalised element");
    }

    let mut r = Reader::new(data, "Fuzz");
    if let Ok(h) = r.read_header() {
        if let Ok(mut content) = r.into_octet_string(&h) {
            let mut buf = [0u8; 512];
            let mut total = 0usize;
            while let Ok(n) = content.read(&mut buf) {
                if n == 0 {
                    break;
                }
                total += n;
                assert!(total <= data.len());
            }
        }
    }

    let _ = Reader::new(data, "Fuzz").skip_element();
    let _ = walk(&mut Reader::new(data, "Fuzz"));
});
