//! Keys and certificates: the stand-in's two fixed token-signing keys (committed PEM
//! files: generating RSA keys at run time is slow in debug builds) and the broker's
//! registered certificates.
//!
//! Entra names a signing key by the base64url SHA-1 thumbprint of its certificate, as both
//! `kid` and `x5t`, and publishes `x5c` in the JWKS; a client credential certificate is
//! matched by `x5t#S256` (SHA-256 thumbprint) or the legacy `x5t` in the assertion's
//! header ("Microsoft identity platform application authentication certificate
//! credentials").

use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use jsonwebtoken::{DecodingKey, EncodingKey};
use rsa::{pkcs1::DecodeRsaPublicKey, traits::PublicKeyParts};
use serde_json::{Value, json};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use x509_cert::{Certificate, der::Decode};

const SIGNING_KEYS: [(&str, &str); 2] = [
    (
        include_str!("../keys/signing_key_1.pem"),
        include_str!("../keys/signing_cert_1.pem"),
    ),
    (
        include_str!("../keys/signing_key_2.pem"),
        include_str!("../keys/signing_cert_2.pem"),
    ),
];

pub(crate) struct SigningKey {
    pub kid: String,
    pub encoding: EncodingKey,
    pub decoding: DecodingKey,
    /// The JWKS entry.
    pub jwk: Value,
}

impl SigningKey {
    /// Both fixed keys.
    ///
    /// # Panics
    /// If the committed PEM files do not parse (a broken build, not a runtime condition).
    pub fn fixed() -> [SigningKey; 2] {
        SIGNING_KEYS.map(|(key_pem, cert_pem)| {
            let der =
                pem_certificate_der(cert_pem).expect("the committed signing certificate is PEM");
            let certificate = BrokerCertificate::from_der(&der)
                .expect("the committed signing certificate is an RSA certificate");
            let public = rsa::RsaPublicKey::from_pkcs1_der(&certificate.public_key_pkcs1)
                .expect("an RSA public key");
            let kid = certificate.x5t.clone();
            let jwk = json!({
                "kty": "RSA",
                "use": "sig",
                "kid": kid,
                "x5t": kid,
                "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
                "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
                "x5c": [STANDARD.encode(&der)],
                "cloud_instance_name": "microsoftonline.com",
                "issuer": "https://login.microsoftonline.com/{tenantid}/v2.0",
            });
            SigningKey {
                kid,
                encoding: EncodingKey::from_rsa_pem(key_pem.as_bytes())
                    .expect("the committed signing key is an RSA PEM key"),
                decoding: DecodingKey::from_rsa_der(&certificate.public_key_pkcs1),
                jwk,
            }
        })
    }
}

/// A certificate registered on the broker's app registration.
#[derive(Clone, Debug)]
pub(crate) struct BrokerCertificate {
    /// base64url SHA-1 thumbprint (`x5t`).
    pub x5t: String,
    /// base64url SHA-256 thumbprint (`x5t#S256`).
    pub x5t_s256: String,
    /// The RSA public key, PKCS#1 DER (what jsonwebtoken verifies with).
    pub public_key_pkcs1: Vec<u8>,
}

impl BrokerCertificate {
    /// `None` when `der` is not an X.509 certificate.
    pub fn from_der(der: &[u8]) -> Option<Self> {
        let certificate = Certificate::from_der(der).ok()?;
        let public_key = certificate
            .tbs_certificate()
            .subject_public_key_info()
            .subject_public_key
            .raw_bytes()
            .to_vec();
        Some(Self {
            x5t: URL_SAFE_NO_PAD.encode(Sha1::digest(der)),
            x5t_s256: URL_SAFE_NO_PAD.encode(Sha256::digest(der)),
            public_key_pkcs1: public_key,
        })
    }
}

/// The DER inside a `CERTIFICATE` PEM block.
pub(crate) fn pem_certificate_der(pem: &str) -> Option<Vec<u8>> {
    let body: String = pem
        .lines()
        .skip_while(|line| !line.starts_with("-----BEGIN CERTIFICATE-----"))
        .skip(1)
        .take_while(|line| !line.starts_with("-----END"))
        .collect();
    STANDARD.decode(body.trim()).ok()
}

/// SHA-1 thumbprint in lower-case hex, as Graph lists `attestationCertificates`.
pub(crate) fn hex_thumbprint(der: &[u8]) -> String {
    Sha1::digest(der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
