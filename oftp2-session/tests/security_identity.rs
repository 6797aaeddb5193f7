//! Certificates, keys and their validation (`security::identity`), with certificates, keys
//! and PKCS#12 files made by the real `openssl` command line (and rcgen for dates in the
//! past).
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod interop_support;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use interop_support::{openssl, self_signed, Pki, P12_PASSWORD};
use oftp2_session::security::identity::{
    Certificate, CertificateSource, Identity, IdentitySource, KeyPurpose, PrivateKey, TrustAnchors,
    ValidationPolicy,
};
use oftp2_session::security::SecurityError;

const DAY: Duration = Duration::from_secs(86_400);

fn now() -> SystemTime {
    SystemTime::now()
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap()
}

fn cert(p: &Path) -> Certificate {
    Certificate::from_file(p).unwrap()
}

/// The problem text of a [`SecurityError::Certificate`], panicking on any other error.
fn problem<T: std::fmt::Debug>(r: Result<T, SecurityError>) -> String {
    match r {
        Err(SecurityError::Certificate { problem, .. }) => problem,
        other => panic!("expected a certificate problem, got {other:?}"),
    }
}

/// Makes a certificate for `name` signed by `ca` (`ca.pem`/`ca.key` style paths) with the
/// extensions in `ext` (openssl extension config lines), key `key_spec` (`rsa:2048`),
/// and extra `openssl x509 -req` options. Returns (cert path, key path).
fn issue(
    dir: &Path,
    name: &str,
    ca: Option<(&Path, &Path)>,
    key_spec: &str,
    ext: &str,
    extra: &[&str],
) -> (PathBuf, PathBuf) {
    let key = dir.join(format!("{name}.key"));
    let csr = dir.join(format!("{name}.csr"));
    let crt = dir.join(format!("{name}.pem"));
    let cnf = dir.join(format!("{name}.cnf"));
    std::fs::write(&cnf, format!("[x]\n{ext}\n")).unwrap();
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            key_spec,
            "-nodes",
            "-keyout",
            key.to_str().unwrap(),
            "-out",
            csr.to_str().unwrap(),
            "-subj",
            &format!("/O=Identity Tests/CN={name}"),
        ],
    );
    let mut args: Vec<&str> = vec!["x509", "-req", "-in", csr.to_str().unwrap(), "-days", "30"];
    let (ca_cert, ca_key);
    match ca {
        Some((c, k)) => {
            ca_cert = c.to_str().unwrap().to_string();
            ca_key = k.to_str().unwrap().to_string();
            args.extend_from_slice(&["-CA", &ca_cert, "-CAkey", &ca_key, "-CAcreateserial"]);
        }
        None => {
            ca_key = key.to_str().unwrap().to_string();
            args.extend_from_slice(&["-signkey", &ca_key]);
        }
    }
    args.extend_from_slice(&["-extfile", cnf.to_str().unwrap(), "-extensions", "x"]);
    args.extend_from_slice(extra);
    args.extend_from_slice(&["-out", crt.to_str().unwrap()]);
    openssl(dir, &args);
    (crt, key)
}

const CA_EXT: &str = "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash";
const LEAF_EXT: &str = "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid";

