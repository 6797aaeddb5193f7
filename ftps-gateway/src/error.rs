//! Errors, with the FTP reply attached where the server gave one.

use std::fmt;
use std::io;
use std::time::Duration;

/// A reply from the FTP server: the three-digit code and the text (all lines
/// of a multi-line reply, joined with `\n`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The reply code, e.g. `226`.
    pub code: u16,
    /// The reply text without the code.
    pub text: String,
}

impl Reply {
    /// 1xx: positive preliminary reply (e.g. `150` before a transfer).
    pub fn is_preliminary(&self) -> bool {
        (100..200).contains(&self.code)
    }

    /// 2xx: positive completion.
    pub fn is_completion(&self) -> bool {
        (200..300).contains(&self.code)
    }

    /// 3xx: positive intermediate (e.g. `331` asking for the password).
    pub fn is_intermediate(&self) -> bool {
        (300..400).contains(&self.code)
    }

    /// 4xx or 5xx: the command failed.
    pub fn is_failure(&self) -> bool {
        self.code >= 400
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code, self.text)
    }
}

/// What went wrong. Every variant says in words what happened; where the FTP
/// server replied, the [`Reply`] is attached (see [`Error::reply`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration cannot work (e.g. an empty host name, no TLS version).
    #[error("invalid configuration: {0}")]
    Config(String),

    /// The client certificate or key could not be read.
    #[error("cannot read the client identity: {0}")]
    Identity(String),

    /// The PKCS#12 file's integrity check failed: almost always a wrong passphrase.
    #[error("wrong PKCS#12 passphrase (or a damaged file): the file's MAC does not verify")]
    Pkcs12Passphrase,

    /// The certificate has no OCES3 (or OCES2) identity from which a gateway
    /// username can be derived.
    #[error("cannot derive a gateway username from the certificate: {0}")]
    Username(String),

    /// The TCP connection could not be made.
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        /// The address tried.
        addr: String,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },

    /// A step did not finish in time.
    #[error("timed out after {after:?} while {step}")]
    Timeout {
        /// What the client was doing.
        step: String,
        /// The timeout that expired.
        after: Duration,
    },

    /// The server rejected the client certificate (or the lack of one) during
    /// the TLS handshake.
    #[error("client certificate rejected by the server ({detail})")]
    ClientCertificateRejected {
        /// The TLS alert or error seen.
        detail: String,
    },

    /// The server's certificate did not verify against the configured roots.
    #[error("server certificate not trusted: {detail}")]
    ServerCertificate {
        /// rustls' reason.
        detail: String,
    },

    /// The server offers no TLS version in the configured range (e.g. a server
    /// that speaks only TLS 1.1 while the client requires 1.2).
    #[error("the server does not support the configured TLS versions ({allowed}): {detail}")]
    TlsVersion {
        /// The versions the client allows.
        allowed: String,
        /// rustls' reason.
        detail: String,
    },

    /// Any other TLS failure.
    #[error("TLS error while {step}: {detail}")]
    Tls {
        /// What the client was doing.
        step: String,
        /// rustls' reason.
        detail: String,
    },

    /// The server refused a data connection that did not resume the control
    /// connection's TLS session.
    #[error("server refused data connection without TLS session reuse{}", reply_suffix(.reply))]
    DataConnectionWithoutReuse {
        /// The server's reply on the control connection, if it sent one.
        reply: Option<Reply>,
    },

    /// The server refused or broke the data connection for another reason.
    #[error("server refused the data connection: {detail}{}", reply_suffix(.reply))]
    DataConnectionRefused {
        /// What failed.
        detail: String,
        /// The server's reply, if any.
        reply: Option<Reply>,
    },

    /// `USER`/`PASS` was rejected (wrong username or password, or the
    /// certificate is not registered for this user).
    #[error("login rejected: {reply}")]
    LoginRejected {
        /// The server's reply (usually 530).
        reply: Reply,
    },

    /// The server answered a command with an unexpected reply.
    #[error("{command} failed: {reply}")]
    Command {
        /// The command (without arguments that could be secret).
        command: String,
        /// The server's reply.
        reply: Reply,
    },

    /// The server closed the control connection.
    #[error("the server closed the control connection")]
    ConnectionClosed,

    /// A reply that is not FTP.
    #[error("malformed reply from the server: {0}")]
    Protocol(String),

    /// An I/O error.
    #[error("I/O error while {step}: {source}")]
    Io {
        /// What the client was doing.
        step: String,
        /// The error.
        #[source]
        source: io::Error,
    },

    /// An upload failed after the `STOR` command was sent: the gateway may or
    /// may not have received the file. The journal marks it "outcome unknown".
    #[error("upload of {name:?} interrupted after {bytes_sent} bytes: outcome unknown, the file is not sent again without your decision ({source})")]
    UploadOutcomeUnknown {
        /// The file name.
        name: String,
        /// Bytes written to the data connection before the failure.
        bytes_sent: u64,
        /// What failed.
        #[source]
        source: Box<Error>,
    },

    /// The name was already used by this client: the gateway rejects reused
    /// names (`FILENAME_CANNOT_BE_REUSED_FOR_TRANSACTION`). Nothing was sent.
    #[error("file name {name:?} was already used by this client ({state}); the gateway rejects reused names, nothing was sent")]
    NameAlreadyUsed {
        /// The name.
        name: String,
        /// The journal state of the earlier upload.
        state: String,
    },

    /// The same content is recorded as an upload whose outcome is unknown: the
    /// gateway asks not to send it again under a new name. Nothing was sent.
    #[error("the same content was uploaded as {earlier:?} and its outcome is unknown; ask SKAT and resolve it in the journal before sending it again (nothing was sent)")]
    ContentOutcomeUnknown {
        /// The earlier upload's name.
        earlier: String,
    },

    /// A file name or service folder name that the gateway cannot take.
    #[error("invalid name {name:?}: {reason}")]
    InvalidName {
        /// The name.
        name: String,
        /// Why it is invalid.
        reason: &'static str,
    },

    /// The journal could not be read or written.
    #[error("journal error: {0}")]
    Journal(String),

    /// The poller was asked to list `/out` sooner than its interval allows.
    #[error("polling /out again now would break the gateway's once-a-minute rule; wait {wait:?}")]
    PollTooSoon {
        /// How long to wait.
        wait: Duration,
    },

    /// A poll interval shorter than the gateway allows.
    #[error("poll interval {0:?} is shorter than the gateway's minimum of one minute")]
    PollIntervalTooShort(Duration),

    /// A status file from `/out` could not be read.
    #[error("status file {name:?}: {detail}")]
    StatusFile {
        /// The file name.
        name: String,
        /// What is wrong.
        detail: String,
    },

    /// A download was larger than the limit given.
    #[error("{name:?} is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The remote path.
        name: String,
        /// The limit.
        limit: u64,
    },
}

