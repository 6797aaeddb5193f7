//! A local responder set up as Customs is: a test CA standing in for GlobalSign (root,
//! intermediate, server certificate for tmf01.tullverket.se), OFTP 2.0, window 7, buffer
//! 2,048, Customs' SSID code, TLS on 127.0.0.1; and the company's side of it.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, dead_code, unreachable_pub)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use oftp2_codec::fields::{OdetteId, RecordFormat, RecordLength, UserData, Utf8Text};
use oftp2_session::config::{Config, Partner, TextLineHandling, TlsFiles, Transport};
use oftp2_session::driver::SessionReport;
use oftp2_session::node::Node;
use oftp2_session::protection::FileServices;
use oftp2_session::store::{FileStore, FsStore, OutgoingFile, OutgoingSource};
use oftp2_session::transport::tls::{self, ClientCertificates, Identity};
use oftp2_session::transport::{Listener, ServerSecurity};
use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use tempfile::TempDir;
use tullverket_profile::{params, CompanyCode, Profile};

/// The company of the tests (organisation number 556036-0793).
pub const COMPANY: &str = "O094200005560360793TEKN";
/// The password the company sends, and Customs sends back.
pub const PASSWORD: &str = "TULL7PW";

/// A CA certificate with its key and PEM file.
pub struct Ca {
    pub certificate: Certificate,
    key: KeyPair,
    pub pem_file: PathBuf,
}

/// Test certificates written to a temporary directory.
pub struct Pki {
    pub dir: TempDir,
}

impl Pki {
    pub fn new() -> Self {
        Pki { dir: tempfile::tempdir().unwrap() }
    }

    fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    /// A CA named `name`, self-signed (`issuer` None) or issued by `issuer`.
    pub fn ca(&self, file: &str, name: &str, issuer: Option<&Ca>) -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::OrganizationName, "Test GlobalSign nv-sa");
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let certificate = match issuer {
            None => params.self_signed(&key).unwrap(),
            Some(issuer) => params.signed_by(&key, &issuer.certificate, &issuer.key).unwrap(),
        };
        let pem_file = self.write(&format!("{file}.pem"), &certificate.pem());
        Ca { certificate, key, pem_file }
    }

    /// A server certificate for `names` issued by `issuer`; returns the chain file (the
    /// certificate, then `issuer`'s) and the key file.
    pub fn server(&self, file: &str, names: &[&str], issuer: &Ca) -> (PathBuf, PathBuf) {
        self.server_valid(file, names, issuer, false)
    }

    /// As [`Pki::server`]; `expired` makes the certificate valid only in 2020.
    pub fn server_valid(
        &self,
        file: &str,
        names: &[&str],
        issuer: &Ca,
        expired: bool,
    ) -> (PathBuf, PathBuf) {
        let key = KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names.clone()).unwrap();
        params.distinguished_name.push(DnType::OrganizationName, "Tullverket");
        params.distinguished_name.push(DnType::CommonName, names[0].clone());
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        if expired {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        }
        let certificate = params.signed_by(&key, &issuer.certificate, &issuer.key).unwrap();
        let chain = format!("{}{}", certificate.pem(), issuer.certificate.pem());
        (
            self.write(&format!("{file}.chain.pem"), &chain),
            self.write(&format!("{file}.key"), &key.serialize_pem()),
        )
    }
}

/// The stand-in for GlobalSign: root, intermediate, and Customs' server certificate.
pub struct CustomsPki {
    pub pki: Pki,
    pub root: Ca,
    pub intermediate: Ca,
    pub chain_file: PathBuf,
    pub key_file: PathBuf,
}

impl CustomsPki {
    pub fn new() -> Self {
        let pki = Pki::new();
        let root = pki.ca("root", "Test GlobalSign Root CA", None);
        let intermediate = pki.ca(
            "intermediate",
            "Test GlobalSign Organization Validation CA - SHA256 - G2",
            Some(&root),
        );
        let (chain_file, key_file) = pki.server("tmf01", &[params::HOST], &intermediate);
        CustomsPki { pki, root, intermediate, chain_file, key_file }
    }

    pub fn server_config(&self) -> Arc<rustls::ServerConfig> {
        self.server_config_with(ClientCertificates::NotRequested)
    }

    pub fn server_config_with(&self, clients: ClientCertificates) -> Arc<rustls::ServerConfig> {
        let identity = Identity::from_files(&self.chain_file, &self.key_file).unwrap();
        tls::server_config(&identity, clients).unwrap()
    }

