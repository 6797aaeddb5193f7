//! Interop test support: a test PKI made with the `openssl` command line, wrappers for
//! `openssl cms`, and Bouncy Castle through tests/interop/BcCms.java (compiled once with
//! `javac` under the cargo target directory).
//!
//! Tests that need Java call [`bouncy_castle`]: it returns `None` (the test then skips,
//! saying so) only when `javac` is missing AND `OFTP_REQUIRE_INTEROP` is not set;
//! `scripts/test.sh` sets it, so CI never skips silently. Debian's OpenSSL has no zlib, so
//! CompressedData interop goes through Bouncy Castle only.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::too_many_arguments)]
#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};

use tempfile::TempDir;

/// Runs a command, panicking with its stderr when it fails; returns stdout.
pub fn run(cmd: &mut Command) -> Vec<u8> {
    let out = output(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Runs a command and returns its output, whether it succeeded or not.
pub fn output(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"))
}

/// `openssl <args>` in `dir`; panics when it fails.
pub fn openssl(dir: &Path, args: &[&str]) -> Vec<u8> {
    run(Command::new("openssl").current_dir(dir).args(args))
}

/// Makes a self-signed certificate `<stem>.pem` with a new key `<stem>.key` (`key_spec`
/// as `openssl req -newkey` takes it: `rsa:2048`) in `dir`, SHA-256 unless `extra` (more
/// `openssl req` options: `-days`, `-addext`, `-sigopt`) says otherwise.
pub fn self_signed(
    dir: &Path,
    stem: &str,
    key_spec: &str,
    subject: &str,
    extra: &[&str],
) -> PathBuf {
    let key = format!("{stem}.key");
    let cert = format!("{stem}.pem");
    let mut args = vec!["req", "-x509", "-newkey", key_spec, "-nodes", "-keyout", &key];
    args.extend_from_slice(&["-out", &cert, "-subj", subject, "-sha256"]);
    args.extend_from_slice(extra);
    openssl(dir, &args);
    dir.join(cert)
}

/// One party of the test PKI: certificate and key as PEM files, and a PKCS#12 file holding
/// both and the CA certificate.
#[derive(Debug, Clone)]
pub struct Party {
    /// Its name, also the certificate's CN.
    pub name: String,
    /// Certificate, PEM.
    pub cert: PathBuf,
    /// Private key, PKCS#8 PEM (`BEGIN PRIVATE KEY`).
    pub key: PathBuf,
    /// PKCS#12 (modern: PBES2, AES-256-CBC, as `openssl pkcs12 -export` makes by default)
    /// with key, certificate and CA certificate; password [`P12_PASSWORD`].
    pub p12: PathBuf,
}

/// The password of every PKCS#12 file the fixture makes.
pub const P12_PASSWORD: &str = "interop-secret";

/// A test PKI in a temporary directory: an RSA CA and two partners whose certificates it
/// issued (RSA 2048, keyUsage digitalSignature + keyEncipherment, subjectKeyIdentifier).
pub struct Pki {
    /// The directory holding every file; removed when dropped.
    pub dir: TempDir,
    /// The CA (self-signed, basicConstraints cA, keyCertSign).
    pub ca: Party,
    /// Partner A.
    pub a: Party,
    /// Partner B.
    pub b: Party,
}

impl Pki {
    /// Makes the CA and both partners with `openssl`.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            d.join("ext.cnf"),
            "[leaf]\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n\
             subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
        )
        .unwrap();
        self_signed(
            d,
            "ca",
            "rsa:2048",
            "/O=OFTP2 Interop/CN=Interop Test CA",
            &[
                "-days",
                "3650",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        );
        let ca = Party {
            name: "ca".into(),
            cert: d.join("ca.pem"),
            key: d.join("ca.key"),
            p12: d.join("ca.p12"),
        };
        let a = Self::leaf(d, "partner-a", 1001);
        let b = Self::leaf(d, "partner-b", 1002);
        Pki { dir, ca, a, b }
    }

    /// A partner certificate issued by the CA, with key, and its PKCS#12 file.
    fn leaf(d: &Path, name: &str, serial: u32) -> Party {
        let key = format!("{name}.key");
        let csr = format!("{name}.csr");
        let cert = format!("{name}.pem");
        let p12 = format!("{name}.p12");
        openssl(
            d,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                &key,
                "-out",
                &csr,
                "-subj",
                &format!("/O=OFTP2 Interop/CN={name}"),
            ],
        );
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-set_serial",
                &serial.to_string(),
                "-days",
                "365",
                "-sha256",
                "-extfile",
                "ext.cnf",
                "-extensions",
                "leaf",
                "-out",
                &cert,
            ],
        );
        openssl(
            d,
            &[
                "pkcs12",
                "-export",
                "-in",
                &cert,
                "-inkey",
                &key,
                "-certfile",
                "ca.pem",
                "-name",
                name,
                "-out",
                &p12,
                "-passout",
                &format!("pass:{P12_PASSWORD}"),
            ],
        );
        Party { name: name.into(), cert: d.join(cert), key: d.join(key), p12: d.join(p12) }
    }

    /// A path for a new file in the PKI's directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes `bytes` to a new file in the directory and returns its path.
    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