#[test]
fn certificates_from_pem_der_and_bundles() {
    let pki = Pki::new();
    let d = pki.dir.path();
    let pem = read(&pki.a.cert);
    let from_pem = Certificate::from_pem(&pem).unwrap();
    assert_eq!(from_pem.subject(), "CN=partner-a,O=OFTP2 Interop");
    assert_eq!(from_pem.issuer(), "CN=Interop Test CA,O=OFTP2 Interop");

    openssl(d, &["x509", "-in", "partner-a.pem", "-outform", "DER", "-out", "a.der"]);
    let der = read(&d.join("a.der"));
    assert_eq!(Certificate::from_der(&der).unwrap(), from_pem);
    assert_eq!(Certificate::from_pem_or_der(&der).unwrap(), from_pem);
    assert_eq!(Certificate::from_pem_or_der(&pem).unwrap(), from_pem);
    assert_eq!(cert(&d.join("a.der")).der(), &der[..]);

    // A bundle as `openssl x509 -text` writes it: text, then the PEM block; and a key
    // block in between that is skipped.
    let text_a = openssl(d, &["x509", "-in", "partner-a.pem", "-text"]);
    let mut bundle = text_a.clone();
    bundle.extend_from_slice(&read(&pki.a.key));
    bundle.extend_from_slice(&read(&pki.ca.cert));
    let all = Certificate::all_from_pem(&bundle).unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0], from_pem);
    assert_eq!(all[1].subject(), "CN=Interop Test CA,O=OFTP2 Interop");
    assert_eq!(Certificate::from_pem(&bundle).unwrap(), from_pem);
    let source = CertificateSource::new(pki.write("bundle.pem", &bundle));
    assert_eq!(source.load_all().unwrap().len(), 2);
    assert_eq!(source.load().unwrap(), from_pem);

    // Not a certificate.
    assert!(matches!(
        Certificate::from_der(b"\x30\x03\x02\x01\x00"),
        Err(SecurityError::Malformed { .. })
    ));
    assert!(Certificate::from_pem(&read(&pki.a.key)).is_err());
    assert!(Certificate::all_from_pem(b"no pem here").unwrap().is_empty());
    let mut truncated = der.clone();
    truncated.truncate(der.len() / 2);
    assert!(matches!(Certificate::from_der(&truncated), Err(SecurityError::Malformed { .. })));
}

#[test]
fn identities_from_pem_pkcs8_and_pkcs1_keys() {
    let pki = Pki::new();
    let d = pki.dir.path();
    let key_pem = read(&pki.a.key);
    assert!(String::from_utf8_lossy(&key_pem).contains("BEGIN PRIVATE KEY"));
    let id = Identity::from_pem(&read(&pki.a.cert), &key_pem).unwrap();
    assert!(id.chain.is_empty());
    assert_eq!(id.key.modulus_bits(), 2048);

    // PKCS#1 (`BEGIN RSA PRIVATE KEY`) becomes the same PKCS#8 key.
    let pkcs1 = openssl(d, &["rsa", "-in", "partner-a.key", "-traditional"]);
    assert!(String::from_utf8_lossy(&pkcs1).contains("BEGIN RSA PRIVATE KEY"));
    let from_pkcs1 = PrivateKey::from_pem(&pkcs1).unwrap();
    assert!(from_pkcs1.matches(&id.certificate));
    // aws-lc-rs reads the wrapped key as the same key.
    let a = aws_lc_rs::rsa::KeyPair::from_pkcs8(from_pkcs1.pkcs8_der()).unwrap();
    let b = aws_lc_rs::rsa::KeyPair::from_pkcs8(id.key.pkcs8_der()).unwrap();
    use aws_lc_rs::signature::KeyPair as _;
    assert_eq!(a.public_key().as_ref(), b.public_key().as_ref());

    // DER forms.
    openssl(d, &["pkey", "-in", "partner-a.key", "-outform", "DER", "-out", "a8.der"]);
    openssl(
        d,
        &["rsa", "-in", "partner-a.key", "-traditional", "-outform", "DER", "-out", "a1.der"],
    );
    assert!(PrivateKey::from_file(d.join("a8.der")).unwrap().matches(&id.certificate));
    assert!(PrivateKey::from_file(d.join("a1.der")).unwrap().matches(&id.certificate));

    // Certificate file with its chain, key file.
    let mut with_chain = read(&pki.a.cert);
    with_chain.extend_from_slice(&read(&pki.ca.cert));
    let chained =
        Identity::from_files(pki.write("a-chain.pem", &with_chain), d.join("a1.der")).unwrap();
    assert_eq!(chained.chain.len(), 1);
    assert_eq!(chained.chain[0].subject(), "CN=Interop Test CA,O=OFTP2 Interop");

    // The key of another certificate.
    let wrong = Identity::from_pem(&read(&pki.a.cert), &read(&pki.b.key));
    assert!(problem(wrong).contains("does not belong"));
}

