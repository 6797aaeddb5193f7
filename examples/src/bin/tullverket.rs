//! `tullverket`: exchange files with Swedish Customs over OFTP2, and check the link.
//!
//! ```text
//! tullverket check                 TLS + certificate chain + "ODETTE FTP READY", then a
//!                                  session start and normal end without files
//! tullverket send FILE [--name N]  send FILE to Customs (format U), take what waits
//! tullverket receive [--print]     take the files Customs has waiting (F/80)
//! ```
//!
//! Settings come from flags or the environment: `--company` / `TULLVERKET_COMPANY`,
//! `--password` / `TULLVERKET_PASSWORD`, `--root` / `TULLVERKET_ROOT` and
//! `--intermediate` / `TULLVERKET_INTERMEDIATE` (GlobalSign's certificates), `--store` /
//! `TULLVERKET_STORE`; `--host` / `--port` point it at another responder for testing.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use oftp2_session::driver::{Direction, OutgoingOutcome, Progress, ReceivedReceipt, SessionReport};
use oftp2_session::store::{FsStore, OutgoingSource};
use tullverket_profile::check::{check_connection, check_session, CheckError, ShowChain};
use tullverket_profile::records::{record_to_line, Records};
use tullverket_profile::{params, queue_to_customs, CompanyCode, Profile};

const USAGE: &str = "\
usage: tullverket <command> [options]

commands:
  check              connect with TLS, show Customs' certificate chain, wait for
                     \"ODETTE FTP READY\"; then start a session and end it normally
  send FILE          send FILE to Customs as format U (--name DATASET, default the file
                     name in capitals), receive what Customs has waiting
  receive            receive the files Customs has waiting (format F, 80-octet records);
                     --print shows them as lines

options (each also from the environment variable shown):
  --company CODE          your OFTP code, O09420000 + organisation number + suffix  TULLVERKET_COMPANY
  --password PW           your OFTP password                                       TULLVERKET_PASSWORD
  --customs-password PW   the password Customs sends, if not the same              TULLVERKET_CUSTOMS_PASSWORD
  --root FILE             GlobalSign Root CA (Root-R1.crt)                         TULLVERKET_ROOT
  --intermediate FILE     GlobalSign Organization Validation CA - SHA256 - G2      TULLVERKET_INTERMEDIATE
  --store DIR             where files and receipts are kept (default ./tullverket-store)  TULLVERKET_STORE
  --host HOST --port N    another responder, for testing (default tmf01.tullverket.se 6619)
  --server-name NAME      the name its certificate must carry (default tmf01.tullverket.se)
  --wait SECONDS          how long to wait for Customs at each step (default 30)

GlobalSign's certificates:
  https://secure.globalsign.net/cacert/Root-R1.crt
  https://secure.globalsign.com/cacert/gsoorganizationvalsha2g2r1.crt
";

