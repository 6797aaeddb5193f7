//! Swedish Customs' OFTP parameters, as their FAQ ("What OFTP parameters is used?")
//! publishes them.
//!
//! | FAQ parameter | Value | Here |
//! |---|---|---|
//! | SSID / SFID (ODETTE code) | `O094200002021000969PRDINT` | [`CUSTOMS_ODETTE_ID`], [`customs_odette_id`] |
//! | DNS name | `tmf01.tullverket.se` | [`HOST`] |
//! | Port | 6619 | [`PORT`] |
//! | Oftp Maximum Protocol Version | 2.0 | [`PROTOCOL_LEVEL`] |
//! | Oftp Maximum Window Size | 7 | [`WINDOW_SIZE`] |
//! | Oftp Maximum Buffer Size | 2048 | [`BUFFER_SIZE`] |
//! | Use TLS for OFTP2 | Y | always: the profile has no plain TCP mode |
//! | CHANNELSIN / CHANNELSOUT | 1 / 1 | [`CHANNELS`] |
//! | FILEDIR | B | [`FILE_DIRECTION`] |
//! | FORMAT | U to Customs | [`FORMAT_TO_CUSTOMS`] |
//! | (files from Customs) | fixed, record size 80 | [`FORMAT_FROM_CUSTOMS`], [`RECORD_LENGTH_FROM_CUSTOMS`] |
//!
//! Customs uses neither OFTP2 file encryption nor signing: TLS protects the session, so
//! files are sent without file security. Their server certificate is issued by GlobalSign
//! ([`GLOBALSIGN_ROOT_URL`], [`GLOBALSIGN_INTERMEDIATE_URL`]).

use oftp2_codec::fields::{BufferSize, Credit, OdetteId, RecordFormat, SendReceive};
use oftp2_codec::ProtocolLevel;

/// Customs' ODETTE identification code: their SSIDCODE, and the SFIDDEST of files to
/// them and SFIDORIG of files from them.
pub const CUSTOMS_ODETTE_ID: &str = "O094200002021000969PRDINT";

/// Customs' OFTP server.
pub const HOST: &str = "tmf01.tullverket.se";

/// Customs' OFTP port (the registered `odette-ftps` port, OFTP over TLS).
pub const PORT: u16 = 6619;

/// The OFTP protocol level: 2.0 (RFC 5024).
pub const PROTOCOL_LEVEL: ProtocolLevel = ProtocolLevel::V2_0;

/// The credit window (SSIDCRED): 7 exchange buffers before a CDT.
pub const WINDOW_SIZE: Credit = match Credit::new(7) {
    Ok(credit) => credit,
    Err(_) => Credit::MIN,
};

/// The largest exchange buffer (SSIDSDEB): 2,048 octets.
pub const BUFFER_SIZE: BufferSize = match BufferSize::new(2048) {
    Ok(size) => size,
    Err(_) => BufferSize::MIN,
};

/// Channels in and out: one session at a time.
pub const CHANNELS: usize = 1;

/// File direction (FILEDIR `B`): files go both ways.
pub const FILE_DIRECTION: SendReceive = SendReceive::Both;

/// The record format of files sent to Customs: U (unstructured).
pub const FORMAT_TO_CUSTOMS: RecordFormat = RecordFormat::Unstructured;

/// The record format of every file Customs sends: F (fixed).
pub const FORMAT_FROM_CUSTOMS: RecordFormat = RecordFormat::Fixed;

/// The record length of every file Customs sends: 80 octets.
pub const RECORD_LENGTH_FROM_CUSTOMS: usize = 80;

/// Where GlobalSign publishes the root of Customs' server certificate (GlobalSign Root
/// CA, "R1"; DER).
pub const GLOBALSIGN_ROOT_URL: &str = "https://secure.globalsign.net/cacert/Root-R1.crt";

/// Where GlobalSign publishes the intermediate that issues Customs' server certificate
/// (GlobalSign Organization Validation CA - SHA256 - G2; DER).
pub const GLOBALSIGN_INTERMEDIATE_URL: &str =
    "https://secure.globalsign.com/cacert/gsoorganizationvalsha2g2r1.crt";

/// Where Customs publishes its current server certificate.
pub const SERVER_CERTIFICATE_URL: &str = "https://ca.tullverket.se/server_authentication/";

/// The subject name of the root: `GlobalSign Root CA`.
pub const GLOBALSIGN_ROOT_NAME: &str = "GlobalSign Root CA";

/// The subject name of the intermediate.
pub const GLOBALSIGN_INTERMEDIATE_NAME: &str =
    "GlobalSign Organization Validation CA - SHA256 - G2";

/// `host:port` of Customs' server.
pub fn address() -> String {
    format!("{HOST}:{PORT}")
}

/// [`CUSTOMS_ODETTE_ID`] as an [`OdetteId`].
pub fn customs_odette_id() -> OdetteId {
    OdetteId::new(CUSTOMS_ODETTE_ID).expect("Customs' code is a valid Odette identification code")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_are_the_faqs() {
        let customs = OdetteId::new(CUSTOMS_ODETTE_ID).unwrap();
        assert_eq!(customs_odette_id(), customs);
        assert_eq!(customs.international_code_designator(), "0942");
        assert_eq!(customs.organisation_code(), "00002021000969");
        assert_eq!(customs.computer_subaddress(), "PRDINT");
        assert_eq!(WINDOW_SIZE.get(), 7);
        assert_eq!(BUFFER_SIZE.get(), 2048);
        assert_eq!(address(), "tmf01.tullverket.se:6619");
    }
}
