//! [`CertificateInfo`]: what `openssl s_client -showcerts` shows of each certificate the
//! server presented (subject, issuer, validity), read with x509-parser.

use std::fmt;

use rustls::pki_types::CertificateDer;
use x509_parser::extensions::GeneralName;
use x509_parser::time::ASN1Time;

/// One certificate of the chain the server presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    /// The subject's distinguished name (`CN=tmf01.tullverket.se, O=...`).
    pub subject: String,
    /// The issuer's distinguished name.
    pub issuer: String,
    /// The DNS names and IP addresses of the subject alternative name extension.
    pub names: Vec<String>,
    /// Start of validity, as text (RFC 2822).
    pub not_before: String,
    /// End of validity, as text (RFC 2822).
    pub not_after: String,
    /// Start of validity, seconds since the Unix epoch.
    pub not_before_unix: i64,
    /// End of validity, seconds since the Unix epoch.
    pub not_after_unix: i64,
    /// Why the certificate could not be read, if it could not (the other fields are
    /// then empty).
    pub unreadable: Option<String>,
}

impl CertificateInfo {
    /// Reads a DER certificate; an unreadable one is returned with
    /// [`unreadable`](Self::unreadable) set rather than as an error, since a check must
    /// still show the rest of the chain.
    pub fn from_der(der: &CertificateDer<'_>) -> Self {
        match x509_parser::parse_x509_certificate(der.as_ref()) {
            Ok((_, certificate)) => {
                let validity = certificate.validity();
                let names = certificate
                    .subject_alternative_name()
                    .ok()
                    .flatten()
                    .map(|extension| {
                        extension.value.general_names.iter().filter_map(general_name).collect()
                    })
                    .unwrap_or_default();
                CertificateInfo {
                    subject: certificate.subject().to_string(),
                    issuer: certificate.issuer().to_string(),
                    names,
                    not_before: time_text(validity.not_before),
                    not_after: time_text(validity.not_after),
                    not_before_unix: validity.not_before.timestamp(),
                    not_after_unix: validity.not_after.timestamp(),
                    unreadable: None,
                }
            }
            Err(error) => CertificateInfo {
                subject: String::new(),
                issuer: String::new(),
                names: Vec::new(),
                not_before: String::new(),
                not_after: String::new(),
                not_before_unix: 0,
                not_after_unix: 0,
                unreadable: Some(error.to_string()),
            },
        }
    }

    /// Whether the certificate is valid at `unix` seconds since the epoch.
    pub fn valid_at(&self, unix: i64) -> bool {
        self.unreadable.is_none() && self.not_before_unix <= unix && unix <= self.not_after_unix
    }

    /// Whether the subject is the issuer (a self-signed root).
    pub fn is_self_issued(&self) -> bool {
        self.unreadable.is_none() && self.subject == self.issuer
    }
}

fn general_name(name: &GeneralName<'_>) -> Option<String> {
    match name {
        GeneralName::DNSName(dns) => Some((*dns).to_owned()),
        GeneralName::IPAddress(octets) => match octets.len() {
            4 => {
                <[u8; 4]>::try_from(*octets).ok().map(|ip| std::net::Ipv4Addr::from(ip).to_string())
            }
            16 => <[u8; 16]>::try_from(*octets)
                .ok()
                .map(|ip| std::net::Ipv6Addr::from(ip).to_string()),
            _ => None,
        },
        _ => None,
    }
}

fn time_text(time: ASN1Time) -> String {
    time.to_rfc2822().unwrap_or_else(|_| format!("{} (Unix time)", time.timestamp()))
}

/// The certificate in the layout of `openssl s_client -showcerts`: `s:` subject, `i:`
/// issuer, `v:` validity, then the names it is valid for.
impl fmt::Display for CertificateInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(why) = &self.unreadable {
            return write!(f, "   (unreadable certificate: {why})");
        }
        writeln!(f, "   s:{}", self.subject)?;
        writeln!(f, "   i:{}", self.issuer)?;
        write!(f, "   v:NotBefore: {}; NotAfter: {}", self.not_before, self.not_after)?;
        if !self.names.is_empty() {
            write!(f, "\n   names: {}", self.names.join(", "))?;
        }
        Ok(())
    }
}

/// A chain in the layout of `openssl s_client -showcerts` ("Certificate chain", each
/// certificate numbered from the server's own, 0).
#[derive(Debug, Clone, Copy)]
pub struct ShowChain<'a>(pub &'a [CertificateInfo]);

impl fmt::Display for ShowChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return write!(f, "no certificate chain was presented");
        }
        write!(f, "Certificate chain")?;
        for (depth, certificate) in self.0.iter().enumerate() {
            write!(f, "\n {depth}\n{certificate}")?;
        }
        Ok(())
    }
}
