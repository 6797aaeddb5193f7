//! `skat-gateway`: upload a file to a service of SKAT's FTPS Gateway and
//! follow it to its final status, with a progress bar for the upload and a
//! readable report of each status step.
//!
//! ```text
//! skat-gateway upload --env tfe --p12 company.p12 --service FTPSGW.Heartbeat --file ping.xml --follow
//! skat-gateway poll   --env tfe --p12 company.p12
//! skat-gateway journal
//! skat-gateway resolve <name> received|not-received
//! ```
//!
//! Secrets come from the environment: `SKAT_GATEWAY_PASSWORD` (gateway
//! password) and `SKAT_P12_PASSPHRASE` (PKCS#12 passphrase).

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ftps_gateway::{
    ClientConfig, ClientIdentity, Error, FtpsClient, Gateway, Journal, PollInterval, PollReport,
    Poller, PollerConfig, TransactionEvent, TransferMode, UnknownResolution, UploadOptions,
    UploadState, GATEWAY_PORT, PRODUCTION_HOST, TFE_HOST,
};

const USAGE: &str = "\
usage: skat-gateway <command> [options]

commands:
  upload    --service <folder> --file <path> [--name <name> | --prefix <prefix>] [--ascii] [--follow]
  poll      list /out once, download new status and response files, report them
  journal   show every upload this client made and its state
  resolve   <name> received|not-received   record SKAT's answer about an upload of unknown outcome

connection options (upload, poll):
  --env tfe|prod            secureftpgatewaytest.skat.dk or secureftpgateway.skat.dk, port 6381
  --host <host> --port <n>  any other server (e.g. a local test server)
  --server-name <name>      name to verify the server certificate against (default: host)
  --roots <pem>             trusted roots for the server certificate (required)
  --p12 <file>              client certificate and key (passphrase from SKAT_P12_PASSPHRASE)
  --cert <pem> --key <pem>  client certificate and key as PEM instead
  --user <name>             gateway username (default: derived from the certificate)
                            password from SKAT_GATEWAY_PASSWORD

other options:
  --journal <file>          default skat-gateway.redb
  --downloads <dir>         where status and response files go (default downloads)
  --poll-seconds <n>        poll interval, at least 60 (default 60)
  --delete                  delete status and response files from /out once downloaded
  --test-poll-interval-ms <n>  poll faster than the gateway allows: local test servers only
";

#[derive(Default)]
struct Args {
    command: String,
    positional: Vec<String>,
    env: Option<String>,
    host: Option<String>,
    port: Option<u16>,
    server_name: Option<String>,
    roots: Option<PathBuf>,
    p12: Option<PathBuf>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    user: Option<String>,
    journal: Option<PathBuf>,
    downloads: Option<PathBuf>,
    service: Option<String>,
    file: Option<PathBuf>,
    name: Option<String>,
    prefix: Option<String>,
    ascii: bool,
    follow: bool,
    delete: bool,
    poll_seconds: Option<u64>,
    test_poll_ms: Option<u64>,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mut a = Args { command: it.next().ok_or("no command")?, ..Args::default() };
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--env" => a.env = Some(value("--env")?),
            "--host" => a.host = Some(value("--host")?),
            "--port" => {
                a.port = Some(value("--port")?.parse().map_err(|e| format!("--port: {e}"))?)
            }
            "--server-name" => a.server_name = Some(value("--server-name")?),
            "--roots" => a.roots = Some(value("--roots")?.into()),
            "--p12" => a.p12 = Some(value("--p12")?.into()),
            "--cert" => a.cert = Some(value("--cert")?.into()),
            "--key" => a.key = Some(value("--key")?.into()),
            "--user" => a.user = Some(value("--user")?),
            "--journal" => a.journal = Some(value("--journal")?.into()),
            "--downloads" => a.downloads = Some(value("--downloads")?.into()),
            "--service" => a.service = Some(value("--service")?),
            "--file" => a.file = Some(value("--file")?.into()),
            "--name" => a.name = Some(value("--name")?),
            "--prefix" => a.prefix = Some(value("--prefix")?),
            "--poll-seconds" => {
                a.poll_seconds = Some(
                    value("--poll-seconds")?.parse().map_err(|e| format!("--poll-seconds: {e}"))?,
                )
            }
            "--test-poll-interval-ms" => {
                a.test_poll_ms = Some(
                    value("--test-poll-interval-ms")?
                        .parse()
                        .map_err(|e| format!("--test-poll-interval-ms: {e}"))?,
                )
            }
            "--ascii" => a.ascii = true,
            "--follow" => a.follow = true,
            "--delete" => a.delete = true,
            "-h" | "--help" => return Err(String::new()),
            other if other.starts_with("--") => return Err(format!("unknown option {other}")),
            other => a.positional.push(other.to_owned()),
        }
    }
    Ok(a)
}

