//! Real vsftpd and ProFTPD, started by the tests on 127.0.0.1 and configured
//! like the gateway: explicit TLS only, TLS 1.2, a client certificate from
//! the test CA required, TLS session reuse on data connections required, a
//! passive port range. Installed by `scripts/install-ftps-servers.sh`.
//!
//! If a server is missing, the test fails with a message naming the script,
//! unless `FTPS_GATEWAY_SKIP_SERVERS=1` is set (then it is skipped with a
//! note on stderr).

use std::io::Write as _;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::pki::Pki;

pub const VSFTPD_USER: &str = "ftpsgw-test";
pub const VSFTPD_PASS: &str = "ftpsgw-test-password";
pub const PROFTPD_USER: &str = "skatgw";
pub const PROFTPD_PASS: &str = "proftpd-test-password";
pub const SERVICE: &str = "FTPSGW.Heartbeat";

const INSTALL: &str = "scripts/install-ftps-servers.sh";

fn prefix() -> PathBuf {
    PathBuf::from(
        std::env::var("FTPS_SERVERS_PREFIX")
            .unwrap_or_else(|_| "/opt/ftps-gateway-test-servers".into()),
    )
}

/// `None` (and a note) if the servers are missing and skipping is allowed;
/// panics naming the install script otherwise.
fn require(what: &str, ok: bool) -> bool {
    if ok {
        return true;
    }
    if std::env::var("FTPS_GATEWAY_SKIP_SERVERS").as_deref() == Ok("1") {
        eprintln!("SKIPPED: {what} is not installed and FTPS_GATEWAY_SKIP_SERVERS=1");
        return false;
    }
    panic!(
        "{what} is not installed: run `sudo {INSTALL}` (Debian), or set FTPS_GATEWAY_SKIP_SERVERS=1 to skip the real-server tests"
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A range of `n` free ports for passive mode.
fn free_range(n: u16) -> (u16, u16) {
    for _ in 0..200 {
        let base = 40_000 + (rand_u16() % 20_000);
        let all_free = (base..base + n).all(|p| TcpListener::bind(("127.0.0.1", p)).is_ok());
        if all_free {
            return (base, base + n - 1);
        }
    }
    panic!("no free passive port range found");
}

fn rand_u16() -> u16 {
    let t =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    ((t ^ std::process::id().wrapping_mul(2_654_435_761)) % 65_521) as u16
}

pub struct RealServer {
    pub name: &'static str,
    pub addr: SocketAddr,
    pub user: &'static str,
    pub pass: &'static str,
    /// The server's FTP root; service folders and `out` are inside.
    pub root: PathBuf,
    pub dir: tempfile::TempDir,
    child: Child,
    log: PathBuf,
}

impl Drop for RealServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl RealServer {
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        for _ in 0..300 {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut err = String::new();
                if let Some(mut e) = self.child.stderr.take() {
                    use std::io::Read;
                    let _ = e.read_to_string(&mut err);
                }
                panic!("{} exited at start ({status}): {err}\nlog:\n{}", self.name, self.log());
            }
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok() {
                return;
            }
            if Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("{} did not start listening on {}\nlog:\n{}", self.name, self.addr, self.log());
    }
}

fn chown(path: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
}

fn ids(user: &str) -> Option<(u32, u32)> {
    let out = Command::new("id").arg("-u").arg(user).output().ok()?;
    let uid = String::from_utf8_lossy(&out.stdout).trim().parse().ok()?;
    let out = Command::new("id").arg("-g").arg(user).output().ok()?;
    let gid = String::from_utf8_lossy(&out.stdout).trim().parse().ok()?;
    Some((uid, gid))
}

/// The FTP root: not writable by the user (vsftpd's chroot rule), with
/// writable `out` and service folders inside.
fn make_root(dir: &Path, uid: u32, gid: u32) -> PathBuf {
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let root = dir.join("root");
    std::fs::create_dir(&root).unwrap();
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
    for sub in ["out", SERVICE] {
        let p = root.join(sub);
        std::fs::create_dir(&p).unwrap();
        chown(&p, uid, gid);
    }
    root
}

/// Starts a server process and waits until it listens.
fn launch(
    name: &'static str,
    mut cmd: Command,
    port: u16,
    (user, pass): (&'static str, &'static str),
    root: PathBuf,
    dir: tempfile::TempDir,
    log: PathBuf,
) -> RealServer {
    let child =
        cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let mut s = RealServer {
        name,
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
        user,
        pass,
        root,
        dir,
        child,
        log,
    };
    s.wait_ready();
    s
}

/// OpenSSL configuration pinning one TLS version (vsftpd 3.0.3 has no
/// option for it). TLS 1.1 also needs security level 0 with OpenSSL 3.
fn openssl_conf(dir: &Path, version: &str) -> PathBuf {
    let p = dir.join("openssl-server.cnf");
    let seclevel = if version == "TLSv1.2" { "" } else { "CipherString = DEFAULT@SECLEVEL=0\n" };
    std::fs::write(
        &p,
        format!("openssl_conf = default_conf\n[default_conf]\nssl_conf = ssl_sect\n[ssl_sect]\nsystem_default = pinned\n[pinned]\nMinProtocol = {version}\nMaxProtocol = {version}\n{seclevel}"),
    )
    .unwrap();
    p
}

/// Starts vsftpd (TLS 1.2 only); `None` if it is missing and skipping is
/// allowed.
pub fn vsftpd(pki: &Pki) -> Option<RealServer> {
    vsftpd_with_tls(pki, "TLSv1.2")
}

/// Starts vsftpd offering only the given OpenSSL protocol version
/// (`TLSv1.2`, `TLSv1.1`).
pub fn vsftpd_with_tls(pki: &Pki, version: &str) -> Option<RealServer> {
    let bin = Path::new("/usr/sbin/vsftpd");
    let user = ids(VSFTPD_USER);
    if !require("vsftpd (with the ftpsgw-test user)", bin.exists() && user.is_some()) {
        return None;
    }
    let (uid, gid) = user.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = make_root(dir.path(), uid, gid);
    let port = free_port();
    let (pmin, pmax) = free_range(20);
    let log = dir.path().join("vsftpd.log");
    let conf = dir.path().join("vsftpd.conf");
    let cfg = format!(
        "listen=YES
listen_address=127.0.0.1
listen_port={port}
background=NO
anonymous_enable=NO
local_enable=YES
write_enable=YES
local_umask=022
local_root={root}
chroot_local_user=YES
pam_service_name=vsftpd
userlist_enable=NO
seccomp_sandbox=NO
isolate=NO
isolate_network=NO
secure_chroot_dir=/var/run/vsftpd/empty
ssl_enable=YES
allow_anon_ssl=NO
force_local_logins_ssl=YES
force_local_data_ssl=YES
ssl_sslv2=NO
ssl_sslv3=NO
ssl_tlsv1=YES
ssl_ciphers={ciphers}
rsa_cert_file={cert}
rsa_private_key_file={key}
ca_certs_file={ca}
ssl_request_cert=YES
require_cert=YES
validate_cert=YES
require_ssl_reuse=YES
pasv_enable=YES
pasv_min_port={pmin}
pasv_max_port={pmax}
ascii_upload_enable=YES
xferlog_enable=YES
vsftpd_log_file={log}
dual_log_enable=YES
log_ftp_protocol=YES
debug_ssl=YES
",
        root = root.display(),
        cert = pki.server.cert.display(),
        key = pki.server.key.display(),
        ca = pki.client_cas.display(),
        log = log.display(),
        ciphers = if version == "TLSv1.2" { "HIGH" } else { "HIGH:@SECLEVEL=0" },
    );
    std::fs::write(&conf, cfg).unwrap();
    let mut cmd = Command::new(bin);
    cmd.arg(&conf).env("OPENSSL_CONF", openssl_conf(dir.path(), version));
    Some(launch("vsftpd", cmd, port, (VSFTPD_USER, VSFTPD_PASS), root, dir, log))
}

/// Starts ProFTPD (unpacked by the install script); `None` if it is missing
/// and skipping is allowed.
pub fn proftpd(pki: &Pki) -> Option<RealServer> {
    let base = prefix().join("proftpd");
    let bin = base.join("usr/sbin/proftpd");
    let modules = base.join("usr/lib/proftpd");
    if !require(
        "ProFTPD (unpacked proftpd-core + proftpd-mod-crypto)",
        bin.exists() && modules.join("mod_tls.so").exists(),
    ) {
        return None;
    }
    let (uid, gid) = (65_534, 65_534);
    let dir = tempfile::tempdir().unwrap();
    let root = make_root(dir.path(), uid, gid);
    let port = free_port();
    let (pmin, pmax) = free_range(20);
    let d = dir.path();
    let hash = Command::new("openssl").args(["passwd", "-6", PROFTPD_PASS]).output().unwrap();
    let hash = String::from_utf8_lossy(&hash.stdout).trim().to_string();
    std::fs::write(
        d.join("passwd"),
        format!("{PROFTPD_USER}:{hash}:{uid}:{gid}::{}:/bin/false\n", root.display()),
    )
    .unwrap();
    std::fs::write(d.join("group"), format!("nogroup:x:{gid}:\n")).unwrap();
    for f in ["passwd", "group"] {
        std::fs::set_permissions(d.join(f), std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let log = d.join("proftpd.log");
    let conf = d.join("proftpd.conf");
    let mut f = std::fs::File::create(&conf).unwrap();
    write!(
        f,
        "ServerType standalone
ServerName \"ftps-gateway test\"
DefaultAddress 127.0.0.1
Port {port}
UseIPv6 off
UseReverseDNS off
User nobody
Group nogroup
PidFile {d}/proftpd.pid
ScoreboardFile {d}/proftpd.scoreboard
DelayTable none
WtmpLog off
TransferLog none
SystemLog {log}
ModulePath {modules}
LoadModule mod_tls.c
AuthOrder mod_auth_file.c
AuthUserFile {d}/passwd
AuthGroupFile {d}/group
RequireValidShell off
DefaultRoot ~
PassivePorts {pmin} {pmax}
AllowOverwrite on
Umask 022
TLSEngine on
TLSLog {d}/tls.log
TLSProtocol TLSv1.2
TLSRequired on
TLSECCertificateFile {cert}
TLSECCertificateKeyFile {key}
TLSCACertificateFile {ca}
TLSVerifyClient on
TLSRenegotiate none
",
        d = d.display(),
        log = log.display(),
        modules = modules.display(),
        cert = pki.server.cert.display(),
        key = pki.server.key.display(),
        ca = pki.client_cas.display(),
    )
    .unwrap();
    drop(f);
    let mut cmd = Command::new(&bin);
    cmd.args(["-n", "-c"]).arg(&conf);
    Some(launch("proftpd", cmd, port, (PROFTPD_USER, PROFTPD_PASS), root, dir, log))
}

impl RealServer {
    /// The TLS log (ProFTPD) appended to the main log.
    pub fn all_logs(&self) -> String {
        let tls = std::fs::read_to_string(self.dir.path().join("tls.log")).unwrap_or_default();
        format!("{}\n{}", self.log(), tls)
    }
}