    /// The same PKI with an expired server certificate instead.
    pub fn with_expired_server(mut self) -> Self {
        let (chain_file, key_file) =
            self.pki.server_valid("expired", &[params::HOST], &self.intermediate, true);
        self.chain_file = chain_file;
        self.key_file = key_file;
        self
    }
}

pub fn company() -> CompanyCode {
    COMPANY.parse().unwrap()
}

fn id(code: &str) -> OdetteId {
    code.parse().unwrap()
}

/// Customs' side: a node with Customs' code and parameters, the company as partner.
pub struct Customs {
    pub node: Node<FsStore>,
    pub address: String,
    pub reports: Arc<Mutex<Vec<SessionReport>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _dir: TempDir,
}

impl Customs {
    /// Starts serving on 127.0.0.1 with `pki`'s server certificate.
    pub async fn start(pki: &CustomsPki) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::new(params::customs_odette_id());
        config.level = params::PROTOCOL_LEVEL;
        config.buffer_size = params::BUFFER_SIZE;
        config.credit = params::WINDOW_SIZE;
        config.limits.idle_timeout = Duration::from_secs(10);
        config.limits.max_concurrent_sessions = params::CHANNELS;
        config.tls = Some(TlsFiles {
            roots: Vec::new(),
            certificate: Some(pki.chain_file.clone()),
            private_key: Some(pki.key_file.clone()),
            require_client_certificate: false,
        });
        config.partners.push(Partner {
            odette_id: id(COMPANY),
            password: PASSWORD.parse().unwrap(),
            our_password: PASSWORD.parse().unwrap(),
            directions: params::FILE_DIRECTION,
            buffer_size: None,
            credit: None,
            text_lines: TextLineHandling::KeepCrLf,
            address: None,
            transport: Transport::Tls {
                server_name: None,
                roots: Vec::new(),
                require_client_certificate: false,
            },
            secure_authentication: false,
            file_security: Default::default(),
        });
        let store = FsStore::open(dir.path(), params::customs_odette_id()).unwrap();
        let node = Node::new(Arc::new(config), Arc::new(store));
        let listener =
            Listener::bind("127.0.0.1:0", ServerSecurity::Tls(pki.server_config())).await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let reports = Arc::new(Mutex::new(Vec::new()));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = node.clone();
        let sink = reports.clone();
        tokio::spawn(async move {
            serving
                .serve(listener, async { stopped.await.unwrap_or(()) }, move |report| {
                    if let Ok(report) = report {
                        sink.lock().unwrap().push(report);
                    }
                })
                .await;
        });
        Customs { node, address, reports, stop: Some(stop), _dir: dir }
    }

    /// Puts a file for the company in Customs' outbox.
    pub fn queue(&self, name: &str, format: RecordFormat, record_length: u64, data: Vec<u8>) {
        let file = OutgoingFile {
            dataset_name: name.parse().unwrap(),
            format,
            max_record_length: RecordLength::new(record_length).unwrap(),
            description: Utf8Text::new("from Customs").unwrap(),
            destination: id(COMPANY),
            originator: None,
            user_data: UserData::EMPTY,
            source: OutgoingSource::Bytes(data),
            services: FileServices::NONE,
        };
        self.node.store().queue_outgoing(&id(COMPANY), file).unwrap();
    }

    /// Files still waiting in Customs' outbox for the company.
    pub fn waiting(&self) -> usize {
        self.node.store().outgoing(&id(COMPANY)).unwrap().len()
    }

    /// The `n`th report of Customs' sessions (from 1), waiting at most 5 s for it.
    pub async fn report(&self, n: usize) -> SessionReport {
        for _ in 0..200 {
            let report = self.reports.lock().unwrap().get(n - 1).cloned();
            if let Some(report) = report {
                // The report is made just before the session frees Customs' one channel.
                tokio::time::sleep(Duration::from_millis(50)).await;
                return report;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("Customs reported no session {n}");
    }
}

impl Drop for Customs {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The company's profile for a responder at `address`, trusting `root` and
/// `intermediate`.
pub fn profile(address: &str, root: &Ca, intermediate: &Ca) -> Profile {
    Profile::builder(company())
        .password(PASSWORD.parse().unwrap())
        .globalsign(&root.pem_file, &intermediate.pem_file)
        .address(address)
        .connect_timeout(Duration::from_secs(10))
        .idle_timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}