#[test]
fn encrypted_and_non_rsa_pem_keys_are_refused_clearly() {
    let pki = Pki::new();
    let d = pki.dir.path();
    let pkcs8_enc = openssl(d, &["pkey", "-in", "partner-a.key", "-aes256", "-passout", "pass:x"]);
    assert!(String::from_utf8_lossy(&pkcs8_enc).contains("ENCRYPTED PRIVATE KEY"));
    let err = PrivateKey::from_pem(&pkcs8_enc).unwrap_err().to_string();
    assert!(err.contains("encrypted"), "{err}");

    let legacy_enc = openssl(
        d,
        &["rsa", "-in", "partner-a.key", "-traditional", "-aes256", "-passout", "pass:x"],
    );
    assert!(String::from_utf8_lossy(&legacy_enc).contains("Proc-Type: 4,ENCRYPTED"));
    let err = PrivateKey::from_pem(&legacy_enc).unwrap_err().to_string();
    assert!(err.contains("encrypted"), "{err}");

    openssl(
        d,
        &["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "ec.key"],
    );
    openssl(d, &["ecparam", "-name", "prime256v1", "-out", "ec-params.pem"]);
    let err = PrivateKey::from_file(d.join("ec.key")).unwrap_err().to_string();
    assert!(err.contains("not an RSA key"), "{err}");
    let err = PrivateKey::from_pem(b"nothing").unwrap_err().to_string();
    assert!(err.contains("no -----BEGIN PRIVATE KEY"), "{err}");

    let (ec_cert, _) = issue(d, "ec-leaf", None, "ec:ec-params.pem", LEAF_EXT, &[]);
    let ec = cert(&ec_cert);
    assert!(problem(ec.check_rsa_key(1024)).contains("not RSA"));
}

#[test]
fn pkcs12_modern_legacy_and_3des_files() {
    let pki = Pki::new();
    let d = pki.dir.path();
    let export = |out: &str, extra: &[&str]| {
        let mut args = vec![
            "pkcs12",
            "-export",
            "-in",
            "partner-b.pem",
            "-inkey",
            "partner-b.key",
            "-certfile",
            "ca.pem",
            "-out",
            out,
            "-passout",
            "pass:pw",
        ];
        args.extend_from_slice(extra);
        openssl(d, &args);
        d.join(out)
    };
    let files = [
        pki.b.p12.clone(),
        export("legacy.p12", &["-legacy"]),
        export(
            "3des.p12",
            &["-certpbe", "PBE-SHA1-3DES", "-keypbe", "PBE-SHA1-3DES", "-macalg", "sha1"],
        ),
    ];
    // The default is PBES2 with AES-256-CBC; -legacy is RC2-40 for certificates and 3DES
    // for the key.
    for (i, file) in files.iter().enumerate() {
        let password = if i == 0 { P12_PASSWORD } else { "pw" };
        let id = Identity::from_pkcs12_file(file, password)
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert_eq!(id.certificate.subject(), "CN=partner-b,O=OFTP2 Interop");
        assert_eq!(id.chain.len(), 1, "{}", file.display());
        assert_eq!(id.chain[0].subject(), "CN=Interop Test CA,O=OFTP2 Interop");
        assert!(id.key.matches(&id.certificate));

        let err = Identity::from_pkcs12(&read(file), "wrong").unwrap_err().to_string();
        assert!(err.contains("wrong password"), "{}: {err}", file.display());
    }
    assert!(Identity::from_pkcs12(b"\x30\x00", "pw").is_err());
}

#[test]
fn identity_sources_from_configuration() {
    let pki = Pki::new();
    let json = format!(
        r#"{{"format":"pkcs12","path":{:?},"password_env":"OFTP_TEST_IDENTITY_P12_PASSWORD"}}"#,
        pki.a.p12
    );
    let source: IdentitySource = serde_json::from_str(&json).unwrap();
    // SAFETY of the test: only this test reads or writes this variable.
    std::env::set_var("OFTP_TEST_IDENTITY_P12_PASSWORD", P12_PASSWORD);
    assert_eq!(source.load().unwrap().certificate.subject(), "CN=partner-a,O=OFTP2 Interop");

    let inline: IdentitySource = serde_json::from_str(&format!(
        r#"{{"format":"pkcs12","path":{:?},"password":"{P12_PASSWORD}"}}"#,
        pki.a.p12
    ))
    .unwrap();
    assert!(inline.load().is_ok());

    let both: IdentitySource = serde_json::from_str(&format!(
        r#"{{"format":"pkcs12","path":{:?},"password":"x","password_env":"Y"}}"#,
        pki.a.p12
    ))
    .unwrap();
    assert!(both.load().unwrap_err().to_string().contains("exactly one"));

    let missing_var: IdentitySource = serde_json::from_str(&format!(
        r#"{{"format":"pkcs12","path":{:?},"password_env":"OFTP_TEST_IDENTITY_UNSET_VARIABLE"}}"#,
        pki.a.p12
    ))
    .unwrap();
    assert!(missing_var
        .load()
        .unwrap_err()
        .to_string()
        .contains("OFTP_TEST_IDENTITY_UNSET_VARIABLE"));

    let pem: IdentitySource = serde_json::from_str(&format!(
        r#"{{"format":"pem","certificate":{:?},"key":{:?}}}"#,
        pki.b.cert, pki.b.key
    ))
    .unwrap();
    assert_eq!(pem.load().unwrap().certificate.subject(), "CN=partner-b,O=OFTP2 Interop");
    assert!(serde_json::from_str::<IdentitySource>(
        r#"{"format":"pem","certificate":"a","key":"b","extra":1}"#
    )
    .is_err());

    let sources: Vec<CertificateSource> =
        serde_json::from_str(&format!("[{:?},{:?}]", pki.ca.cert, pki.b.cert)).unwrap();
    let anchors = CertificateSource::load_anchors(&sources).unwrap();
    assert_eq!(anchors.certificates().len(), 2);

    let err = CertificateSource::new(pki.path("absent.pem")).load().unwrap_err().to_string();
    assert!(err.contains("absent.pem"), "{err}");
}

#[test]
fn validity_period_at_a_given_time() {
    let pki = Pki::new();
    let a = cert(&pki.a.cert);
    let ca = TrustAnchors::new(vec![cert(&pki.ca.cert)]);
    let policy = ValidationPolicy::default();
    assert_eq!(ca.validate(&a, &[], KeyPurpose::Signing, now(), &policy).unwrap().len(), 2);
    // The partner certificate is valid 365 days.
    let later = now() + 400 * DAY;
    assert!(problem(a.check_validity_at(later)).starts_with("expired"));
    assert!(
        problem(ca.validate(&a, &[], KeyPurpose::Signing, later, &policy)).starts_with("expired")
    );
    let earlier = now() - 2 * DAY;
    assert!(problem(a.check_validity_at(earlier)).starts_with("not yet valid"));
    assert!(a.not_before() < now() && now() < a.not_after());

    // A certificate whose period ended in 2021, issued by `openssl ca -startdate
    // -enddate`: refused today, accepted in 2020.
    let d = pki.dir.path();
    std::fs::create_dir(d.join("newcerts")).unwrap();
    std::fs::write(d.join("index.txt"), b"").unwrap();
    std::fs::write(d.join("serial"), b"1000\n").unwrap();
    std::fs::write(
        d.join("ca.cnf"),
        "[ca]\ndefault_ca = test\n[test]\ndir = .\ndatabase = index.txt\nnew_certs_dir = newcerts\n\
         certificate = ca.pem\nprivate_key = ca.key\nserial = serial\ndefault_md = sha256\n\
         policy = any\nunique_subject = no\n[any]\ncommonName = supplied\n",
    )
    .unwrap();
    let req = "req -newkey rsa:2048 -nodes -keyout old.key -out old.csr -subj /CN=old";
    openssl(d, &req.split(' ').collect::<Vec<_>>());
    openssl(
        d,
        &[
            "ca",
            "-batch",
            "-config",
            "ca.cnf",
            "-notext",
            "-startdate",
            "20200101000000Z",
            "-enddate",
            "20210101000000Z",
            "-in",
            "old.csr",
            "-out",
            "old.pem",
        ],
    );
    let old = cert(&d.join("old.pem"));
    let p = problem(ca.validate(&old, &[], KeyPurpose::Signing, now(), &policy));
    assert!(p.contains("expired") && p.contains("2021"), "{p}");
    let in_2020 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_590_000_000); // May 2020
    let p = problem(ca.validate(&old, &[], KeyPurpose::Signing, in_2020, &policy));
    // The certificate was valid then; the test CA (made today) was not.
    assert!(p.contains("Interop Test CA") && p.contains("not yet valid"), "{p}");

    // Not yet valid: a certificate rcgen dates 2090 to 2091.
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["future.example".into()]).unwrap();
    params.not_before = rcgen::date_time_ymd(2090, 1, 1);
    params.not_after = rcgen::date_time_ymd(2091, 1, 1);
    let future = Certificate::from_der(params.self_signed(&key).unwrap().der()).unwrap();
    let pinned = TrustAnchors::pinned(future.clone());
    let p = problem(pinned.validate(&future, &[], KeyPurpose::Signing, now(), &policy));
    assert!(p.contains("not yet valid") && p.contains("2090"), "{p}");
    let in_2090 = future.not_before() + DAY;
    assert_eq!(
        pinned.validate(&future, &[], KeyPurpose::Signing, in_2090, &policy).unwrap().len(),
        1
    );
}

