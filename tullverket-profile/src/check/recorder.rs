//! A TLS client configuration that notes the chain the server presents before verifying
//! it, so that a check can show the chain also when verification fails (as `openssl
//! s_client -showcerts` does). Verification itself is rustls' own (webpki) against the
//! profile's trust anchors: nothing is accepted that the session would refuse.

use std::sync::{Arc, Mutex, PoisonError};

use oftp2_session::transport::tls::{TlsConfigError, TrustAnchors, PROTOCOL_VERSIONS};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};

use super::chain::CertificateInfo;

/// The chain the server presented, once the handshake got that far.
#[derive(Debug, Clone, Default)]
pub(crate) struct PresentedChain(Arc<Mutex<Vec<CertificateInfo>>>);

impl PresentedChain {
    /// The certificates, the server's own first; empty if none arrived.
    pub(crate) fn get(&self) -> Vec<CertificateInfo> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn set(&self, chain: Vec<CertificateInfo>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = chain;
    }
}

#[derive(Debug)]
struct Recording {
    inner: Arc<WebPkiServerVerifier>,
    presented: PresentedChain,
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let chain = std::iter::once(end_entity).chain(intermediates).map(CertificateInfo::from_der);
        self.presented.set(chain.collect());
        self.inner.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// A client configuration verifying the server against `anchors` (TLS 1.2 and 1.3, the
/// aws-lc-rs provider, no client certificate: Customs asks for none), and the chain it
/// notes.
pub(crate) fn recording_client_config(
    anchors: &TrustAnchors,
) -> Result<(Arc<ClientConfig>, PresentedChain), TlsConfigError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let inner = WebPkiServerVerifier::builder_with_provider(
        Arc::clone(anchors.root_store()),
        Arc::clone(&provider),
    )
    .build()
    .map_err(|error| TlsConfigError::Rustls(rustls::Error::General(error.to_string())))?;
    let presented = PresentedChain::default();
    let verifier = Arc::new(Recording { inner, presented: presented.clone() });
    let config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(PROTOCOL_VERSIONS)?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok((Arc::new(config), presented))
}
