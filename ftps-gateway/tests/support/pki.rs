//! A test PKI made at test time: a CA, a server certificate for 127.0.0.1,
//! OCES3-like client certificates (valid, expired, from another CA), as PEM
//! files and as PKCS#12 files made by the `openssl` command line (modern
//! PBES2/AES and `-legacy` 3DES/RC2).

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::Command;

use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType,
};

pub const CVR: &str = "30808460";
pub const UUID: &str = "e7057bbd-5e7d-4200-ad81-623333d5c657";
pub const P12_PASS: &str = "p12-secret";

pub struct Pair {
    pub cert: PathBuf,
    pub key: PathBuf,
}

pub struct Pki {
    pub dir: tempfile::TempDir,
    /// The test CA: issues the server certificate and the client ones.
    pub ca: PathBuf,
    /// The CAs the servers accept client certificates from (the test CA,
    /// plus the OCES-like RSA CA of [`Pki::with_oces_rsa`]).
    pub client_cas: PathBuf,
    /// An OCES3-like client: RSA 3072 key, RSASSA-PSS-signed certificate.
    pub oces_rsa: Option<Pair>,
    pub server: Pair,
    pub client: Pair,
    pub expired: Pair,
    pub other_ca_client: Pair,
    pub other_ca: PathBuf,
}

struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

fn ca(name: &str) -> Ca {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, name);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let cert = p.self_signed(&key).unwrap();
    Ca { cert, key }
}

fn write(dir: &Path, name: &str, data: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p
}

fn leaf(dir: &Path, name: &str, issuer: &Ca, server: bool, expired: bool) -> Pair {
    let key = KeyPair::generate().unwrap();
    let mut p = if server {
        CertificateParams::new(vec!["localhost".to_string()]).unwrap()
    } else {
        CertificateParams::new(Vec::<String>::new()).unwrap()
    };
    if server {
        p.subject_alt_names.push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        p.distinguished_name.push(DnType::CommonName, "localhost");
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    } else {
        // An OCES3 organisation certificate's subject.
        p.distinguished_name.push(DnType::CountryName, "DK");
        p.distinguished_name.push(DnType::OrganizationName, "Test Company A/S");
        p.distinguished_name.push(DnType::CustomDnType(vec![2, 5, 4, 97]), format!("NTRDK-{CVR}"));
        p.distinguished_name
            .push(DnType::CustomDnType(vec![2, 5, 4, 5]), format!("UI:DK-O:G:{UUID}"));
        p.distinguished_name.push(DnType::CommonName, "Test Company A/S");
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    }
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    if expired {
        p.not_before = date_time_ymd(2020, 1, 1);
        p.not_after = date_time_ymd(2021, 1, 1);
    } else {
        p.not_before = date_time_ymd(2024, 1, 1);
        p.not_after = date_time_ymd(2099, 1, 1);
    }
    let cert = p.signed_by(&key, &issuer.cert, &issuer.key).unwrap();
    Pair {
        cert: write(dir, &format!("{name}.crt"), &cert.pem()),
        key: write(dir, &format!("{name}.key"), &key.serialize_pem()),
    }
}

