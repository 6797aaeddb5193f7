//! The client certificate and key (PKCS#12 or PEM) and the gateway username
//! derived from an OCES3 certificate.

use std::fmt;
use std::path::Path;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::error::{Error, Result};

/// A client certificate chain and its private key.
///
/// The gateway requires the OCES3 certificate it was registered with. Read it
/// from the PKCS#12 file (`.p12`/`.pfx`) that the issuer delivered, modern
/// (PBES2 with AES) or legacy (3DES/RC2) alike, or from PEM files.
pub struct ClientIdentity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl Clone for ClientIdentity {
    fn clone(&self) -> Self {
        Self { chain: self.chain.clone(), key: self.key.clone_key() }
    }
}

impl fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientIdentity")
            .field("chain_len", &self.chain.len())
            .field("key", &"<secret>")
            .finish()
    }
}

impl ClientIdentity {
    /// Reads a PKCS#12 file's contents with its passphrase. The first private
    /// key with its certificate chain is used.
    ///
    /// A wrong passphrase gives [`Error::Pkcs12Passphrase`].
    pub fn from_pkcs12(der: &[u8], passphrase: &str) -> Result<Self> {
        let store = p12_keystore::KeyStore::from_pkcs12(der, passphrase).map_err(|e| match e {
            p12_keystore::error::Error::MacError(_) => Error::Pkcs12Passphrase,
            // A wrong passphrase without a MAC shows up as bad padding.
            p12_keystore::error::Error::UnpadError => Error::Pkcs12Passphrase,
            other => Error::Identity(format!("PKCS#12: {other}")),
        })?;
        let (_alias, chain) = store.private_key_chain().ok_or_else(|| {
            Error::Identity("the PKCS#12 file holds no private key with a certificate".into())
        })?;
        let certs: Vec<CertificateDer<'static>> =
            chain.chain().iter().map(|c| CertificateDer::from(c.as_der().to_vec())).collect();
        if certs.is_empty() {
            return Err(Error::Identity(
                "the PKCS#12 file holds a key without a certificate".into(),
            ));
        }
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(chain.key().to_vec()));
        Ok(Self { chain: certs, key })
    }

    /// Reads a PKCS#12 file from disk.
    pub fn from_pkcs12_file(path: impl AsRef<Path>, passphrase: &str) -> Result<Self> {
        let path = path.as_ref();
        let der = std::fs::read(path)
            .map_err(|e| Error::Identity(format!("cannot read {}: {e}", path.display())))?;
        Self::from_pkcs12(&der, passphrase)
    }

    /// Reads a PEM certificate chain (leaf first) and a PEM private key
    /// (PKCS#8, PKCS#1 or SEC1).
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Self> {
        let chain = rustls_pemfile::certs(&mut &cert_pem[..])
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::Identity(format!("certificate PEM: {e}")))?;
        if chain.is_empty() {
            return Err(Error::Identity("no certificate in the PEM data".into()));
        }
        let key = rustls_pemfile::private_key(&mut &key_pem[..])
            .map_err(|e| Error::Identity(format!("key PEM: {e}")))?
            .ok_or_else(|| Error::Identity("no private key in the PEM data".into()))?;
        Ok(Self { chain, key })
    }

    /// Reads PEM files from disk (see [`ClientIdentity::from_pem`]).
    pub fn from_pem_files(cert: impl AsRef<Path>, key: impl AsRef<Path>) -> Result<Self> {
        let read = |p: &Path| {
            std::fs::read(p)
                .map_err(|e| Error::Identity(format!("cannot read {}: {e}", p.display())))
        };
        Self::from_pem(&read(cert.as_ref())?, &read(key.as_ref())?)
    }

    /// The leaf (client) certificate.
    pub fn certificate(&self) -> &CertificateDer<'static> {
        // `chain` is never empty: every constructor checks.
        #[allow(clippy::indexing_slicing)]
        &self.chain[0]
    }

    /// The certificate chain, leaf first.
    pub fn chain(&self) -> &[CertificateDer<'static>] {
        &self.chain
    }

    pub(crate) fn key(&self) -> PrivateKeyDer<'static> {
        self.key.clone_key()
    }

    /// The gateway username suggested by the certificate: see
    /// [`gateway_username`].
    pub fn gateway_username(&self) -> Result<String> {
        gateway_username(self.certificate())
    }
}

const OID_ORGANIZATION_IDENTIFIER: &str = "2.5.4.97";
const OID_SERIAL_NUMBER: &str = "2.5.4.5";

