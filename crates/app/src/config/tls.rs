//! The certificates of the configuration: TLS terminated by `maillage serve` itself (`[server]`), and the
//! mutual TLS of the appointments sent back to the SAS (`[sas]`). PEM files, read and checked when the
//! configuration loads so that a wrong path or key stops the start with its name, not the first request.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct SasConfig {
    /// Base of the SAS platform's FHIR API the appointments booked from the SAS are sent to
    /// (`[base]/Appointment`); empty: none is sent.
    pub appointment_url: String,
    /// Maillage's IGC-Santé client certificate (PEM, with its chain) and its private key (PEM).
    pub client_certificate: String,
    pub client_key: String,
    /// Certificates (PEM) the SAS platform's must chain to; empty: the public web roots.
    pub server_ca: String,
    /// System of the appointments' identifier: the editor's OID (`urn:oid:…`) or a URL of its own; empty:
    /// `<server.public_url>/fhir/rendez-vous`.
    pub identifier_system: String,
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The certificates of a PEM file (at least one), or what is wrong, naming the setting.
pub fn certificates(setting: &str, path: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let found: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("{setting}: cannot read {path}: {e}"))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{setting}: {path} is not PEM certificates: {e}"))?;
    if found.is_empty() {
        return Err(format!("{setting}: {path} holds no certificate"));
    }
    Ok(found)
}

/// The private key of a PEM file, or what is wrong, naming the setting.
pub fn private_key(setting: &str, path: &str) -> Result<PrivateKeyDer<'static>, String> {
    PrivateKeyDer::from_pem_file(path)
        .map_err(|e| format!("{setting}: cannot read a key in {path}: {e}"))
}

fn roots(setting: &str, path: &str) -> Result<rustls::RootCertStore, String> {
    let mut roots = rustls::RootCertStore::empty();
    for certificate in certificates(setting, path)? {
        roots
            .add(certificate)
            .map_err(|e| format!("{setting}: {path}: {e}"))?;
    }
    Ok(roots)
}

impl SasConfig {
    /// Whether appointments go back to the SAS.
    pub fn sends_appointments(&self) -> bool {
        !self.appointment_url.trim().is_empty()
    }

    /// The checks of the configuration: an https:// address, a certificate with its key, readable files.
    pub fn check(&self) -> Result<(), String> {
        if !self.sends_appointments() {
            return Ok(());
        }
        match url::Url::parse(self.appointment_url.trim()) {
            Ok(url) if url.scheme() == "https" && url.host_str().is_some() => {}
            _ => {
                return Err(format!(
                    "sas.appointment_url must be an https:// address (got {})",
                    self.appointment_url
                ))
            }
        }
        if self.client_certificate.is_empty() != self.client_key.is_empty() {
            return Err("sas.client_certificate and sas.client_key go together".into());
        }
        self.client_tls().map(|_| ())
    }

    /// The TLS client of the SAS platform: its roots (or the public ones) and, when configured, Maillage's
    /// client certificate (mutual TLS, as the guide's security page requires).
    pub fn client_tls(&self) -> Result<Arc<rustls::ClientConfig>, String> {
        let roots = if self.server_ca.is_empty() {
            let mut roots = rustls::RootCertStore::empty();
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            roots
        } else {
            roots("sas.server_ca", &self.server_ca)?
        };
        let builder = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?
            .with_root_certificates(roots);
        let config = if self.client_certificate.is_empty() {
            builder.with_no_client_auth()
        } else {
            builder
                .with_client_auth_cert(
                    certificates("sas.client_certificate", &self.client_certificate)?,
                    private_key("sas.client_key", &self.client_key)?,
                )
                .map_err(|e| format!("sas.client_key does not match sas.client_certificate: {e}"))?
        };
        Ok(Arc::new(config))
    }
}

/// TLS terminated by `maillage serve`: its certificate and key and, when set, the roots client certificates
/// are verified against (a client without one is still served: it signs in or uses a token; the SAS is let
/// in by its certificate only when it is a registered client).
pub fn server_tls(
    certificate: &str,
    key: &str,
    client_ca: &str,
) -> Result<Option<Arc<rustls::ServerConfig>>, String> {
    if certificate.is_empty() && key.is_empty() {
        if !client_ca.is_empty() {
            return Err(
                "server.tls_client_ca needs server.tls_certificate and server.tls_key".into(),
            );
        }
        return Ok(None);
    }
    if certificate.is_empty() || key.is_empty() {
        return Err("server.tls_certificate and server.tls_key go together".into());
    }
    let builder = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?;
    let builder = if client_ca.is_empty() {
        builder.with_no_client_auth()
    } else {
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots("server.tls_client_ca", client_ca)?),
            provider(),
        )
        .allow_unauthenticated()
        .build()
        .map_err(|e| format!("server.tls_client_ca: {e}"))?;
        builder.with_client_cert_verifier(verifier)
    };
    let mut config = builder
        .with_single_cert(
            certificates("server.tls_certificate", certificate)?,
            private_key("server.tls_key", key)?,
        )
        .map_err(|e| format!("server.tls_key does not match server.tls_certificate: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Some(Arc::new(config)))
}
