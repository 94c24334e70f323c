//! TLS client settings from the options: CA roots (a PEM file, or the
//! system's), a self-signed certificate trusted by being listed, a pinned
//! certificate, host-name verification, and the testing-only `tls_insecure`.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{WebPkiServerVerifier, verify_server_name};
use rustls::server::ParsedCertificate;
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
    let verifier = Arc::new(Verifier::new(options)?);
    Ok(Arc::new(builder.dangerous().with_custom_certificate_verifier(verifier).with_no_client_auth()))
}

/// The certificates of `tls_ca_file`, or None for the system's roots.
fn listed_certificates(ca_file: Option<&str>) -> Result<Option<Vec<CertificateDer<'static>>>> {
    let Some(path) = ca_file else { return Ok(None) };
    let certs = CertificateDer::pem_file_iter(path).map_err(|e| Error::Tls(format!("cannot read tls_ca_file {path:?}: {e}")))?;
    let certs = certs
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::Tls(format!("bad certificate in {path:?}: {e}")))?;
    Ok(Some(certs))
}

fn roots(listed: Option<&[CertificateDer<'static>]>, path: Option<&str>) -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    match listed {
        Some(certs) => {
            for cert in certs {
                roots.add(cert.clone()).map_err(|e| Error::Tls(format!("bad CA certificate in {path:?}: {e}")))?;
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

/// The SHA-256 of `tls_pin_sha256`: 64 hex digits, colons allowed (as
/// `openssl x509 -noout -fingerprint -sha256` prints it); None if malformed.
pub(crate) fn parse_pin(text: &str) -> Option<[u8; 32]> {
    // openssl prints `sha256 Fingerprint=AB:CD:...`: the line as it is will do.
    let text = text.trim();
    let text = text.split_once('=').map_or(text, |(_, v)| v);
    let digits: Vec<u8> = text.bytes().filter(|&b| b != b':').collect();
    if digits.len() != 64 {
        return None;
    }
    let mut pin = [0u8; 32];
    for (i, pair) in digits.chunks(2).enumerate() {
        pin[i] = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(pin)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

/// What the server's certificate is checked against.
#[derive(Debug)]
enum Trust {
    /// `tls_insecure=1`: any certificate. For tests against self-signed
    /// servers only: it gives up protection against impostors.
    Anything,
    /// `tls_pin_sha256`: that certificate only, whatever its issuer.
    Pin([u8; 32]),
    /// CA roots (`tls_ca_file` or the system's). A certificate listed in
    /// `tls_ca_file` that the server presents itself is trusted too (a
    /// self-signed one, often marked `CA:TRUE` and so refused as an end
    /// entity by WebPKI rules), as OpenSSL and Go trust it; the host name is
    /// checked either way.
    Roots { webpki: Arc<WebPkiServerVerifier>, listed: Vec<CertificateDer<'static>> },
}

/// Verifies the server's certificate as `trust` says, and the handshake's
/// signatures always (the server holds the key of what it presented).
#[derive(Debug)]
struct Verifier {
    trust: Trust,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl Verifier {
    fn new(options: &Options) -> Result<Verifier> {
        let provider = provider();
        let trust = if options.tls_insecure {
            Trust::Anything
        } else if let Some(p) = options.tls_pin_sha256.as_deref() {
            Trust::Pin(parse_pin(p).ok_or_else(|| Error::Tls(format!("bad tls_pin_sha256 {p:?}")))?)
        } else {
            let path = options.tls_ca_file.as_deref();
            let listed = listed_certificates(path)?;
            let roots = roots(listed.as_deref(), path)?;
            let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
                .build()
                .map_err(|e| Error::Tls(format!("TLS setup: {e}")))?;
            Trust::Roots { webpki, listed: listed.unwrap_or_default() }
        };
        Ok(Verifier { trust, provider })
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        match &self.trust {
            Trust::Anything => Ok(ServerCertVerified::assertion()),
            Trust::Pin(pin) => {
                let got = ring::digest::digest(&ring::digest::SHA256, end_entity.as_ref());
                if got.as_ref() == pin {
                    Ok(ServerCertVerified::assertion())
                } else {
                    Err(rustls::Error::General(format!(
                        "the server's certificate (SHA-256 {}) is not the one of tls_pin_sha256",
                        hex(got.as_ref())
                    )))
                }
            }
            Trust::Roots { webpki, listed } => match webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
                Err(_) if listed.iter().any(|c| c.as_ref() == end_entity.as_ref()) => {
                    let parsed = ParsedCertificate::try_from(end_entity)?;
                    verify_server_name(&parsed, server_name)?;
                    Ok(ServerCertVerified::assertion())
                }
                result => result,
            },
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// The name the server's certificate must carry.
pub(crate) fn server_name(name: &str) -> Result<ServerName<'static>> {
    ServerName::try_from(name.trim_matches(['[', ']']).to_string())
        .map_err(|e| Error::Tls(format!("bad TLS server name {name:?}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::parse_pin;

    #[test]
    fn pins_as_openssl_prints_them() {
        let hex = "AB".repeat(32);
        let colons = vec!["ab"; 32].join(":");
        assert_eq!(parse_pin(&hex), Some([0xAB; 32]));
        assert_eq!(parse_pin(&colons), Some([0xAB; 32]));
        assert_eq!(parse_pin(&format!("sha256 Fingerprint={colons}\n")), Some([0xAB; 32]));
        assert_eq!(parse_pin("AB:CD"), None);
        assert_eq!(parse_pin(&"zz".repeat(32)), None);
    }
}
