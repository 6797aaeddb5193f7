//! Test parties for the SignedData, receipt and pipeline tests: self-signed RSA 2048
//! certificates (with a chosen serial number, so that two certificates can share issuer and
//! serial) made with the `openssl` command line through `interop_support`, and the
//! `openssl cms -sign` / `-verify` calls those tests make on them.

#![allow(dead_code, clippy::unwrap_used, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};
use std::process::Command;

use oftp2_session::security::identity::{Certificate, Identity, PrivateKey};

use super::interop_support::{self, openssl, self_signed};

/// EDI-like text of `len` octets.
#[allow(unused_imports)]
pub(crate) use interop_support::edi_like as edi_text;

/// A party with an RSA key and a self-signed certificate, as files and as an [`Identity`].
pub(crate) struct Party {
    pub(crate) identity: Identity,
    pub(crate) certificate: Certificate,
    pub(crate) cert_pem: PathBuf,
    pub(crate) key_pem: PathBuf,
}

/// Makes a party `name` in `dir` (`openssl req -x509`, RSA 2048, serial `serial`).
pub(crate) fn party(dir: &Path, name: &str, serial: u32) -> Party {
    let stem = format!("{name}-{serial}-{}", std::process::id());
    let subject = format!("/O=OFTP2 test/CN={name}");
    let serial = serial.to_string();
    let cert_pem = self_signed(dir, &stem, "rsa:2048", &subject, &["-set_serial", &serial]);
    let key_pem = dir.join(format!("{stem}.key"));
    let certificate = Certificate::from_file(&cert_pem).unwrap();
    let key = PrivateKey::from_file(&key_pem).unwrap();
    let identity = Identity::new(certificate.clone(), Vec::new(), key).unwrap();
    Party { identity, certificate, cert_pem, key_pem }
}

/// `openssl cms -sign -binary -nodetach -md <md>` by `signer` of the file `content`, DER,
/// with `extra` options (`-stream`, `-noattr`, `-keyid`).
pub(crate) fn openssl_sign(signer: &Party, md: &str, content: &Path, extra: &[&str]) -> Vec<u8> {
    let (cert, key) = (signer.cert_pem.to_str().unwrap(), signer.key_pem.to_str().unwrap());
    let mut args = vec!["cms", "-sign", "-binary", "-nodetach", "-md", md, "-signer", cert];
    args.extend_from_slice(&["-inkey", key, "-outform", "DER", "-in", content.to_str().unwrap()]);
    args.extend_from_slice(extra);
    openssl(Path::new("."), &args)
}

/// Whether `openssl cms -verify -binary -inform DER` accepts the SignedData in the file
/// `cms` with `ca` as trust anchor, and the content it gives back.
pub(crate) fn openssl_verify(cms: &Path, ca: &Path) -> Result<Vec<u8>, String> {
    let out = interop_support::output(Command::new("openssl").args([
        "cms",
        "-verify",
        "-binary",
        "-inform",
        "DER",
        "-in",
        cms.to_str().unwrap(),
        "-CAfile",
        ca.to_str().unwrap(),
    ]));
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}