#[derive(Default)]
struct Args {
    command: String,
    file: Option<PathBuf>,
    name: Option<String>,
    print: bool,
    company: Option<String>,
    password: Option<String>,
    customs_password: Option<String>,
    root: Option<PathBuf>,
    intermediate: Option<PathBuf>,
    store: Option<PathBuf>,
    host: Option<String>,
    port: Option<u16>,
    server_name: Option<String>,
    wait: Option<u64>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args::default();
    let mut iter = std::env::args().skip(1);
    let mut positional = Vec::new();
    while let Some(arg) = iter.next() {
        let mut value = |flag: &str| iter.next().ok_or(format!("{flag} needs a value"));
        match arg.as_str() {
            "--company" => args.company = Some(value(&arg)?),
            "--password" => args.password = Some(value(&arg)?),
            "--customs-password" => args.customs_password = Some(value(&arg)?),
            "--root" => args.root = Some(value(&arg)?.into()),
            "--intermediate" => args.intermediate = Some(value(&arg)?.into()),
            "--store" => args.store = Some(value(&arg)?.into()),
            "--host" => args.host = Some(value(&arg)?),
            "--port" => {
                args.port = Some(value(&arg)?.parse().map_err(|_| "--port needs a number")?)
            }
            "--server-name" => args.server_name = Some(value(&arg)?),
            "--wait" => args.wait = Some(value(&arg)?.parse().map_err(|_| "--wait needs seconds")?),
            "--name" => args.name = Some(value(&arg)?),
            "--print" => args.print = true,
            "-h" | "--help" => return Err(String::new()),
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            _ => positional.push(arg),
        }
    }
    let mut positional = positional.into_iter();
    args.command = positional.next().ok_or("a command is needed")?;
    if args.command == "send" {
        args.file = Some(positional.next().ok_or("send needs the FILE to send")?.into());
    }
    if let Some(extra) = positional.next() {
        return Err(format!("unexpected argument {extra:?}"));
    }
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    args.company = args.company.or_else(|| env("TULLVERKET_COMPANY"));
    args.password = args.password.or_else(|| env("TULLVERKET_PASSWORD"));
    args.customs_password = args.customs_password.or_else(|| env("TULLVERKET_CUSTOMS_PASSWORD"));
    args.root = args.root.or_else(|| env("TULLVERKET_ROOT").map(PathBuf::from));
    args.intermediate =
        args.intermediate.or_else(|| env("TULLVERKET_INTERMEDIATE").map(PathBuf::from));
    args.store = args.store.or_else(|| env("TULLVERKET_STORE").map(PathBuf::from));
    Ok(args)
}

fn profile(args: &Args) -> Result<Profile, String> {
    let company: CompanyCode = args
        .company
        .as_deref()
        .ok_or("your OFTP code is needed: --company or TULLVERKET_COMPANY")?
        .parse()
        .map_err(|error| format!("{error}"))?;
    let password = args
        .password
        .as_deref()
        .ok_or("your OFTP password is needed: --password or TULLVERKET_PASSWORD")?
        .parse()
        .map_err(|error| format!("the password: {error}"))?;
    let mut builder = Profile::builder(company).password(password);
    if let Some(theirs) = &args.customs_password {
        builder = builder
            .customs_password(theirs.parse().map_err(|e| format!("Customs' password: {e}"))?);
    }
    for file in [&args.root, &args.intermediate].into_iter().flatten() {
        builder = builder.trust_anchor(file);
    }
    if args.host.is_some() || args.port.is_some() {
        let host = args.host.as_deref().unwrap_or(params::HOST);
        builder = builder.address(format!("{host}:{}", args.port.unwrap_or(params::PORT)));
    }
    if let Some(name) = &args.server_name {
        builder = builder.server_name(name);
    }
    let wait = Duration::from_secs(args.wait.unwrap_or(30));
    builder.connect_timeout(wait).build().map_err(|error| error.to_string())
}