/// `openssl cms` operations on files of a directory; all CMS output is DER.
pub struct OpensslCms<'a> {
    pki: &'a Pki,
}

/// The `openssl cms` wrappers for this PKI.
pub fn openssl_cms(pki: &Pki) -> OpensslCms<'_> {
    OpensslCms { pki }
}

static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
}

impl OpensslCms<'_> {
    fn cms(&self, args: &[&str], input: &[u8]) -> Vec<u8> {
        let inp = self.pki.write(&unique("ossl-in"), input);
        let out = self.pki.path(&unique("ossl-out"));
        // Options first: a recipient certificate, a positional argument, ends them.
        let mut all: Vec<&str> =
            vec!["cms", "-in", inp.to_str().unwrap(), "-out", out.to_str().unwrap()];
        all.extend_from_slice(args);
        openssl(self.pki.dir.path(), &all);
        std::fs::read(out).unwrap()
    }

    /// `openssl cms -encrypt` to `recipient` with `cipher` (`-aes256`, `-des3`), DER,
    /// `-stream` (indefinite-length BER) if asked.
    pub fn encrypt(&self, data: &[u8], recipient: &Party, cipher: &str, stream: bool) -> Vec<u8> {
        let mut args = vec!["-encrypt", "-binary", "-outform", "DER", cipher];
        if stream {
            args.push("-stream");
        }
        args.push(recipient.cert.to_str().unwrap());
        self.cms(&args, data)
    }

    /// `openssl cms -decrypt` with `recipient`'s certificate and key; panics on failure.
    pub fn decrypt(&self, cms: &[u8], recipient: &Party) -> Vec<u8> {
        self.cms(
            &[
                "-decrypt",
                "-binary",
                "-inform",
                "DER",
                "-recip",
                recipient.cert.to_str().unwrap(),
                "-inkey",
                recipient.key.to_str().unwrap(),
            ],
            cms,
        )
    }

    /// `openssl cms -sign` by `signer` with digest `md` (`sha1`, `sha256`, `sha512`...),
    /// content encapsulated (`-nodetach`), DER, `-stream` if asked.
    pub fn sign(&self, data: &[u8], signer: &Party, md: &str, stream: bool) -> Vec<u8> {
        let mut args = vec![
            "-sign",
            "-binary",
            "-nodetach",
            "-outform",
            "DER",
            "-md",
            md,
            "-signer",
            signer.cert.to_str().unwrap(),
            "-inkey",
            signer.key.to_str().unwrap(),
        ];
        if stream {
            args.push("-stream");
        }
        self.cms(&args, data)
    }

    /// The `openssl cms -verify` options: the PKI's CA as trust anchor, the signer's
    /// certificate given (`-certfile`) in case the structure carries none.
    fn verify_args<'s>(&'s self, signer: &'s Party) -> [&'s str; 10] {
        [
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-CAfile",
            self.pki.ca.cert.to_str().unwrap(),
            "-certfile",
            signer.cert.to_str().unwrap(),
            "-purpose",
            "any",
        ]
    }

    /// `openssl cms -verify`; returns the content. Panics if it does not verify.
    pub fn verify(&self, cms: &[u8], signer: &Party) -> Vec<u8> {
        self.cms(&self.verify_args(signer), cms)
    }

    /// Whether `openssl cms -verify` accepts the structure.
    pub fn verifies(&self, cms: &[u8], signer: &Party) -> bool {
        let inp = self.pki.write(&unique("ossl-in"), cms);
        let mut cmd = Command::new("openssl");
        cmd.current_dir(self.pki.dir.path()).args(["cms", "-in", inp.to_str().unwrap()]);
        cmd.args(self.verify_args(signer)).args(["-out", "/dev/null"]);
        output(&mut cmd).status.success()
    }
}