#[test]
fn key_usage_for_signing_and_encryption() {
    let pki = Pki::new();
    let d = pki.dir.path();
    let ca = Some((pki.ca.cert.as_path(), Path::new("ca.key")));
    let anchors = TrustAnchors::new(vec![cert(&pki.ca.cert)]);
    let policy = ValidationPolicy::default();
    let cases = [
        ("ku-sign", "keyUsage=critical,digitalSignature", true, false),
        ("ku-nonrep", "keyUsage=critical,nonRepudiation", true, false),
        ("ku-encrypt", "keyUsage=critical,keyEncipherment", false, true),
        ("ku-both", "keyUsage=digitalSignature,keyEncipherment", true, true),
        ("ku-none", "basicConstraints=CA:FALSE", true, true),
        ("ku-agree", "keyUsage=critical,dataEncipherment", false, false),
    ];
    for (name, ext, sign, encrypt) in cases {
        let (path, _) = issue(d, name, ca, "rsa:2048", ext, &[]);
        let c = cert(&path);
        for (purpose, allowed) in [(KeyPurpose::Signing, sign), (KeyPurpose::Encryption, encrypt)] {
            let r = anchors.validate(&c, &[], purpose, now(), &policy);
            if allowed {
                assert!(r.is_ok(), "{name} {purpose:?}: {r:?}");
            } else {
                let p = problem(r);
                let wanted = if purpose == KeyPurpose::Signing {
                    "digitalSignature or nonRepudiation"
                } else {
                    "keyEncipherment"
                };
                assert!(p.contains("keyUsage") && p.contains(wanted), "{name}: {p}");
            }
        }
    }
}