/// Derives the gateway username from a DER certificate's subject.
///
/// OCES3: the CVR number is in `organizationIdentifier` (`NTRDK-<8 digits>`)
/// and the UUID in `serialNumber` (`UI:DK-O:G:<uuid>` for organisations,
/// `UI:DK-E:G:<uuid>` for employees); the username is `CVR_<cvr>_UI_<uuid>`.
/// OCES2 subjects (`serialNumber` = `CVR:<cvr>-UID:<n>` or `-RID:<n>`) give
/// `CVR_<cvr>_UID_<n>` / `CVR_<cvr>_RID_<n>`.
///
/// This is the gateway's default; the username shown in the Certificate
/// Portal always wins, so configure it explicitly when they differ.
pub fn gateway_username(cert_der: &[u8]) -> Result<String> {
    let (_, cert) = X509Certificate::from_der(cert_der)
        .map_err(|e| Error::Username(format!("not an X.509 certificate: {e}")))?;
    let mut org_id = None;
    let mut serial = None;
    for attr in cert.subject().iter_attributes() {
        let oid = attr.attr_type().to_id_string();
        let value = attr.as_str().ok().map(str::to_owned);
        if oid == OID_ORGANIZATION_IDENTIFIER {
            org_id = value;
        } else if oid == OID_SERIAL_NUMBER {
            serial = value;
        }
    }
    let serial = serial.ok_or_else(|| {
        Error::Username("the subject has no serialNumber (not an OCES certificate)".into())
    })?;
    match org_id {
        Some(org) => oces3_username(&org, &serial),
        None => oces2_username(&serial),
    }
}

/// Builds the OCES3 gateway username `CVR_<cvr>_UI_<uuid>` from the subject's
/// `organizationIdentifier` and `serialNumber` values.
///
/// ```
/// let user = ftps_gateway::oces3_username(
///     "NTRDK-30808460",
///     "UI:DK-O:G:e7057bbd-5e7d-4200-ad81-623333d5c657",
/// )?;
/// assert_eq!(user, "CVR_30808460_UI_e7057bbd-5e7d-4200-ad81-623333d5c657");
///
/// // Not a Danish CVR organisation identifier:
/// assert!(ftps_gateway::oces3_username("NTRSE-5560000000", "UI:DK-O:G:x").is_err());
/// # Ok::<(), ftps_gateway::Error>(())
/// ```
pub fn oces3_username(organization_identifier: &str, serial_number: &str) -> Result<String> {
    let cvr = organization_identifier.trim().strip_prefix("NTRDK-").ok_or_else(|| {
        Error::Username(format!(
            "organizationIdentifier {organization_identifier:?} is not NTRDK-<CVR>"
        ))
    })?;
    if cvr.len() != 8 || !cvr.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::Username(format!("CVR {cvr:?} is not 8 digits")));
    }
    let serial = serial_number.trim();
    let uuid = serial
        .strip_prefix("UI:DK-")
        .and_then(|rest| rest.split_once(":G:"))
        .map(|(_, uuid)| uuid)
        .ok_or_else(|| {
            Error::Username(format!("serialNumber {serial_number:?} is not UI:DK-<O|E>:G:<uuid>"))
        })?;
    if !is_uuid(uuid) {
        return Err(Error::Username(format!("{uuid:?} is not a UUID")));
    }
    Ok(format!("CVR_{cvr}_UI_{}", uuid.to_ascii_lowercase()))
}

fn oces2_username(serial_number: &str) -> Result<String> {
    // "CVR:30808460-UID:25351738" or "CVR:30808460-RID:60134540"
    let err = || {
        Error::Username(format!(
            "serialNumber {serial_number:?} is neither OCES3 (no organizationIdentifier) nor OCES2 CVR:<cvr>-UID|RID:<n>"
        ))
    };
    let rest = serial_number.trim().strip_prefix("CVR:").ok_or_else(err)?;
    let (cvr, id) = rest.split_once('-').ok_or_else(err)?;
    let (kind, n) = id.split_once(':').ok_or_else(err)?;
    if cvr.len() != 8
        || !cvr.bytes().all(|b| b.is_ascii_digit())
        || !(kind == "UID" || kind == "RID")
        || n.is_empty()
        || !n.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(err());
    }
    Ok(format!("CVR_{cvr}_{kind}_{n}"))
}

fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    let lens = [8, 4, 4, 4, 12];
    groups.len() == lens.len()
        && groups
            .iter()
            .zip(lens)
            .all(|(g, l)| g.len() == l && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oces3_from_guide() {
        assert_eq!(
            oces3_username("NTRDK-30808460", "UI:DK-E:G:e7057bbd-5e7d-4200-ad81-623333d5c657")
                .ok()
                .as_deref(),
            Some("CVR_30808460_UI_e7057bbd-5e7d-4200-ad81-623333d5c657")
        );
    }

    #[test]
    fn oces3_rejects_bad_values() {
        assert!(oces3_username("NTRDK-3080846", "UI:DK-O:G:e7057bbd-5e7d-4200-ad81-623333d5c657")
            .is_err());
        assert!(oces3_username("NTRDK-30808460", "UI:DK-O:G:not-a-uuid").is_err());
        assert!(oces3_username("NTRDK-30808460", "PID:1234").is_err());
    }

    #[test]
    fn oces2_serials() {
        assert_eq!(
            oces2_username("CVR:30808460-UID:25351738").ok().as_deref(),
            Some("CVR_30808460_UID_25351738")
        );
        assert_eq!(
            oces2_username("CVR:19552101-RID:60134540").ok().as_deref(),
            Some("CVR_19552101_RID_60134540")
        );
        assert!(oces2_username("CVR:1955210-RID:60134540").is_err());
        assert!(oces2_username("CVR:19552101-XID:1").is_err());
    }
}