/// Bouncy Castle (Debian's libbcprov-java and libbcpkix-java) driven through BcCms.java.
///
/// One JVM per test binary runs `BcCms serve`; commands go to it one at a time.
#[derive(Debug)]
pub struct BouncyCastle {
    server: Mutex<Server>,
}

/// A running `BcCms serve`: its stdin and its stdout.
#[derive(Debug)]
struct Server {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

/// The jars, in /usr/share/java (Debian's libbcprov-java, libbcpkix-java, libbcutil-java).
const JARS: &[(&str, bool)] = &[("bcprov.jar", true), ("bcpkix.jar", true), ("bcutil.jar", false)];

/// Bouncy Castle, compiled once per test binary; `None` when Java is not installed and
/// `OFTP_REQUIRE_INTEROP` is not set (the caller skips and says so).
pub fn bouncy_castle() -> Option<&'static BouncyCastle> {
    static BC: OnceLock<Option<BouncyCastle>> = OnceLock::new();
    BC.get_or_init(|| {
        let required = std::env::var_os("OFTP_REQUIRE_INTEROP").is_some_and(|v| !v.is_empty());
        let have_javac = Command::new("javac").arg("-version").output().is_ok_and(|o| o.status.success());
        if !have_javac {
            assert!(
                !required,
                "OFTP_REQUIRE_INTEROP is set but javac is missing: run scripts/install-test-deps.sh"
            );
            eprintln!("SKIPPED: javac is not installed (Bouncy Castle interop); set OFTP_REQUIRE_INTEROP=1 to fail instead");
            return None;
        }
        Some(BouncyCastle::compile())
    })
    .as_ref()
}