#[test]
fn chains_through_intermediates_to_trust_anchors() {
    let pki = Pki::new();
    let d = pki.dir.path();
    let root = Some((pki.ca.cert.as_path(), Path::new("ca.key")));
    let (int_path, int_key) = issue(d, "intermediate", root, "rsa:2048", CA_EXT, &[]);
    let inter = Some((int_path.as_path(), int_key.as_path()));
    let (leaf_path, _) = issue(d, "leaf", inter, "rsa:2048", LEAF_EXT, &[]);
    let (leaf, intermediate) = (cert(&leaf_path), cert(&int_path));
    let anchors = TrustAnchors::new(vec![cert(&pki.ca.cert)]);
    let policy = ValidationPolicy::default();

    let path = anchors
        .validate(
            &leaf,
            std::slice::from_ref(&intermediate),
            KeyPurpose::Encryption,
            now(),
            &policy,
        )
        .unwrap();
    let names: Vec<String> = path.iter().map(Certificate::subject).collect();
    assert_eq!(
        names,
        [
            "CN=leaf,O=Identity Tests",
            "CN=intermediate,O=Identity Tests",
            "CN=Interop Test CA,O=OFTP2 Interop"
        ]
    );
    // Unrelated certificates among the intermediates do not disturb the search.
    let noise = [cert(&pki.a.cert), cert(&pki.b.cert), intermediate.clone()];
    assert_eq!(
        anchors.validate(&leaf, &noise, KeyPurpose::Signing, now(), &policy).unwrap().len(),
        3
    );

    // The intermediate missing.
    let p = problem(anchors.validate(&leaf, &[], KeyPurpose::Signing, now(), &policy));
    assert!(p.contains("no chain") && p.contains("CN=intermediate"), "{p}");
    // Anchored at the intermediate directly.
    let at_intermediate = TrustAnchors::new(vec![intermediate.clone()]);
    assert_eq!(
        at_intermediate.validate(&leaf, &[], KeyPurpose::Signing, now(), &policy).unwrap().len(),
        2
    );
    // The depth limit.
    let shallow = ValidationPolicy { max_intermediates: 0, ..ValidationPolicy::default() };
    let p = problem(anchors.validate(
        &leaf,
        std::slice::from_ref(&intermediate),
        KeyPurpose::Signing,
        now(),
        &shallow,
    ));
    assert!(p.contains("longer than 0 intermediate"), "{p}");
    // An expired intermediate (valid 30 days).
    let p = problem(anchors.validate(
        &leaf,
        std::slice::from_ref(&intermediate),
        KeyPurpose::Signing,
        now() + 31 * DAY,
        &policy,
    ));
    assert!(p.contains("expired"), "{p}");

    // An intermediate that is not a CA cannot issue, nor a CA whose keyUsage lacks
    // keyCertSign.
    let p = problem_under_intermediate(&pki, &anchors, "not-a-ca", LEAF_EXT);
    assert!(p.contains("not a CA"), "{p}");
    let no_cert_sign = "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,cRLSign";
    let p = problem_under_intermediate(&pki, &anchors, "no-cert-sign", no_cert_sign);
    assert!(p.contains("keyCertSign"), "{p}");
    // pathLenConstraint 0 on the intermediate allows no intermediate below it.
    let (pl_path, pl_key) = issue(
        d,
        "pathlen0",
        root,
        "rsa:2048",
        "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=keyCertSign",
        &[],
    );
    let (sub_path, sub_key) =
        issue(d, "sub-ca", Some((pl_path.as_path(), pl_key.as_path())), "rsa:2048", CA_EXT, &[]);
    let (deep_path, _) = issue(
        d,
        "deep-leaf",
        Some((sub_path.as_path(), sub_key.as_path())),
        "rsa:2048",
        LEAF_EXT,
        &[],
    );
    let p = problem(anchors.validate(
        &cert(&deep_path),
        &[cert(&sub_path), cert(&pl_path)],
        KeyPurpose::Signing,
        now(),
        &policy,
    ));
    assert!(p.contains("pathLenConstraint 0"), "{p}");
}

