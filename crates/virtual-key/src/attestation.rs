//! The attestation certificate authority of the virtual key: a self-signed root and, per key
//! model (AAGUID), a leaf certificate and key that sign `packed` attestation statements.
//!
//! Everything is derived from a 32-byte seed with fixed dates and RFC 6979 signatures, so
//! the certificates are byte-identical on every run and a relying party can be configured
//! with the root ahead of time. The leaf follows WebAuthn §8.2.1 (packed attestation
//! certificate requirements); the root has what chain validators (crypto-glue, used by
//! webauthn-rs 0.6) demand of an issuer: basicConstraints CA=TRUE and keyCertSign.

use std::fmt;
use std::sync::OnceLock;

use der::asn1::{Any, OctetString};
use der::oid::db::rfc4519::{
    COMMON_NAME, COUNTRY_NAME, ORGANIZATION_NAME, ORGANIZATIONAL_UNIT_NAME,
};
use der::pem::LineEnding;
use der::{DateTime, Decode, Encode, Tag};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{DerSignature, SigningKey};
use sha2::{Digest, Sha256};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::certificate::TbsCertificate;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, KeyUsage, KeyUsages, SubjectKeyIdentifier,
};
use x509_cert::ext::{Extension, ToExtension};
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{ObjectIdentifier, SubjectPublicKeyInfoOwned, SubjectPublicKeyInfoRef};
use x509_cert::time::{Time, Validity};
use zeroize::Zeroizing;

/// id-fido-gen-ce-aaguid: the AAGUID of the model the certificate attests (non-critical).
pub const ID_FIDO_GEN_CE_AAGUID: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.45724.1.1.4");

/// Subject-OU of a packed attestation certificate: this literal, required by WebAuthn §8.2.1.
pub const ATTESTATION_OU: &str = "Authenticator Attestation";
/// Subject-O (the vendor) of the root and every leaf.
pub const VENDOR: &str = "tap2key";
/// Subject-C: an ISO 3166 alpha-2 code (the spec wants the vendor's country; "XX" is not one).
pub const COUNTRY: &str = "SE";

// Seed label and name of the CA returned by `AttestationCa::tap2key_test`.
const TEST_CA_SEED_LABEL: &[u8] = b"tap2key test attestation CA";
const TEST_CA_NAME: &str = "tap2key Test Attestation CA";

// RFC 5280 ub-common-name; longer CNs are rejected by strict parsers.
const MAX_COMMON_NAME: usize = 64;

/// Fixed validity of every certificate: wide enough never to expire during the product's
/// life, fixed so that the bytes never change. Both ends fit UTCTime (before 2050).
const NOT_BEFORE: (u16, u8, u8, u8, u8, u8) = (2024, 1, 1, 0, 0, 0);
const NOT_AFTER: (u16, u8, u8, u8, u8, u8) = (2049, 12, 31, 23, 59, 59);