fn secret(var: &str) -> Result<String, String> {
    std::env::var(var).map_err(|_| format!("set {var}"))
}

fn client_config(a: &Args) -> Result<ClientConfig, Box<dyn std::error::Error>> {
    let identity = match (&a.p12, &a.cert, &a.key) {
        (Some(p12), _, _) => {
            ClientIdentity::from_pkcs12_file(p12, &secret("SKAT_P12_PASSPHRASE")?)?
        }
        (None, Some(c), Some(k)) => ClientIdentity::from_pem_files(c, k)?,
        _ => return Err("give --p12 <file> or --cert <pem> --key <pem>".into()),
    };
    let user = match &a.user {
        Some(u) => u.clone(),
        None => identity.gateway_username()?,
    };
    let password = secret("SKAT_GATEWAY_PASSWORD")?;
    let (host, port) = match (a.env.as_deref(), &a.host) {
        (Some("tfe"), None) => (TFE_HOST.to_owned(), GATEWAY_PORT),
        (Some("prod"), None) => (PRODUCTION_HOST.to_owned(), GATEWAY_PORT),
        (None, Some(h)) => (h.clone(), a.port.unwrap_or(21)),
        _ => return Err("give --env tfe|prod or --host <host> [--port <n>]".into()),
    };
    let roots = a.roots.as_ref().ok_or("give --roots <pem> (the server certificate's roots)")?;
    let mut config = ClientConfig::new(host, port, user, password)
        .with_root_pem(&std::fs::read(roots)?)?
        .with_identity(identity);
    if let Some(n) = &a.server_name {
        config = config.with_server_name(n.clone());
    }
    Ok(config)
}

fn poller(a: &Args) -> Result<Poller, Error> {
    let mut cfg = PollerConfig::new(a.downloads.clone().unwrap_or_else(|| "downloads".into()));
    cfg.delete_after_download = a.delete;
    cfg.interval = match (a.test_poll_ms, a.poll_seconds) {
        (Some(ms), _) => PollInterval::unchecked_for_tests(Duration::from_millis(ms)),
        (None, Some(s)) => PollInterval::new(Duration::from_secs(s))?,
        (None, None) => PollInterval::default(),
    };
    Ok(Poller::new(cfg))
}

/// A progress bar on stderr.
struct Progress {
    total: u64,
    started: Instant,
    last_draw: Option<Instant>,
}

impl Progress {
    fn draw(&mut self, done: u64, force: bool) {
        if !force && self.last_draw.is_some_and(|t| t.elapsed() < Duration::from_millis(100)) {
            return;
        }
        self.last_draw = Some(Instant::now());
        let width = 30u64;
        let done_capped = done.min(self.total);
        let filled = (done_capped * width).checked_div(self.total).unwrap_or(width);
        let pct = (done_capped * 100).checked_div(self.total).unwrap_or(100);
        let secs = self.started.elapsed().as_secs_f64().max(0.001);
        let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
        let bar: String = (0..width).map(|i| if i < filled { '#' } else { '-' }).collect();
        eprint!(
            "\r[{bar}] {pct:3}% {:.1}/{:.1} MiB {:.1} MiB/s ",
            mib(done),
            mib(self.total),
            mib(done) / secs
        );
        let _ = std::io::stderr().flush();
    }
}

fn describe(state: &UploadState) -> String {
    match state {
        UploadState::Unknown { reason } => format!("OUTCOME UNKNOWN ({reason}): do not send it again; ask SKAT, then run `skat-gateway resolve`"),
        UploadState::NotSent { reason } => format!("not sent ({reason})"),
        UploadState::Exposed { response_file, saved_as } => format!(
            "exposed: {}{}",
            response_file.as_deref().unwrap_or("(no response file)"),
            saved_as.as_ref().map(|p| format!(", saved as {}", p.display())).unwrap_or_default()
        ),
        UploadState::Rejected { code, message, resolution } => format!("rejected: {code}: {message} ({resolution})"),
        other => other.label().to_owned(),
    }
}