impl Pki {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let test_ca = ca("ftps-gateway test CA");
        let other = ca("another CA");
        let server = leaf(d, "server", &test_ca, true, false);
        let client = leaf(d, "client", &test_ca, false, false);
        let expired = leaf(d, "expired", &test_ca, false, true);
        let other_ca_client = leaf(d, "other", &other, false, false);
        let ca_path = write(d, "ca.crt", &test_ca.cert.pem());
        let other_ca = write(d, "other-ca.crt", &other.cert.pem());
        Pki {
            dir,
            client_cas: ca_path.clone(),
            oces_rsa: None,
            ca: ca_path,
            server,
            client,
            expired,
            other_ca_client,
            other_ca,
        }
    }

    /// Adds an OCES3-like client made with the `openssl` command line, as
    /// the Danish issuers make them: an RSA 3072 key and a certificate
    /// signed with RSASSA-PSS by an RSA CA, which the servers also trust.
    pub fn with_oces_rsa() -> Self {
        let mut pki = Self::new();
        let d = pki.dir.path().to_path_buf();
        let run = |args: &[&str]| {
            let o = Command::new("openssl").args(args).current_dir(&d).output().unwrap_or_else(|e| {
                panic!("the `openssl` command line is needed ({e}); run scripts/install-ftps-servers.sh")
            });
            assert!(o.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&o.stderr));
        };
        run(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:3072",
            "-nodes",
            "-keyout",
            "oces-ca.key",
            "-out",
            "oces-ca.crt",
            "-subj",
            "/C=DK/O=Test OCES/CN=Test OCES CA",
            "-days",
            "3650",
            "-sha256",
            "-sigopt",
            "rsa_padding_mode:pss",
            "-sigopt",
            "rsa_pss_saltlen:32",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        run(&[
            "req", "-newkey", "rsa:3072", "-nodes", "-keyout", "oces.key", "-out", "oces.csr",
            "-subj", &format!("/C=DK/O=Test Company AS/organizationIdentifier=NTRDK-{CVR}/serialNumber=UI:DK-O:G:{UUID}/CN=Test Company AS"),
        ]);
        std::fs::write(
            d.join("oces.ext"),
            "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n",
        )
        .unwrap();
        run(&[
            "x509",
            "-req",
            "-in",
            "oces.csr",
            "-CA",
            "oces-ca.crt",
            "-CAkey",
            "oces-ca.key",
            "-CAcreateserial",
            "-out",
            "oces.crt",
            "-days",
            "365",
            "-sha256",
            "-sigopt",
            "rsa_padding_mode:pss",
            "-sigopt",
            "rsa_pss_saltlen:32",
            "-extfile",
            "oces.ext",
        ]);
        let bundle = format!(
            "{}{}",
            std::fs::read_to_string(&pki.ca).unwrap(),
            std::fs::read_to_string(d.join("oces-ca.crt")).unwrap()
        );
        pki.client_cas = write(&d, "client-cas.crt", &bundle);
        pki.oces_rsa = Some(Pair { cert: d.join("oces.crt"), key: d.join("oces.key") });
        pki
    }

    /// A PKCS#12 file of the OCES-like pair with its own CA.
    pub fn oces_pkcs12(&self, legacy: bool) -> PathBuf {
        let pair = self.oces_rsa.as_ref().expect("made by Pki::with_oces_rsa");
        export_pkcs12(pair, &self.dir.path().join("oces-ca.crt"), legacy)
    }

    pub fn ca_pem(&self) -> Vec<u8> {
        std::fs::read(&self.ca).unwrap()
    }

    /// A PKCS#12 file of a pair issued by the test CA.
    pub fn pkcs12(&self, pair: &Pair, legacy: bool) -> PathBuf {
        export_pkcs12(pair, &self.ca, legacy)
    }

    /// What `openssl pkcs12 -info` says about the file's encryption.
    pub fn pkcs12_info(&self, p12: &Path) -> String {
        let mut cmd = Command::new("openssl");
        cmd.args(["pkcs12", "-info", "-noout", "-in"])
            .arg(p12)
            .arg("-passin")
            .arg(format!("pass:{P12_PASS}"));
        let mut o = cmd.output().unwrap();
        if !o.status.success() {
            o = cmd.arg("-legacy").output().unwrap();
        }
        format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
    }
}

/// A PKCS#12 file (next to the certificate) made by `openssl pkcs12 -export`
/// (`legacy`: `-legacy`, i.e. RC2/3DES with a SHA-1 MAC).
fn export_pkcs12(pair: &Pair, ca: &Path, legacy: bool) -> PathBuf {
    let stem = pair.cert.file_stem().unwrap().to_str().unwrap();
    let out =
        pair.cert.with_file_name(format!("{stem}{}.p12", if legacy { "-legacy" } else { "" }));
    let mut cmd = Command::new("openssl");
    cmd.args(["pkcs12", "-export", "-in"])
        .arg(&pair.cert)
        .arg("-inkey")
        .arg(&pair.key)
        .arg("-certfile")
        .arg(ca)
        .args(["-name", stem, "-passout"])
        .arg(format!("pass:{P12_PASS}"))
        .arg("-out")
        .arg(&out);
    if legacy {
        cmd.arg("-legacy");
    }
    let o = cmd.output().unwrap_or_else(|e| {
        panic!("the `openssl` command line is needed for the PKCS#12 tests ({e}); run scripts/install-ftps-servers.sh")
    });
    assert!(o.status.success(), "openssl pkcs12 failed: {}", String::from_utf8_lossy(&o.stderr));
    out
}