#[derive(Debug, thiserror::Error)]
pub enum AttestationError {
    #[error("a certificate name is longer than {MAX_COMMON_NAME} characters: {0:?}")]
    NameTooLong(String),
    #[error("cannot build an attestation certificate: {0}")]
    Builder(#[from] x509_cert::builder::Error),
    #[error("cannot encode an attestation certificate: {0}")]
    Der(#[from] der::Error),
}

/// A certificate authority for attestation certificates. Deterministic: the same seed gives
/// byte-identical certificates (fixed validity dates, RFC 6979 signatures), so a known test
/// root can be configured in a directory ahead of time.
pub struct AttestationCa {
    // Kept so that leaf keys can be derived from it; a leaf key must not be derivable from
    // public data (the root certificate) alone.
    seed: Zeroizing<[u8; 32]>,
    key: SigningKey,
    name: Name,
    certificate_der: Vec<u8>,
}

impl AttestationCa {
    /// Builds the CA whose root certificate has subject `C=SE, O=tap2key, CN=<name>` (at
    /// most 64 characters).
    pub fn from_seed(seed: &[u8; 32], name: &str) -> Result<Self, AttestationError> {
        let key = derive_key(b"tap2key attestation root key", &[seed]);
        let name = subject(name, None)?;
        let profile = Profile {
            issuer: name.clone(),
            subject: name.clone(),
            aaguid: None,
        };
        let certificate_der = certify(profile, key.verifying_key(), &key)?;
        Ok(Self {
            seed: Zeroizing::new(*seed),
            key,
            name,
            certificate_der,
        })
    }

    /// The CA every virtual key uses unless told otherwise: seed = SHA-256("tap2key test
    /// attestation CA"), name "tap2key Test Attestation CA".
    pub fn tap2key_test() -> &'static AttestationCa {
        static CA: OnceLock<AttestationCa> = OnceLock::new();
        CA.get_or_init(|| {
            let seed: [u8; 32] = Sha256::digest(TEST_CA_SEED_LABEL).into();
            AttestationCa::from_seed(&seed, TEST_CA_NAME).expect("the built-in test CA is valid")
        })
    }

    pub fn root_certificate_der(&self) -> &[u8] {
        &self.certificate_der
    }

    pub fn root_certificate_pem(&self) -> String {
        der::pem::encode_string("CERTIFICATE", LineEnding::LF, &self.certificate_der)
            .expect("PEM armour of a short DER blob cannot fail")
    }

    /// Issues the attestation identity for keys of one model (one AAGUID), deterministic from
    /// (CA, aaguid, model name). Subject: `C=SE, O=tap2key, OU=Authenticator Attestation,
    /// CN=tap2key virtual key <model>`; the CN limit of 64 characters leaves 44 for `model`.
    pub fn issue(
        &self,
        aaguid: [u8; 16],
        model: &str,
    ) -> Result<AttestationIdentity, AttestationError> {
        let key = derive_key(
            b"tap2key attestation leaf key",
            &[&self.seed[..], &aaguid, model.as_bytes()],
        );
        let profile = Profile {
            issuer: self.name.clone(),
            subject: subject(
                &format!("tap2key virtual key {model}"),
                Some(ATTESTATION_OU),
            )?,
            aaguid: Some(aaguid),
        };
        let certificate_der = certify(profile, key.verifying_key(), &self.key)?;
        Ok(AttestationIdentity {
            certificate_der,
            key,
        })
    }
}

impl fmt::Debug for AttestationCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttestationCa")
            .field("name", &self.name.to_string())
            .finish_non_exhaustive()
    }
}

/// What a key holds to sign attestations: its certificate and private key.
#[derive(Clone)]
pub struct AttestationIdentity {
    certificate_der: Vec<u8>,
    // p256's SigningKey zeroizes its scalar on drop.
    key: SigningKey,
}

impl AttestationIdentity {
    /// The leaf certificate, DER: the only element of a packed statement's "x5c" (the root is
    /// the relying party's trust anchor, so it is not sent).
    pub fn certificate_der(&self) -> &[u8] {
        &self.certificate_der
    }

    /// ECDSA P-256 / SHA-256 signature over `message`, ASN.1 DER encoded (as packed
    /// attestation's "sig" requires). Deterministic (RFC 6979).
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let signature: DerSignature = self.key.sign(message);
        signature.as_bytes().to_vec()
    }
}

impl fmt::Debug for AttestationIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttestationIdentity")
            .field(
                "certificate_der",
                &format_args!("{} bytes", self.certificate_der.len()),
            )
            .finish_non_exhaustive()
    }
}

