//! Non-discoverable credentials keep nothing on the key: the credential id itself carries
//! the private key, encrypted and authenticated under a secret only this key holds, and
//! bound to the RP. This is how real keys offer unlimited non-resident credentials.
//!
//! hmac-secret's two CredRandoms are not carried: they are derived from the same secret and
//! the id, so only a flag in the id says whether the credential has them.

use zeroize::Zeroizing;

use super::crypto::{self, BLOCK};
use crate::state::Credential;

/// private key (32) ‖ credProtect (1) ‖ flags (1) ‖ zero padding to whole blocks.
const PLAINTEXT_LEN: usize = 48;
const TAG_LEN: usize = 16;
pub const WRAPPED_ID_LEN: usize = BLOCK + PLAINTEXT_LEN + TAG_LEN;

const CRED_PROTECT_AT: usize = 32;
const FLAGS_AT: usize = 33;
/// The credential was made with hmac-secret. Ids made before the flag existed have 0 here.
const HMAC_SECRET: u8 = 0x01;

fn subkey(secret: &[u8; 32], purpose: &[u8]) -> Zeroizing<[u8; 32]> {
    crypto::hmac_sha256(secret, &[purpose])
}

fn tag(secret: &[u8; 32], rp_id: &str, iv_and_ciphertext: &[u8]) -> Zeroizing<[u8; 32]> {
    let key = subkey(secret, b"tap2key credential id mac");
    crypto::hmac_sha256(key.as_slice(), &[crypto::sha256(rp_id.as_bytes()).as_slice(), iv_and_ciphertext])
}

/// The credential id for a non-discoverable credential.
pub fn wrap(secret: &[u8; 32], credential: &Credential) -> Vec<u8> {
    let mut plaintext = Zeroizing::new([0u8; PLAINTEXT_LEN]);
    plaintext[..32].copy_from_slice(&credential.private_key);
    plaintext[CRED_PROTECT_AT] = credential.cred_protect;
    if credential.hmac_secret.is_some() {
        plaintext[FLAGS_AT] |= HMAC_SECRET;
    }
    let iv: [u8; BLOCK] = rand::random();
    let key = subkey(secret, b"tap2key credential id encryption");
    let mut id = iv.to_vec();
    id.extend(crypto::aes256_cbc_encrypt(key.as_slice(), &iv, plaintext.as_slice()).expect("whole blocks"));
    let tag = tag(secret, &credential.rp_id, &id);
    id.extend_from_slice(&tag[..TAG_LEN]);
    id
}

/// The credential inside `id`, if this key made it for `rp_id`.
pub fn unwrap(secret: &[u8; 32], id: &[u8], rp_id: &str) -> Option<Credential> {
    if id.len() != WRAPPED_ID_LEN {
        return None;
    }
    let (body, received_tag) = id.split_at(BLOCK + PLAINTEXT_LEN);
    if !crypto::constant_time_eq(&tag(secret, rp_id, body)[..TAG_LEN], received_tag) {
        return None;
    }
    let (iv, ciphertext) = body.split_at(BLOCK);
    let key = subkey(secret, b"tap2key credential id encryption");
    let plaintext = crypto::aes256_cbc_decrypt(key.as_slice(), iv.try_into().ok()?, ciphertext)?;
    let has_hmac_secret = plaintext[FLAGS_AT] & HMAC_SECRET != 0;
    Some(Credential {
        id: id.to_vec(),
        rp_id: rp_id.to_owned(),
        rp_name: None,
        user_id: Vec::new(),
        user_name: None,
        user_display_name: None,
        private_key: plaintext[..32].try_into().ok()?,
        discoverable: false,
        cred_protect: plaintext[CRED_PROTECT_AT],
        hmac_secret: has_hmac_secret.then(|| cred_randoms(secret, id)),
        serial: 0,
    })
}

/// hmac-secret's CredRandomWithUV and CredRandomWithoutUV for the credential `id`: a PRF of
/// the id under a subkey of the key's secret, so they are fixed for the credential's life,
/// distinct between credentials, and unknowable without the key.
pub fn cred_randoms(secret: &[u8; 32], id: &[u8]) -> ([u8; 32], [u8; 32]) {
    let key = subkey(secret, b"tap2key hmac-secret CredRandom");
    let with_uv = crypto::hmac_sha256(key.as_slice(), &[b"with uv", id]);
    let without_uv = crypto::hmac_sha256(key.as_slice(), &[b"without uv", id]);
    (*with_uv, *without_uv)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credential() -> Credential {
        Credential {
            id: Vec::new(),
            rp_id: "example.com".into(),
            rp_name: None,
            user_id: vec![1],
            user_name: None,
            user_display_name: None,
            private_key: [7; 32],
            discoverable: false,
            cred_protect: 2,
            hmac_secret: None,
            serial: 0,
        }
    }

    #[test]
    fn a_wrapped_id_opens_only_on_the_same_key_for_the_same_rp() {
        let secret = [1; 32];
        let id = wrap(&secret, &credential());
        assert_eq!(id.len(), WRAPPED_ID_LEN);
        let opened = unwrap(&secret, &id, "example.com").unwrap();
        assert_eq!((opened.private_key, opened.cred_protect), ([7; 32], 2));
        assert!(unwrap(&secret, &id, "evil.example").is_none());
        assert!(unwrap(&[2; 32], &id, "example.com").is_none());
        let mut tampered = id.clone();
        tampered[20] ^= 1;
        assert!(unwrap(&secret, &tampered, "example.com").is_none());
        assert_ne!(wrap(&secret, &credential()), id, "a fresh IV each time");
        assert!(opened.hmac_secret.is_none());
    }

    #[test]
    fn hmac_secret_randoms_come_back_from_the_id() {
        let secret = [1; 32];
        let mut with_hmac = credential();
        with_hmac.hmac_secret = Some(([0; 32], [0; 32]));
        let id = wrap(&secret, &with_hmac);
        let (with_uv, without_uv) = unwrap(&secret, &id, "example.com").unwrap().hmac_secret.unwrap();
        assert_eq!((with_uv, without_uv), cred_randoms(&secret, &id));
        assert_ne!(with_uv, without_uv);
        let other = wrap(&secret, &with_hmac);
        assert_ne!(cred_randoms(&secret, &other), (with_uv, without_uv), "each credential its own");
        assert_ne!(cred_randoms(&[2; 32], &id), (with_uv, without_uv), "each key its own");
    }
}