fn print_report(report: &PollReport) {
    for t in &report.transactions {
        let step = match &t.event {
            TransactionEvent::Delivered => "1 delivered",
            TransactionEvent::Accepted => "2 accepted",
            TransactionEvent::Exposed { .. } => "3 exposed",
            TransactionEvent::Error { .. } => "0 ERROR",
            _ => "?",
        };
        println!("status {step:<12} {t}");
    }
    for (file, e) in &report.problems {
        println!("problem with {file}: {e}");
    }
}

async fn run(a: Args) -> Result<(), Box<dyn std::error::Error>> {
    let journal_path = a.journal.clone().unwrap_or_else(|| "skat-gateway.redb".into());
    match a.command.as_str() {
        "journal" => {
            let j = Journal::open(&journal_path)?;
            for r in j.uploads()? {
                println!(
                    "{:<50} {:<28} {:>10} B  {}",
                    r.name,
                    r.service,
                    r.bytes,
                    describe(&r.state)
                );
            }
            Ok(())
        }
        "resolve" => {
            let (name, answer) = match a.positional.as_slice() {
                [n, ans] => (n, ans),
                _ => return Err("resolve <name> received|not-received".into()),
            };
            let resolution = match answer.as_str() {
                "received" => UnknownResolution::Received,
                "not-received" => UnknownResolution::NotReceived,
                _ => return Err("answer is received or not-received".into()),
            };
            let r = Journal::open(&journal_path)?.resolve_unknown(name, resolution)?;
            println!("{}: {}", r.name, describe(&r.state));
            Ok(())
        }
        "poll" => {
            let client = FtpsClient::connect(client_config(&a)?).await?;
            let mut gw = Gateway::new(client, Journal::open(&journal_path)?);
            let report = poller(&a)?.poll(&mut gw).await?;
            if report.transactions.is_empty() && report.problems.is_empty() {
                println!("nothing new in /out");
            }
            print_report(&report);
            gw.client().quit().await?;
            Ok(())
        }
        "upload" => {
            let service = a.service.clone().ok_or("give --service <folder>")?;
            let file = a.file.clone().ok_or("give --file <path>")?;
            let total = std::fs::metadata(&file)?.len();
            let client = FtpsClient::connect(client_config(&a)?).await?;
            eprintln!(
                "connected to {}:{} as {} ({})",
                client.config().host(),
                client.config().port(),
                client.config().username(),
                client.tls_version().map(|v| v.to_string()).unwrap_or_default()
            );
            let mut gw = Gateway::new(client, Journal::open(&journal_path)?);
            let progress =
                Arc::new(Mutex::new(Progress { total, started: Instant::now(), last_draw: None }));
            let p = progress.clone();
            let options = UploadOptions {
                name: a.name.clone(),
                name_prefix: a.prefix.clone(),
                mode: if a.ascii { TransferMode::Ascii } else { TransferMode::Binary },
                progress: Some(Box::new(move |done| {
                    if let Ok(mut p) = p.lock() {
                        p.draw(done, false);
                    }
                })),
            };
            let receipt = gw.upload_file(&service, &file, options).await;
            if let Ok(mut p) = progress.lock() {
                if let Ok(r) = &receipt {
                    p.draw(r.bytes, true);
                }
            }
            eprintln!();
            let receipt = receipt?;
            println!("uploaded {} bytes as {}/{}", receipt.bytes, receipt.service, receipt.name);
            if !a.follow {
                return Ok(());
            }
            println!(
                "following {} (polling /out; status files arrive as the backend works)",
                receipt.name
            );
            let mut poller = poller(&a)?;
            let name = receipt.name.clone();
            poller
                .run_until(&mut gw, |report| {
                    print_report(report);
                    report.transactions.iter().any(|t| {
                        t.transaction_id == name
                            && matches!(
                                t.event,
                                TransactionEvent::Exposed { .. } | TransactionEvent::Error { .. }
                            )
                    })
                })
                .await?;
            if let Some(r) = gw.journal().get(&receipt.name)? {
                println!("final state of {}: {}", r.name, describe(&r.state));
            }
            gw.client().quit().await?;
            Ok(())
        }
        other => Err(format!("unknown command {other:?}").into()),
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("skat-gateway: {e}\n");
            }
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("skat-gateway: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("skat-gateway: {e}");
            ExitCode::FAILURE
        }
    }
}