impl BouncyCastle {
    fn compile() -> Self {
        let java_dir = Path::new("/usr/share/java");
        let mut jars = Vec::new();
        for (jar, needed) in JARS {
            let path = java_dir.join(jar);
            if path.exists() {
                jars.push(path);
            } else {
                assert!(
                    !needed,
                    "{} is missing: apt-get install libbcprov-java libbcpkix-java (scripts/install-test-deps.sh)",
                    path.display()
                );
            }
        }
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/BcCms.java");
        let text = std::fs::read(&source).unwrap();
        // One directory per source version: test binaries running at the same time compile
        // into their own temporary directory and rename it into place.
        let hash = text.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
        let classes = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("bccms-{hash:016x}"));
        let jar_path = jars.iter().map(|j| j.to_str().unwrap()).collect::<Vec<_>>().join(":");
        if !classes.join("BcCms.class").exists() {
            let tmp = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
            run(Command::new("javac")
                .args(["-nowarn", "-d"])
                .arg(tmp.path())
                .args(["-cp", &jar_path])
                .arg(&source));
            let staged = tmp.keep();
            if std::fs::rename(&staged, &classes).is_err() {
                // Another test binary won the race; its classes are the same.
                let _ = std::fs::remove_dir_all(&staged);
            }
        }
        let classpath = format!("{}:{jar_path}", classes.display());
        let mut child = Command::new("java")
            .args(["-cp", &classpath, "BcCms", "serve"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start java: {e}"));
        let input = child.stdin.take().unwrap();
        let output = BufReader::new(child.stdout.take().unwrap());
        BouncyCastle { server: Mutex::new(Server { child, input, output }) }
    }

    /// Runs one BcCms command; `Err` holds Bouncy Castle's message.
    fn call(&self, args: &[&str]) -> Result<(), String> {
        assert!(args.iter().all(|a| !a.contains(['\t', '\n'])), "{args:?}");
        let mut server = self.server.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        writeln!(server.input, "{}", args.join("\t")).unwrap();
        server.input.flush().unwrap();
        let mut answer = String::new();
        server.output.read_line(&mut answer).unwrap();
        let answer = answer.trim_end();
        if answer == "ok" {
            Ok(())
        } else if let Some(message) = answer.strip_prefix("error ") {
            Err(message.to_string())
        } else {
            let status = server.child.try_wait();
            panic!("BcCms serve answered {answer:?} (exited: {status:?})")
        }
    }

    /// `BcCms <args>`; panics with Bouncy Castle's message when it fails.
    pub fn run(&self, args: &[&str]) {
        if let Err(message) = self.call(args) {
            panic!("BcCms {}: {message}", args.join(" "));
        }
    }

    /// Whether `BcCms <args>` succeeds.
    pub fn succeeds(&self, args: &[&str]) -> bool {
        self.call(args).is_ok()
    }

    /// Runs `command IN OUT rest...` on `input` in the PKI's directory; returns OUT's bytes.
    pub fn apply(&self, pki: &Pki, command: &str, input: &[u8], rest: &[&Path]) -> Vec<u8> {
        self.apply_args(
            pki,
            command,
            input,
            &rest.iter().map(|p| p.to_str().unwrap()).collect::<Vec<_>>(),
        )
    }

    /// As [`BouncyCastle::apply`], with string arguments (digests, ciphers, nestings).
    pub fn apply_args(&self, pki: &Pki, command: &str, input: &[u8], rest: &[&str]) -> Vec<u8> {
        let inp = pki.write(&unique("bc-in"), input);
        let out = pki.path(&unique("bc-out"));
        let mut args = vec![command, inp.to_str().unwrap(), out.to_str().unwrap()];
        args.extend_from_slice(rest);
        self.run(&args);
        std::fs::read(out).unwrap()
    }

    /// BC compresses (CMSCompressedDataStreamGenerator, ZlibCompressor).
    pub fn compress(&self, pki: &Pki, data: &[u8]) -> Vec<u8> {
        self.apply_args(pki, "compress", data, &[])
    }

    /// BC decompresses (CMSCompressedDataParser, ZlibExpanderProvider).
    pub fn decompress(&self, pki: &Pki, cms: &[u8]) -> Vec<u8> {
        self.apply_args(pki, "decompress", cms, &[])
    }

    /// BC signs with `digest` (`SHA1`, `SHA256`, `SHA384`, `SHA512`), content encapsulated.
    pub fn sign(&self, pki: &Pki, data: &[u8], signer: &Party, digest: &str) -> Vec<u8> {
        self.apply_args(
            pki,
            "sign",
            data,
            &[signer.cert.to_str().unwrap(), signer.key.to_str().unwrap(), digest],
        )
    }

    /// BC verifies against `signer`'s certificate and returns the content.
    pub fn verify(&self, pki: &Pki, cms: &[u8], signer: &Party) -> Vec<u8> {
        self.apply(pki, "verify", cms, &[&signer.cert])
    }

    /// BC encrypts to `recipient` with `cipher` (`aes256`, `des3`).
    pub fn encrypt(&self, pki: &Pki, data: &[u8], recipient: &Party, cipher: &str) -> Vec<u8> {
        self.apply_args(pki, "encrypt", data, &[recipient.cert.to_str().unwrap(), cipher])
    }

    /// BC decrypts as `recipient`.
    pub fn decrypt(&self, pki: &Pki, cms: &[u8], recipient: &Party) -> Vec<u8> {
        self.apply(pki, "decrypt", cms, &[&recipient.cert, &recipient.key])
    }

    /// BC's OFTP2 pipeline: sign, compress, encrypt. `nesting`: `contentinfo` (each inner
    /// ContentInfo is the next layer's id-data content) or `typed` (RFC 5652 typed
    /// eContent).
    pub fn protect(
        &self,
        pki: &Pki,
        data: &[u8],
        signer: &Party,
        recipient: &Party,
        digest: &str,
        cipher: &str,
        nesting: &str,
    ) -> Vec<u8> {
        self.apply_args(
            pki,
            "protect",
            data,
            &[
                signer.cert.to_str().unwrap(),
                signer.key.to_str().unwrap(),
                recipient.cert.to_str().unwrap(),
                digest,
                cipher,
                nesting,
            ],
        )
    }

    /// BC undoes the pipeline: decrypt, decompress, verify; returns the data.
    pub fn unprotect(&self, pki: &Pki, cms: &[u8], recipient: &Party, signer: &Party) -> Vec<u8> {
        self.apply(pki, "unprotect", cms, &[&recipient.cert, &recipient.key, &signer.cert])
    }
}

/// Data that looks like an EDI file: text lines, repetitive enough to compress.
pub fn edi_like(len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 80);
    let mut i = 0u64;
    while out.len() < len {
        out.extend_from_slice(
            format!(
                "UNH+{i}+INVOIC:D:96A:UN'BGM+380+{:08}+9'DTM+137:20261123:102'\r\n",
                i * 7919 % 100_000_000
            )
            .as_bytes(),
        );
        i += 1;
    }
    out.truncate(len);
    out
}
