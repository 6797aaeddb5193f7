//! Test PKI for the transport tests: CAs, server and client certificates made with rcgen,
//! written to a temporary directory.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, dead_code, unreachable_pub)]

use std::path::PathBuf;
use std::sync::Arc;

use oftp2_session::transport::tls::{self, ClientCertificates, Identity, TrustAnchors};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::CertificateDer;
use tempfile::TempDir;

/// A certificate authority.
pub struct Ca {
    pub certificate: rcgen::Certificate,
    key: KeyPair,
    pub pem_file: PathBuf,
}

/// A certificate with its key, as PEM files and DER.
pub struct Leaf {
    pub certificate_file: PathBuf,
    pub key_file: PathBuf,
    pub der: CertificateDer<'static>,
    pub certificate_pem: String,
    pub key_pem: String,
}

impl Leaf {
    pub fn identity(&self) -> Identity {
        Identity::from_files(&self.certificate_file, &self.key_file).unwrap()
    }
}

/// What a leaf certificate is for.
#[derive(Clone, Copy, PartialEq)]
pub enum Usage {
    Server,
    Client,
}

pub struct Pki {
    pub dir: TempDir,
}

impl Pki {
    pub fn new() -> Self {
        Pki { dir: tempfile::tempdir().unwrap() }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    pub fn ca(&self, name: &str) -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let certificate = params.self_signed(&key).unwrap();
        let pem_file = self.write(&format!("{name}.pem"), certificate.pem());
        Ca { certificate, key, pem_file }
    }

    /// A certificate for `names` issued by `ca`; `expired` makes it valid only in 2020.
    pub fn leaf(&self, ca: &Ca, file: &str, names: &[&str], usage: Usage, expired: bool) -> Leaf {
        let key = KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names.clone()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, names.first().cloned().unwrap_or_default());
        params.extended_key_usages = vec![match usage {
            Usage::Server => ExtendedKeyUsagePurpose::ServerAuth,
            Usage::Client => ExtendedKeyUsagePurpose::ClientAuth,
        }];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        if expired {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        }
        let certificate = params.signed_by(&key, &ca.certificate, &ca.key).unwrap();
        let certificate_pem = certificate.pem();
        let key_pem = key.serialize_pem();
        Leaf {
            certificate_file: self.write(&format!("{file}.pem"), &certificate_pem),
            key_file: self.write(&format!("{file}.key"), &key_pem),
            der: certificate.der().clone(),
            certificate_pem,
            key_pem,
        }
    }
}

impl Ca {
    pub fn anchors(&self) -> TrustAnchors {
        TrustAnchors::from_files(std::slice::from_ref(&self.pem_file), "tests").unwrap()
    }
}

/// A server configuration with `leaf` as our certificate.
pub fn server(leaf: &Leaf, clients: ClientCertificates) -> Arc<rustls::ServerConfig> {
    tls::server_config(&leaf.identity(), clients).unwrap()
}

/// A client configuration trusting `ca`, presenting `identity` if given.
pub fn client(ca: &Ca, identity: Option<&Leaf>) -> Arc<rustls::ClientConfig> {
    tls::client_config(&ca.anchors(), identity.map(Leaf::identity).as_ref()).unwrap()
}