/// The problem found with a leaf issued by an intermediate `name` (extensions `ext`) that
/// the PKI's CA issued.
fn problem_under_intermediate(pki: &Pki, anchors: &TrustAnchors, name: &str, ext: &str) -> String {
    let d = pki.dir.path();
    let root = Some((pki.ca.cert.as_path(), Path::new("ca.key")));
    let (int_path, int_key) = issue(d, name, root, "rsa:2048", ext, &[]);
    let under = format!("under-{name}");
    let issuer = Some((int_path.as_path(), int_key.as_path()));
    let (leaf_path, _) = issue(d, &under, issuer, "rsa:2048", LEAF_EXT, &[]);
    let policy = ValidationPolicy::default();
    let intermediates = [cert(&int_path)];
    problem(anchors.validate(
        &cert(&leaf_path),
        &intermediates,
        KeyPurpose::Signing,
        now(),
        &policy,
    ))
}

#[test]
fn tampered_signatures_and_wrong_issuers_fail() {
    let pki = Pki::new();
    let a = cert(&pki.a.cert);
    let ca = cert(&pki.ca.cert);
    a.verify_signed_by(&ca).unwrap();
    let p = problem(a.verify_signed_by(&cert(&pki.b.cert)));
    assert!(p.contains("does not verify"), "{p}");

    // Flip a bit in the last octet (inside the signature).
    let mut der = a.der().to_vec();
    *der.last_mut().unwrap() ^= 1;
    let tampered = Certificate::from_der(&der).unwrap();
    let p = problem(TrustAnchors::new(vec![ca.clone()]).validate(
        &tampered,
        &[],
        KeyPurpose::Signing,
        now(),
        &ValidationPolicy::default(),
    ));
    assert!(p.contains("does not verify"), "{p}");

    // A CA of the same name but another key.
    let d = pki.dir.path();
    self_signed(
        d,
        "fake",
        "rsa:2048",
        "/O=OFTP2 Interop/CN=Interop Test CA",
        &["-addext", "subjectKeyIdentifier=none"],
    );
    let p = problem(TrustAnchors::new(vec![cert(&d.join("fake.pem"))]).validate(
        &a,
        &[],
        KeyPurpose::Signing,
        now(),
        &ValidationPolicy::default(),
    ));
    assert!(p.contains("does not verify"), "{p}");
}