/// SHA-256 over length-prefixed parts, so that different part lists never hash the same bytes.
fn hash(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// A P-256 key from a domain-separated hash. A hash is not a valid scalar with probability
/// ~2^-32 (zero or ≥ n); a counter then tries the next one, so every input gives a key.
fn derive_key(label: &[u8], inputs: &[&[u8]]) -> SigningKey {
    (0u32..)
        .find_map(|counter| {
            let counter = counter.to_be_bytes();
            let mut parts = vec![label];
            parts.extend_from_slice(inputs);
            parts.push(&counter);
            let scalar = Zeroizing::new(hash(&parts));
            SigningKey::from_slice(&scalar[..]).ok()
        })
        .expect("some counter gives a valid scalar")
}

/// `C=SE, O=tap2key, [OU=<ou>,] CN=<common_name>`, in that order (most significant first).
fn subject(common_name: &str, ou: Option<&str>) -> Result<Name, AttestationError> {
    if common_name.chars().count() > MAX_COMMON_NAME {
        return Err(AttestationError::NameTooLong(common_name.to_owned()));
    }
    // C is a PrintableString (X.520); the others UTF8String, as WebAuthn §8.2.1 states.
    let mut attributes = vec![
        (COUNTRY_NAME, Tag::PrintableString, COUNTRY),
        (ORGANIZATION_NAME, Tag::Utf8String, VENDOR),
    ];
    attributes.extend(ou.map(|ou| (ORGANIZATIONAL_UNIT_NAME, Tag::Utf8String, ou)));
    attributes.push((COMMON_NAME, Tag::Utf8String, common_name));
    // Built as ASN.1 rather than parsed from an RFC 4514 string, so that a model name with
    // ',', '+' or '\' needs no escaping. `Name` has no public constructor, hence the DER trip.
    let rdns = attributes
        .into_iter()
        .map(|(oid, tag, value)| {
            let value = Any::new(tag, value.as_bytes())?;
            RelativeDistinguishedName::try_from(vec![AttributeTypeAndValue { oid, value }])
        })
        .collect::<der::Result<Vec<_>>>()?;
    Ok(Name::from_der(&RdnSequence::from(rdns).to_der()?)?)
}

/// Builds and signs one certificate; serial and dates are deterministic.
fn certify(
    profile: Profile,
    subject_key: &p256::ecdsa::VerifyingKey,
    issuer_key: &SigningKey,
) -> Result<Vec<u8>, AttestationError> {
    // Serial: 16 bytes of a hash of the subject key (unique per certificate, as every
    // certificate has its own key), top bit cleared so that it is positive and 0x40 set so
    // that it keeps all 16 octets.
    let mut serial = hash(&[b"tap2key attestation serial", &subject_key.to_sec1_bytes()]);
    serial[0] = (serial[0] & 0x7f) | 0x40;
    let time = |(y, mo, d, h, mi, s)| DateTime::new(y, mo, d, h, mi, s).map(Time::from);
    let validity = Validity::new(time(NOT_BEFORE)?, time(NOT_AFTER)?);
    let spki = SubjectPublicKeyInfoOwned::from_key(subject_key)
        .map_err(x509_cert::builder::Error::from)?;
    let builder =
        CertificateBuilder::new(profile, SerialNumber::new(&serial[..16])?, validity, spki)?;
    let certificate = builder.build::<_, DerSignature>(issuer_key)?;
    Ok(certificate.to_der()?)
}

/// The extensions of our two kinds of certificate: the root (`aaguid: None`) and the
/// attestation leaf of one model.
struct Profile {
    issuer: Name,
    subject: Name,
    aaguid: Option<[u8; 16]>,
}

impl BuilderProfile for Profile {
    fn get_issuer(&self, _subject: &Name) -> Name {
        self.issuer.clone()
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        spk: SubjectPublicKeyInfoRef<'_>,
        issuer_spk: SubjectPublicKeyInfoRef<'_>,
        _tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        let is_ca = self.aaguid.is_none();
        let subject = &self.subject;
        let mut extensions = Vec::new();
        // The root may only sign leaves (pathLen 0); a leaf must not be a CA (§8.2.1) and,
        // when it has keyUsage, it must allow digitalSignature (chain validators check).
        let basic = BasicConstraints {
            ca: is_ca,
            path_len_constraint: is_ca.then_some(0),
        };
        extensions.push((true, &basic).to_extension(subject, &extensions)?);
        let usage = match is_ca {
            true => KeyUsages::KeyCertSign | KeyUsages::CRLSign,
            false => KeyUsages::DigitalSignature.into(),
        };
        extensions.push((true, &KeyUsage(usage)).to_extension(subject, &extensions)?);
        // Key identifiers let tools (openssl, browsers' debug views) match leaf to root.
        let ski = SubjectKeyIdentifier::try_from(spk)?;
        extensions.push((false, &ski).to_extension(subject, &extensions)?);
        let aki = AuthorityKeyIdentifier {
            key_identifier: Some(SubjectKeyIdentifier::try_from(issuer_spk)?.0),
            ..Default::default()
        };
        extensions.push((false, &aki).to_extension(subject, &extensions)?);
        if let Some(aaguid) = self.aaguid {
            // extnValue = DER of OCTET STRING(aaguid): 04 12 | 04 10 | aaguid on the wire.
            let value = OctetString::new(aaguid)?;
            let ext = (ID_FIDO_GEN_CE_AAGUID, false, &value).to_extension(subject, &extensions)?;
            extensions.push(ext);
        }
        Ok(extensions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::VerifyingKey;
    use p256::ecdsa::signature::Verifier;
    use x509_parser::prelude::{FromDer, X509Certificate, X509Version};

    const AAGUID: [u8; 16] = *b"tap2key-vk-test!";

    fn parse(der: &[u8]) -> X509Certificate<'_> {
        let (rest, cert) = X509Certificate::from_der(der).expect("parses as X.509");
        assert!(rest.is_empty(), "trailing bytes after the certificate");
        cert
    }

    fn public_key(cert: &X509Certificate<'_>) -> VerifyingKey {
        VerifyingKey::from_sec1_bytes(&cert.public_key().subject_public_key.data)
            .expect("a P-256 public key")
    }

    /// The signature on `cert` verifies under `issuer`'s key (ecdsa-with-SHA256 over the TBS).
    fn assert_signed_by(cert: &X509Certificate<'_>, issuer: &X509Certificate<'_>) {
        assert_eq!(
            cert.signature_algorithm.algorithm.to_id_string(),
            "1.2.840.10045.4.3.2"
        );
        let signature = DerSignature::from_bytes(&cert.signature_value.data).expect("DER");
        public_key(issuer)
            .verify(cert.tbs_certificate.as_ref(), &signature)
            .expect("signature verifies under the issuer key");
    }

    fn aaguid_extension<'a>(
        cert: &'a X509Certificate<'a>,
    ) -> Option<&'a x509_parser::extensions::X509Extension<'a>> {
        cert.extensions()
            .iter()
            .find(|e| e.oid.to_id_string() == "1.3.6.1.4.1.45724.1.1.4")
    }

    #[test]
    fn deterministic_per_seed() {
        let a = AttestationCa::from_seed(&[7; 32], "CA").unwrap();
        let b = AttestationCa::from_seed(&[7; 32], "CA").unwrap();
        let c = AttestationCa::from_seed(&[8; 32], "CA").unwrap();
        assert_eq!(a.root_certificate_der(), b.root_certificate_der());
        assert_ne!(a.root_certificate_der(), c.root_certificate_der());

        let (la, lb) = (a.issue(AAGUID, "m").unwrap(), b.issue(AAGUID, "m").unwrap());
        assert_eq!(la.certificate_der(), lb.certificate_der());
        assert_eq!(la.sign(b"msg"), lb.sign(b"msg"), "RFC 6979");
        let lc = c.issue(AAGUID, "m").unwrap();
        assert_ne!(la.certificate_der(), lc.certificate_der());
        // Another model or AAGUID gets another key, not just another certificate.
        let other_model = a.issue(AAGUID, "n").unwrap();
        let other_aaguid = a.issue([0; 16], "m").unwrap();
        let key = |l: &AttestationIdentity| parse(l.certificate_der()).public_key().raw.to_vec();
        assert_ne!(key(&la), key(&other_model));
        assert_ne!(key(&la), key(&other_aaguid));

        let test_ca = AttestationCa::tap2key_test();
        assert!(std::ptr::eq(test_ca, AttestationCa::tap2key_test()));
        let seed: [u8; 32] = Sha256::digest(b"tap2key test attestation CA").into();
        let rebuilt = AttestationCa::from_seed(&seed, "tap2key Test Attestation CA").unwrap();
        assert_eq!(
            test_ca.root_certificate_der(),
            rebuilt.root_certificate_der()
        );
    }

    #[test]
    fn root_is_a_self_signed_ca() {
        let ca = AttestationCa::tap2key_test();
        let root = parse(ca.root_certificate_der());
        assert_eq!(root.version(), X509Version::V3);
        assert_eq!(root.subject(), root.issuer());
        assert_eq!(
            root.subject().to_string(),
            "C=SE, O=tap2key, CN=tap2key Test Attestation CA"
        );
        let bc = root.basic_constraints().unwrap().expect("basicConstraints");
        assert!(bc.value.ca);
        assert!(
            root.key_usage()
                .unwrap()
                .expect("keyUsage")
                .value
                .key_cert_sign()
        );
        assert!(aaguid_extension(&root).is_none());
        assert_signed_by(&root, &root);

        let pem = ca.root_certificate_pem();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
        let (_, parsed) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).unwrap();
        assert_eq!(parsed.contents, ca.root_certificate_der());
    }

    #[test]
    fn leaf_meets_packed_attestation_requirements() {
        let ca = AttestationCa::tap2key_test();
        let identity = ca.issue(AAGUID, "Model, A+B").unwrap();
        let leaf = parse(identity.certificate_der());
        let root = parse(ca.root_certificate_der());

        assert_eq!(leaf.version(), X509Version::V3);
        assert_eq!(leaf.issuer(), root.subject());
        let ou: Vec<_> = leaf.subject().iter_organizational_unit().collect();
        assert_eq!(ou.len(), 1);
        assert_eq!(ou[0].as_str().unwrap(), "Authenticator Attestation");
        assert_eq!(
            ou[0].attr_value().tag(),
            x509_parser::asn1_rs::Tag::Utf8String
        );
        let country = leaf.subject().iter_country().next().expect("C");
        assert_eq!(country.as_str().unwrap(), "SE");
        assert_eq!(
            country.attr_value().tag(),
            x509_parser::asn1_rs::Tag::PrintableString
        );
        let cn = leaf.subject().iter_common_name().next().expect("CN");
        assert_eq!(cn.as_str().unwrap(), "tap2key virtual key Model, A+B");
        assert!(leaf.subject().iter_organization().next().is_some());

        let bc = leaf.basic_constraints().unwrap().expect("basicConstraints");
        assert!(!bc.value.ca);
        assert!(
            leaf.key_usage()
                .unwrap()
                .expect("keyUsage")
                .value
                .digital_signature()
        );

        let ext = aaguid_extension(&leaf).expect("id-fido-gen-ce-aaguid");
        assert!(!ext.critical);
        let mut expected = vec![0x04, 0x10];
        expected.extend_from_slice(&AAGUID);
        assert_eq!(ext.value, expected);

        let serial = leaf.raw_serial();
        assert!(serial.len() <= 20 && serial[0] & 0x80 == 0 && serial[0] != 0);
        assert_ne!(serial, root.raw_serial());
        let validity = leaf.validity();
        assert_eq!(validity.not_before.to_datetime().year(), 2024);
        assert_eq!(validity.not_after.to_datetime().year(), 2049);
        assert!(validity.is_valid());

        assert_signed_by(&leaf, &root);
    }

    #[test]
    fn sign_gives_der_signature_under_the_leaf_key() {
        let identity = AttestationCa::tap2key_test().issue(AAGUID, "m").unwrap();
        let message = b"authData || clientDataHash";
        let sig = identity.sign(message);
        assert_eq!(sig[0], 0x30, "ASN.1 SEQUENCE {{ r, s }}");
        let signature = DerSignature::from_bytes(&sig).expect("strict DER");
        let key = public_key(&parse(identity.certificate_der()));
        key.verify(message, &signature).expect("verifies");
        assert!(key.verify(b"another message", &signature).is_err());
    }

    #[test]
    fn rejects_overlong_names() {
        let long = "x".repeat(65);
        assert!(matches!(
            AttestationCa::from_seed(&[1; 32], &long),
            Err(AttestationError::NameTooLong(_))
        ));
        let ca = AttestationCa::from_seed(&[1; 32], "CA").unwrap();
        assert!(ca.issue(AAGUID, &long).is_err());
    }
}
