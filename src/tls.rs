//! TLS client settings from the options: CA roots (a PEM file, or the
//! system's), host-name verification, and the testing-only `tls_insecure`.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::error::{Error, Result};
use crate::options::Options;

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The client configuration the options ask for.
pub(crate) fn client_config(options: &Options) -> Result<Arc<ClientConfig>> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(format!("TLS setup: {e}")))?;
    let config = if options.tls_insecure {
        builder.dangerous().with_custom_certificate_verifier(Arc::new(AcceptAnything)).with_no_client_auth()
    } else {
        builder.with_root_certificates(roots(options.tls_ca_file.as_deref())?).with_no_client_auth()
    };
    Ok(Arc::new(config))
}

fn roots(ca_file: Option<&str>) -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| Error::Tls(format!("cannot read tls_ca_file {path:?}: {e}")))?;
            for cert in certs {
                let cert = cert.map_err(|e| Error::Tls(format!("bad certificate in {path:?}: {e}")))?;
                roots.add(cert).map_err(|e| Error::Tls(format!("bad CA certificate in {path:?}: {e}")))?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            for cert in found.certs {
                let _ = roots.add(cert); // skip the odd certificate the system keeps
            }
        }
    }
    if roots.is_empty() {
        return Err(Error::Tls("no CA certificates to verify the server with (set tls_ca_file)".into()));
    }
    Ok(roots)
}

/// The name the server's certificate must carry.
pub(crate) fn server_name(name: &str) -> Result<ServerName<'static>> {
    ServerName::try_from(name.trim_matches(['[', ']']).to_string())
        .map_err(|e| Error::Tls(format!("bad TLS server name {name:?}: {e}")))
}

/// `tls_insecure=1`: accepts any certificate. For tests against
/// self-signed servers only: it gives up protection against impostors.
#[derive(Debug)]
struct AcceptAnything;

impl ServerCertVerifier for AcceptAnything {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        provider().signature_verification_algorithms.supported_schemes()
    }
}