fn store(args: &Args, profile: &Profile) -> Result<Arc<FsStore>, String> {
    let dir = args.store.clone().unwrap_or_else(|| PathBuf::from("tullverket-store"));
    FsStore::open(&dir, profile.company().odette_id())
        .map(Arc::new)
        .map_err(|error| format!("cannot open the store in {}: {error}", dir.display()))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(error) => {
            if !error.is_empty() {
                eprintln!("tullverket: {error}\n");
            }
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = match profile(&args) {
        Err(error) => Err(error),
        Ok(profile) => match args.command.as_str() {
            "check" => check(&args, &profile).await,
            "send" | "receive" => exchange(&args, &profile).await,
            other => Err(format!("unknown command {other:?}\n\n{USAGE}")),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("tullverket: {error}");
            ExitCode::FAILURE
        }
    }
}

fn explain(error: &CheckError) -> String {
    let chain = error.chain();
    let shown = if chain.is_empty() { String::new() } else { format!("{}\n", ShowChain(chain)) };
    format!("{shown}{} failure: {error}\n\nWhat to do: {}", error.stage(), error.advice())
}

async fn check(args: &Args, profile: &Profile) -> Result<(), String> {
    let wait = Duration::from_secs(args.wait.unwrap_or(30));
    println!("connecting to {} (certificate name {})", profile.address(), profile.server_name());
    let report = check_connection(profile, wait).await.map_err(|error| explain(&error))?;
    println!("{}", ShowChain(&report.chain));
    println!(
        "{}: ODETTE FTP READY after {:.1} s",
        report.tls_version,
        report.ssrm_after.as_secs_f64()
    );

    println!("\nsession start and normal end, without files ...");
    let store = store(args, profile)?;
    let session = check_session(profile, &*store, wait).await.map_err(|error| explain(&error))?;
    let n = session.negotiated;
    println!(
        "normal session termination: OFTP {}, buffer {}, window {}, restart {}",
        n.level, n.buffer_size, n.credit, n.restart
    );
    for receipt in &session.receipts {
        println!("receipt received: {} for {}", receipt.receipt.name(), settled(receipt));
    }
    Ok(())
}

async fn exchange(args: &Args, profile: &Profile) -> Result<(), String> {
    let store = store(args, profile)?;
    if let Some(file) = &args.file {
        let name = match &args.name {
            Some(name) => name.clone(),
            None => file
                .file_name()
                .map(|n| n.to_string_lossy().to_uppercase())
                .ok_or("the file has no name: give --name")?,
        };
        let dataset = name.parse().map_err(|error| format!("dataset name {name:?}: {error}"))?;
        let id = queue_to_customs(&*store, dataset, OutgoingSource::Path(file.clone()))
            .map_err(|error| format!("cannot queue {}: {error}", file.display()))?;
        println!("queued {} as {name} (format U) for Customs: {id}", file.display());
    }
    let node = profile.node(store);
    let report =
        node.connect(&profile.customs(), Some(Box::new(show_progress))).await.map_err(|error| {
            format!("{error}\n(run `tullverket check` for a diagnosis of the connection)")
        })?;
    eprintln!();
    summarise(&report, args.print)
}

/// The outbox entry a receipt settles, in words.
fn settled(receipt: &ReceivedReceipt) -> String {
    receipt.file.map_or_else(|| "a file this store does not know".to_owned(), |id| id.to_string())
}

fn show_progress(progress: &Progress) {
    let arrow = match progress.direction {
        Direction::Outbound => "to Customs  ",
        Direction::Inbound => "from Customs",
    };
    let percent = (progress.octets * 100).checked_div(progress.total_estimate).unwrap_or(100);
    eprint!(
        "\r{arrow} {:<26} {:>12} octets {:>3}%",
        progress.dataset_name.as_str(),
        progress.octets,
        percent.min(100)
    );
    let _ = std::io::stderr().flush();
}

fn summarise(report: &SessionReport, print: bool) -> Result<(), String> {
    for outcome in &report.sent {
        match outcome {
            OutgoingOutcome::Sent { id, counts } => {
                println!("sent {id}: {} octets", counts.octets);
            }
            OutgoingOutcome::Refused { id, why } => println!("refused {id}: {why}"),
        }
    }
    for receipt in &report.receipts {
        println!("receipt {} for {}", receipt.receipt.name(), settled(receipt));
    }
    for file in &report.received {
        let name = file.sfid.dataset_name.as_str();
        match Records::open(file) {
            Err(error) => println!("received {name} -> {}: {error}", file.path.display()),
            Ok(records) => {
                let mut count = 0u64;
                for record in records {
                    let record = record.map_err(|error| format!("{name}: {error}"))?;
                    if print {
                        println!("{}", String::from_utf8_lossy(record_to_line(&record)));
                    }
                    count += 1;
                }
                println!("received {name} -> {}: {count} records of 80", file.path.display());
            }
        }
    }
    if report.end.is_normal() {
        println!("normal session termination");
        Ok(())
    } else {
        Err(format!("the session ended abnormally: {:?}", report.end))
    }
}
