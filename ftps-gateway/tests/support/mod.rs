//! Shared test helpers.
#![allow(dead_code, clippy::unwrap_used, clippy::indexing_slicing, unreachable_pub)]

pub mod pki;
pub mod real;
pub mod server;

use std::net::SocketAddr;
use std::time::Duration;

use ftps_gateway::{ClientConfig, ClientIdentity, Timeouts};

pub use pki::Pki;

/// Short timeouts so that a broken test fails fast.
pub fn test_timeouts() -> Timeouts {
    Timeouts {
        connect: Duration::from_secs(5),
        tls_handshake: Duration::from_secs(5),
        reply: Duration::from_secs(10),
        data_idle: Duration::from_secs(10),
        transfer_complete: Duration::from_secs(20),
    }
}

/// A configuration for a test server on 127.0.0.1 with the test CA as root.
pub fn config(pki: &Pki, addr: SocketAddr, user: &str, pass: &str) -> ClientConfig {
    ClientConfig::new("127.0.0.1", addr.port(), user, pass)
        .with_root_pem(&pki.ca_pem())
        .unwrap()
        .with_timeouts(test_timeouts())
}

pub fn identity(pki: &Pki) -> ClientIdentity {
    ClientIdentity::from_pem_files(&pki.client.cert, &pki.client.key).unwrap()
}

/// The in-process server's credentials with the valid client certificate.
pub fn good_config(pki: &Pki, addr: SocketAddr) -> ClientConfig {
    config(pki, addr, server::USER, server::PASS).with_identity(identity(pki))
}

pub fn journal_path(dir: &tempfile::TempDir) -> std::path::PathBuf {
    dir.path().join("journal.redb")
}
