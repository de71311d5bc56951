//! The key's symmetric primitives, each in one place: HMAC-SHA-256, AES-256-CBC without
//! padding (CTAP never pads: every plaintext it defines is whole blocks) and the
//! constant-time comparison every secret-dependent check goes through.

use aes::Aes256;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit, block_padding::NoPadding};
use hmac::{Hmac, KeyInit, Mac};
use p256::elliptic_curve::subtle::ConstantTimeEq;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

pub const BLOCK: usize = 16;

/// HMAC-SHA-256 over the concatenation of `parts`. The output is often key material
/// (subkeys, CredRandom), so it is zeroized on drop whatever it is used for.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Zeroizing<[u8; 32]> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    for part in parts {
        mac.update(part);
    }
    Zeroizing::new(mac.finalize().into_bytes().into())
}

/// SHA-256 written straight into zeroize-on-drop storage: the callers hash secrets (a
/// PIN, an ECDH result), and their digests are as secret.
pub fn sha256(data: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut digest = Zeroizing::new([0u8; 32]);
    let mut hasher = Sha256::new();
    hasher.update(data);
    hasher.finalize_into((&mut *digest).into());
    digest
}

/// AES-256-CBC encryption of whole blocks; None if `plaintext` is not whole blocks.
pub fn aes256_cbc_encrypt(key: &[u8], iv: &[u8; BLOCK], plaintext: &[u8]) -> Option<Vec<u8>> {
    if !plaintext.len().is_multiple_of(BLOCK) {
        return None;
    }
    let cipher = cbc::Encryptor::<Aes256>::new_from_slices(key, iv).ok()?;
    Some(cipher.encrypt_padded_vec::<NoPadding>(plaintext))
}

/// AES-256-CBC decryption of whole blocks, into zeroize-on-drop storage; None if
/// `ciphertext` is empty or not whole blocks.
pub fn aes256_cbc_decrypt(key: &[u8], iv: &[u8; BLOCK], ciphertext: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(BLOCK) {
        return None;
    }
    let cipher = cbc::Decryptor::<Aes256>::new_from_slices(key, iv).ok()?;
    cipher.decrypt_padded_vec::<NoPadding>(ciphertext).ok().map(Zeroizing::new)
}

/// Equal lengths and equal bytes, in time that depends only on the length.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn hmac_matches_rfc_4231_test_case_2() {
        let mac = hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(mac.to_vec(), hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
    }

    #[test]
    fn sha256_of_abc() {
        assert_eq!(sha256(b"abc").to_vec(), hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    }

    #[test]
    fn cbc_matches_nist_sp_800_38a_f_2_5() {
        let key = hex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
        let iv: [u8; 16] = hex("000102030405060708090a0b0c0d0e0f").try_into().unwrap();
        let plaintext = hex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51");
        let ciphertext = hex("f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d");
        assert_eq!(aes256_cbc_encrypt(&key, &iv, &plaintext), Some(ciphertext.clone()));
        assert_eq!(aes256_cbc_decrypt(&key, &iv, &ciphertext).unwrap().to_vec(), plaintext);
        assert_eq!(aes256_cbc_encrypt(&key, &iv, &[0; 15]), None);
        assert!(aes256_cbc_decrypt(&key, &iv, &[0; 17]).is_none());
        assert!(aes256_cbc_decrypt(&key, &iv, &[]).is_none());
    }

    #[test]
    fn constant_time_eq_compares_lengths_and_bytes() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(constant_time_eq(b"", b""));
    }
}