fn reply_suffix(reply: &Option<Reply>) -> String {
    match reply {
        Some(r) => format!(" (server said: {r})"),
        None => String::new(),
    }
}

impl Error {
    /// The FTP reply attached to this error, if the server sent one.
    pub fn reply(&self) -> Option<&Reply> {
        match self {
            Error::LoginRejected { reply } | Error::Command { reply, .. } => Some(reply),
            Error::DataConnectionWithoutReuse { reply }
            | Error::DataConnectionRefused { reply, .. } => reply.as_ref(),
            Error::UploadOutcomeUnknown { source, .. } => source.reply(),
            _ => None,
        }
    }

    /// The FTP reply code attached to this error, if any.
    pub fn reply_code(&self) -> Option<u16> {
        self.reply().map(|r| r.code)
    }

    /// Whether the control connection is unusable after this error (the
    /// client reconnects before the next command).
    pub(crate) fn breaks_connection(&self) -> bool {
        matches!(
            self,
            Error::Io { .. }
                | Error::Timeout { .. }
                | Error::ConnectionClosed
                | Error::Protocol(_)
                | Error::Tls { .. }
                | Error::UploadOutcomeUnknown { .. }
        ) || self.reply_code() == Some(421)
    }

    pub(crate) fn io(step: impl Into<String>, source: io::Error) -> Self {
        Error::Io { step: step.into(), source }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
