//! Non-discoverable credentials keep nothing on the key: the credential id itself carries
//! the private key, encrypted and authenticated under a secret only this key holds, and
//! bound to the RP. This is how real keys offer unlimited non-resident credentials.

use aes::Aes256;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit, block_padding::NoPadding};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::state::Credential;

const IV_LEN: usize = 16;
/// private key (32) ‖ credProtect (1) ‖ zero padding to a whole number of blocks.
const PLAINTEXT_LEN: usize = 48;
const TAG_LEN: usize = 16;
pub const WRAPPED_ID_LEN: usize = IV_LEN + PLAINTEXT_LEN + TAG_LEN;

fn subkey(secret: &[u8; 32], purpose: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(purpose);
    Zeroizing::new(mac.finalize().into_bytes().into())
}

fn tag(secret: &[u8; 32], rp_id: &str, iv_and_ciphertext: &[u8]) -> [u8; TAG_LEN] {
    let mut mac = Hmac::<Sha256>::new_from_slice(subkey(secret, b"tap2key credential id mac").as_slice()).expect("any key length");
    mac.update(&Sha256::digest(rp_id.as_bytes()));
    mac.update(iv_and_ciphertext);
    mac.finalize().into_bytes()[..TAG_LEN].try_into().expect("16 of 32 bytes")
}

/// The credential id for a non-discoverable credential.
pub fn wrap(secret: &[u8; 32], credential: &Credential) -> Vec<u8> {
    let mut plaintext = Zeroizing::new([0u8; PLAINTEXT_LEN]);
    plaintext[..32].copy_from_slice(&credential.private_key);
    plaintext[32] = credential.cred_protect;
    let iv: [u8; IV_LEN] = rand::random();
    let key = subkey(secret, b"tap2key credential id encryption");
    let cipher = cbc::Encryptor::<Aes256>::new_from_slices(key.as_slice(), &iv).expect("fixed sizes");
    let mut id = iv.to_vec();
    id.extend(cipher.encrypt_padded_vec::<NoPadding>(plaintext.as_slice()));
    let tag = tag(secret, &credential.rp_id, &id);
    id.extend_from_slice(&tag);
    id
}

/// The credential inside `id`, if this key made it for `rp_id`.
pub fn unwrap(secret: &[u8; 32], id: &[u8], rp_id: &str) -> Option<Credential> {
    if id.len() != WRAPPED_ID_LEN {
        return None;
    }
    let (body, received_tag) = id.split_at(IV_LEN + PLAINTEXT_LEN);
    let expected = tag(secret, rp_id, body);
    if expected.iter().zip(received_tag).fold(0u8, |acc, (a, b)| acc | (a ^ b)) != 0 {
        return None;
    }
    let (iv, ciphertext) = body.split_at(IV_LEN);
    let key = subkey(secret, b"tap2key credential id encryption");
    let cipher = cbc::Decryptor::<Aes256>::new_from_slices(key.as_slice(), iv).ok()?;
    let plaintext = Zeroizing::new(cipher.decrypt_padded_vec::<NoPadding>(ciphertext).ok()?);
    Some(Credential {
        id: id.to_vec(),
        rp_id: rp_id.to_owned(),
        rp_name: None,
        user_id: Vec::new(),
        user_name: None,
        user_display_name: None,
        private_key: plaintext[..32].try_into().ok()?,
        discoverable: false,
        cred_protect: plaintext[32],
        hmac_secret: None,
        serial: 0,
    })
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
    }
}
