//! HTTPS: the certificate chain and private key of `serve --tls-cert/--tls-key`, read from
//! PEM files into a rustls server configuration (the `ring` provider; TLS 1.2 and 1.3;
//! ALPN `h2` and `http/1.1`).
//!
//! Everything is checked before the server opens its store, and each mistake is named with
//! the file it is in: a file that cannot be read, a certificate file without a certificate,
//! a key file without a (usable) private key, a key that is not the certificate's.

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use rustls::{Error as RustlsError, InconsistentKeys};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where the certificate chain and its private key are: PEM files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain, the server's own certificate first (`BEGIN CERTIFICATE`
    /// blocks; a file that also holds the key is fine).
    pub cert: PathBuf,
    /// The private key: PKCS#8 (`BEGIN PRIVATE KEY`), PKCS#1 (`BEGIN RSA PRIVATE KEY`) or
    /// SEC1 (`BEGIN EC PRIVATE KEY`), not encrypted.
    pub key: PathBuf,
}

/// A certificate and key that cannot be served, with the file at fault.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file that cannot be read (missing, not readable).
    #[error("cannot read the TLS {what} file {}: {source}", path.display())]
    Read {
        /// "certificate" or "private key".
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// The certificate file holds no certificate.
    #[error(
        "the TLS certificate file {} holds no certificate (expected PEM `-----BEGIN CERTIFICATE-----` blocks)",
        path.display()
    )]
    NoCertificate { path: PathBuf },
    /// The certificate file is not sound PEM, or its certificate cannot be parsed.
    #[error("the TLS certificate file {}: {reason}", path.display())]
    BadCertificate { path: PathBuf, reason: String },
    /// The key file holds no private key.
    #[error(
        "the TLS private key file {} holds no private key (expected a PEM `-----BEGIN PRIVATE KEY-----`, `RSA PRIVATE KEY` or `EC PRIVATE KEY` block{})",
        path.display(),
        if *encrypted { "; it holds an encrypted key: decrypt it first" } else { "" }
    )]
    NoPrivateKey { path: PathBuf, encrypted: bool },
    /// The key file is not sound PEM, or its key is of a kind that cannot sign.
    #[error("the TLS private key file {}: {reason}", path.display())]
    BadKey { path: PathBuf, reason: String },
    /// The key is not the one the certificate certifies.
    #[error(
        "the TLS private key {} does not match the certificate {} (its public key differs)",
        key.display(),
        cert.display()
    )]
    KeyMismatch { cert: PathBuf, key: PathBuf },
    /// rustls refused the combination for another reason.
    #[error("the TLS certificate {} with key {}: {reason}", cert.display(), key.display())]
    Config {
        cert: PathBuf,
        key: PathBuf,
        reason: String,
    },
}

impl TlsFiles {
    /// Reads and checks both files: the rustls configuration to serve with.
    pub fn load(&self) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let read = |what: &'static str, path: &Path| {
            std::fs::read(path).map_err(|source| TlsError::Read {
                what,
                path: path.to_owned(),
                source,
            })
        };
        let cert_pem = read("certificate", &self.cert)?;
        let key_pem = read("private key", &self.key)?;
        let certs = certificates(&self.cert, &cert_pem)?;
        let key = private_key(&self.key, &key_pem)?;
        server_config(certs, key).map_err(|e| match e {
            Refused::Key(reason) => TlsError::BadKey {
                path: self.key.clone(),
                reason,
            },
            Refused::Certificate(reason) => TlsError::BadCertificate {
                path: self.cert.clone(),
                reason,
            },
            Refused::Mismatch => TlsError::KeyMismatch {
                cert: self.cert.clone(),
                key: self.key.clone(),
            },
            Refused::Other(reason) => TlsError::Config {
                cert: self.cert.clone(),
                key: self.key.clone(),
                reason,
            },
        })
    }
}

/// The certificates of a PEM file, in order.
fn certificates(path: &Path, pem_bytes: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem_bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::BadCertificate {
            path: path.to_owned(),
            reason: pem_problem(&e),
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_owned(),
        });
    }
    Ok(certs)
}

/// The first private key of a PEM file.
fn private_key(path: &Path, pem_bytes: &[u8]) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_slice(pem_bytes).map_err(|e| match e {
        pem::Error::NoItemsFound => TlsError::NoPrivateKey {
            path: path.to_owned(),
            encrypted: contains(pem_bytes, b"-----BEGIN ENCRYPTED PRIVATE KEY-----"),
        },
        other => TlsError::BadKey {
            path: path.to_owned(),
            reason: pem_problem(&other),
        },
    })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn pem_problem(e: &pem::Error) -> String {
    match e {
        pem::Error::MissingSectionEnd { .. } => "a PEM block has no `-----END` line".to_owned(),
        pem::Error::IllegalSectionStart { .. } => "a PEM `-----BEGIN` line is malformed".to_owned(),
        pem::Error::Base64Decode(m) => format!("a PEM block is not valid base64 ({m})"),
        other => format!("not readable as PEM ({other})"),
    }
}

/// Why rustls would not take a certificate chain and key.
#[derive(Debug)]
enum Refused {
    Key(String),
    Certificate(String),
    Mismatch,
    Other(String),
}

/// The crypto provider the server uses, whatever the process default is.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A rustls server configuration for a certificate chain (the server's own first) and its
/// private key: safe default protocol versions (TLS 1.2, 1.3), no client certificates,
/// ALPN `h2` then `http/1.1`.
fn server_config(
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<rustls::ServerConfig>, Refused> {
    let provider = provider();
    let signing_key = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| Refused::Key(format!("the key cannot be used to sign ({e})")))?;
    let certified = CertifiedKey::new(certs, signing_key);
    match certified.keys_match() {
        // Unknown: the key cannot tell its public key; the handshake will show.
        Ok(()) | Err(RustlsError::InconsistentKeys(InconsistentKeys::Unknown)) => {}
        Err(RustlsError::InconsistentKeys(InconsistentKeys::KeyMismatch)) => {
            return Err(Refused::Mismatch)
        }
        Err(e) => {
            return Err(Refused::Certificate(format!(
                "the first certificate cannot be parsed ({e})"
            )))
        }
    }
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Refused::Other(e.to_string()))?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(SingleCertAndKey::from(certified)));
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