#[test]
fn self_signed_partner_certificates_pinned_directly() {
    let pki = Pki::new();
    let d = pki.dir.path();
    let (path, _) = issue(
        d,
        "self-signed-partner",
        None,
        "rsa:2048",
        "keyUsage=digitalSignature,keyEncipherment",
        &[],
    );
    let partner = cert(&path);
    assert!(partner.is_self_issued());
    partner.verify_signed_by(&partner).unwrap();
    let policy = ValidationPolicy::default();
    let pinned = TrustAnchors::pinned(partner.clone());
    assert_eq!(
        pinned.validate(&partner, &[], KeyPurpose::Encryption, now(), &policy).unwrap().len(),
        1
    );
    // Not pinned, not anchored.
    let p = problem(TrustAnchors::new(vec![cert(&pki.ca.cert)]).validate(
        &partner,
        &[],
        KeyPurpose::Signing,
        now(),
        &policy,
    ));
    assert!(p.contains("self-signed and not a trust anchor"), "{p}");
    // Pinning one partner does not admit another self-signed certificate of the same name.
    self_signed(d, "other", "rsa:2048", "/O=Identity Tests/CN=self-signed-partner", &[]);
    let imposter = cert(&d.join("other.pem"));
    assert!(pinned.validate(&imposter, &[], KeyPurpose::Signing, now(), &policy).is_err());
    // Pinned but expired is still refused.
    assert!(problem(pinned.validate(
        &partner,
        &[],
        KeyPurpose::Signing,
        now() + 60 * DAY,
        &policy
    ))
    .starts_with("expired"));
}

#[test]
fn signature_algorithms_including_rsassa_pss() {
    let pki = Pki::new();
    let d = pki.dir.path();
    let policy = ValidationPolicy::default();
    let root = Some((pki.ca.cert.as_path(), Path::new("ca.key")));
    let anchors = TrustAnchors::new(vec![cert(&pki.ca.cert)]);
    for md in ["-sha1", "-sha256", "-sha384", "-sha512"] {
        let (p, _) = issue(d, &format!("md{md}"), root, "rsa:2048", LEAF_EXT, &[md]);
        anchors
            .validate(&cert(&p), &[], KeyPurpose::Signing, now(), &policy)
            .unwrap_or_else(|e| panic!("{md}: {e}"));
    }

    // An OCES3-like hierarchy: RSA 3072 keys, certificates signed with RSASSA-PSS.
    self_signed(
        d,
        "pss-ca",
        "rsa:3072",
        "/C=DK/O=Test OCES3/CN=PSS Root",
        &[
            "-sigopt",
            "rsa_padding_mode:pss",
            "-sigopt",
            "rsa_pss_saltlen:digest",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
        ],
    );
    let pss_root = cert(&d.join("pss-ca.pem"));
    assert_eq!(pss_root.x509().signature_algorithm.oid.to_string(), "1.2.840.113549.1.1.10");
    let pss_anchor = TrustAnchors::new(vec![pss_root.clone()]);
    for (md, salt) in [("-sha256", "32"), ("-sha384", "48"), ("-sha512", "64")] {
        let (p, _) = issue(
            d,
            &format!("pss{md}"),
            Some((&d.join("pss-ca.pem"), &d.join("pss-ca.key"))),
            "rsa:3072",
            LEAF_EXT,
            &[md, "-sigopt", "rsa_padding_mode:pss", "-sigopt", &format!("rsa_pss_saltlen:{salt}")],
        );
        let c = cert(&p);
        assert_eq!(c.rsa_modulus_bits().unwrap(), 3072);
        pss_anchor
            .validate(&c, &[], KeyPurpose::Encryption, now(), &policy)
            .unwrap_or_else(|e| panic!("PSS {md}: {e}"));
    }
    // A salt length other than the hash length is refused as unsupported, saying so.
    let (p, _) = issue(
        d,
        "pss-salt20",
        Some((&d.join("pss-ca.pem"), &d.join("pss-ca.key"))),
        "rsa:2048",
        LEAF_EXT,
        &["-sha256", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:20"],
    );
    let msg = problem(pss_anchor.validate(&cert(&p), &[], KeyPurpose::Signing, now(), &policy));
    assert!(msg.contains("salt"), "{msg}");
}

#[test]
fn rsa_key_sizes_legacy_and_strict() {
    let pki = Pki::new();
    let d = pki.dir.path();
    let root = Some((pki.ca.cert.as_path(), Path::new("ca.key")));
    let anchors = TrustAnchors::new(vec![cert(&pki.ca.cert)]);
    let (p, _) = issue(d, "rsa1024", root, "rsa:1024", LEAF_EXT, &[]);
    let small = cert(&p);
    assert_eq!(small.rsa_modulus_bits().unwrap(), 1024);
    // Accepted by default (legacy partners), refused by the strict policy.
    anchors
        .validate(&small, &[], KeyPurpose::Encryption, now(), &ValidationPolicy::default())
        .unwrap();
    let msg = problem(anchors.validate(
        &small,
        &[],
        KeyPurpose::Encryption,
        now(),
        &ValidationPolicy::strict(),
    ));
    assert!(msg.contains("1024 bits") && msg.contains("2048"), "{msg}");
    // A 1024-bit CA signing with SHA-1, as old OFTP2 installations have.
    self_signed(
        d,
        "old-ca",
        "rsa:1024",
        "/CN=Old CA",
        &["-sha1", "-addext", "basicConstraints=critical,CA:TRUE"],
    );
    let (p, _) = issue(
        d,
        "old-leaf",
        Some((&d.join("old-ca.pem"), &d.join("old-ca.key"))),
        "rsa:1024",
        LEAF_EXT,
        &["-sha1"],
    );
    TrustAnchors::new(vec![cert(&d.join("old-ca.pem"))])
        .validate(&cert(&p), &[], KeyPurpose::Signing, now(), &ValidationPolicy::default())
        .unwrap();
    let (p, _) = issue(d, "rsa512", root, "rsa:512", LEAF_EXT, &[]);
    assert!(problem(anchors.validate(
        &cert(&p),
        &[],
        KeyPurpose::Signing,
        now(),
        &ValidationPolicy::default()
    ))
    .contains("512 bits"));
}

#[test]
fn cms_identifiers_issuer_and_serial_and_subject_key_identifier() {
    use cms::enveloped_data::RecipientIdentifier;
    use cms::signed_data::SignerIdentifier;
    let pki = Pki::new();
    let a = cert(&pki.a.cert);
    let b = cert(&pki.b.cert);
    let ias = a.issuer_and_serial();
    // -set_serial 1001 = 0x03E9
    assert_eq!(ias.serial_number.as_bytes(), [0x03, 0xE9]);
    assert_eq!(a.serial_number(), [0x03, 0xE9]);
    assert_eq!(ias.issuer.to_string(), "CN=Interop Test CA,O=OFTP2 Interop");
    assert!(a.matches_issuer_and_serial(&ias));
    assert!(!b.matches_issuer_and_serial(&ias));

    // subjectKeyIdentifier=hash: SHA-1 of the subjectPublicKey BIT STRING's value (RFC 5280
    // §4.2.1.2 method 1).
    let ski = a.subject_key_identifier().unwrap();
    let sha1 = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
        a.public_key_octets(),
    );
    assert_eq!(ski.0.as_bytes(), sha1.as_ref());

    assert!(a.matches_recipient(&RecipientIdentifier::IssuerAndSerialNumber(ias.clone())));
    assert!(a.matches_recipient(&RecipientIdentifier::SubjectKeyIdentifier(ski.clone())));
    assert!(!b.matches_recipient(&RecipientIdentifier::SubjectKeyIdentifier(ski.clone())));
    assert!(!b.matches_recipient(&RecipientIdentifier::IssuerAndSerialNumber(ias.clone())));
    assert!(a.matches_signer(&SignerIdentifier::IssuerAndSerialNumber(ias)));
    assert!(a.matches_signer(&SignerIdentifier::SubjectKeyIdentifier(ski)));

    // Without the extension.
    let d = pki.dir.path();
    let (p, _) = issue(
        d,
        "no-ski",
        Some((pki.ca.cert.as_path(), Path::new("ca.key"))),
        "rsa:2048",
        "subjectKeyIdentifier=none\nbasicConstraints=CA:FALSE",
        &[],
    );
    assert!(cert(&p).subject_key_identifier().is_none());
}
