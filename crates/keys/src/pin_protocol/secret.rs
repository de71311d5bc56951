//! The shared secret of one key agreement and the pinUvAuthToken it unwraps (CTAP 2.1 §6.5.6, §6.5.7).

use std::fmt;

use aes::Aes256;
use cbc::cipher::array::Array;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use ciborium::Value;
use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use p256::ecdh::EphemeralSecret;
use p256::elliptic_curve::Generate;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::{Pin, PinProtocol, PinProtocolError, cose};

const BLOCK: usize = 16;
const KEY: usize = 32;
/// Protocol 1 tags are the left half of the 32-byte HMAC-SHA-256 output.
const V1_TAG: usize = 16;
/// pinHashEnc carries LEFT(SHA-256(PIN), 16).
const PIN_HASH: usize = 16;
/// newPinEnc carries the PIN zero-padded to exactly this many bytes (CTAP 2.1; 2.0 allowed more).
const PADDED_PIN: usize = 64;

const HKDF_SALT: [u8; 32] = [0; 32];
const HKDF_INFO_HMAC: &[u8] = b"CTAP2 HMAC key";
const HKDF_INFO_AES: &[u8] = b"CTAP2 AES key";

/// The shared secret of one key agreement with one authenticator (zeroized on drop).
///
/// Held as `[HMAC key, AES key]`: protocol 2's 64-byte secret is exactly that; protocol 1 uses its one
/// 32-byte secret for both, so it is stored twice.
pub struct SharedSecret {
    protocol: PinProtocol,
    keys: Zeroizing<[[u8; KEY]; 2]>,
}

impl SharedSecret {
    /// Takes the authenticator's keyAgreement COSE_Key (as a ciborium Value map
    /// `{1: 2, 3: -25, -1: 1, -2: x, -3: y}`), makes an ephemeral P-256 key, and returns the platform's
    /// COSE_Key (same shape, canonical key order 1, 3, -1, -2, -3) plus the secret.
    ///
    /// Each call makes a new ephemeral key, so call it once per request: an authenticator regenerates
    /// its own key after every wrong PIN, and then an old secret no longer matches anything.
    pub fn agree(protocol: PinProtocol, authenticator_key: &Value) -> Result<(Value, SharedSecret), PinProtocolError> {
        let peer = cose::decode(authenticator_key)?;
        let ephemeral = EphemeralSecret::generate_from_rng(&mut rand::rng());
        let z = ephemeral.diffie_hellman(&peer);
        let secret = Self::derive(protocol, z.raw_secret_bytes().as_ref());
        Ok((cose::encode(&ephemeral.public_key()), secret))
    }

    /// The KDF of §6.5.6 / §6.5.7 from Z, the x-coordinate of the ECDH result.
    fn derive(protocol: PinProtocol, z: &[u8]) -> Self {
        let mut keys = Zeroizing::new([[0; KEY]; 2]);
        let [hmac_key, aes_key] = &mut *keys;
        match protocol {
            PinProtocol::One => {
                // Straight into the zeroized storage: no stray copy of SHA-256(Z).
                let mut hasher = Sha256::new();
                hasher.update(z);
                hasher.finalize_into(hmac_key.into());
                aes_key.copy_from_slice(hmac_key);
            }
            PinProtocol::Two => {
                let hkdf = Hkdf::<Sha256>::new(Some(&HKDF_SALT), z);
                // 32 bytes is far below HKDF-SHA-256's limit of 255 × 32.
                hkdf.expand(HKDF_INFO_HMAC, hmac_key).expect("32-byte HKDF output");
                hkdf.expand(HKDF_INFO_AES, aes_key).expect("32-byte HKDF output");
            }
        }
        Self { protocol, keys }
    }

    pub fn protocol(&self) -> PinProtocol {
        self.protocol
    }

    fn hmac_key(&self) -> &[u8; KEY] {
        &self.keys[0]
    }

    fn aes_key(&self) -> &[u8; KEY] {
        &self.keys[1]
    }

    /// v1: AES-256-CBC zero IV; v2: random IV prepended.
    ///
    /// # Panics
    /// If `plaintext` is not a whole number of 16-byte blocks: CTAP never pads, so every plaintext it
    /// defines (PIN hash, padded PIN, salts) already is one, and anything else is a bug in the caller.
    pub fn encrypt(&self, plaintext: &[u8]) -> Vec<u8> {
        assert!(
            plaintext.len().is_multiple_of(BLOCK),
            "PIN/UV auth protocol plaintexts are whole AES blocks, got {} bytes",
            plaintext.len()
        );
        match self.protocol {
            PinProtocol::One => cbc_encrypt(self.aes_key(), &[0; BLOCK], plaintext),
            PinProtocol::Two => {
                let mut iv = [0; BLOCK];
                rand::fill(&mut iv);
                let mut out = iv.to_vec();
                out.extend(cbc_encrypt(self.aes_key(), &iv, plaintext));
                out
            }
        }
    }

    /// The inverse of [`SharedSecret::encrypt`]. CBC is not authenticated, so a wrong key or a tampered
    /// ciphertext decrypts to garbage rather than an error; only impossible lengths are refused.
    pub fn decrypt(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, PinProtocolError> {
        let (iv, body) = match self.protocol {
            PinProtocol::One => (&[0; BLOCK], ciphertext),
            PinProtocol::Two => ciphertext.split_first_chunk::<BLOCK>().ok_or(PinProtocolError::InvalidCiphertext)?,
        };
        if !body.len().is_multiple_of(BLOCK) {
            return Err(PinProtocolError::InvalidCiphertext);
        }
        Ok(cbc_decrypt(self.aes_key(), iv, body))
    }

    /// v1: first 16 bytes of HMAC-SHA-256; v2: 32 bytes (HMAC key = first 32 bytes of the 64-byte secret).
    pub fn authenticate(&self, message: &[u8]) -> Vec<u8> {
        tag(self.protocol, self.hmac_key(), message)
    }

    /// pinHashEnc = encrypt(LEFT(SHA-256(pin), 16))
    pub fn pin_hash_enc(&self, pin: &Pin) -> Vec<u8> {
        // The hash stands in for the PIN on the wire, so it is as secret as the PIN.
        let mut hash = Zeroizing::new([0; 32]);
        let mut hasher = Sha256::new();
        hasher.update(pin.utf8());
        hasher.finalize_into((&mut *hash).into());
        self.encrypt(&hash[..PIN_HASH])
    }

    /// newPinEnc = encrypt(pin UTF-8 zero-padded to exactly 64 bytes)
    pub fn new_pin_enc(&self, pin: &Pin) -> Vec<u8> {
        let mut padded = Zeroizing::new([0; PADDED_PIN]);
        // Pin guarantees at most 63 bytes, so at least one 0x00 ends it.
        padded[..pin.utf8().len()].copy_from_slice(pin.utf8());
        self.encrypt(&padded[..])
    }

    /// Decrypts a pinUvAuthToken (key 0x02 of the clientPIN response); checks its length (v1: 16 or 32; v2: 32).
    pub fn decrypt_token(&self, encrypted: &[u8]) -> Result<PinUvAuthToken, PinProtocolError> {
        let bytes = self.decrypt(encrypted)?;
        let allowed = match self.protocol {
            PinProtocol::One => matches!(bytes.len(), 16 | 32),
            PinProtocol::Two => bytes.len() == 32,
        };
        if !allowed {
            return Err(PinProtocolError::InvalidToken);
        }
        Ok(PinUvAuthToken { protocol: self.protocol, bytes })
    }
}

impl fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedSecret").field("protocol", &self.protocol).finish_non_exhaustive()
    }
}

/// A pinUvAuthToken (zeroized on drop; no Debug of the bytes).
///
/// Holding one is holding the permissions it was granted: whoever has the bytes can make
/// credentials or manage them until the authenticator expires the token.
pub struct PinUvAuthToken {
    protocol: PinProtocol,
    bytes: Zeroizing<Vec<u8>>,
}

impl PinUvAuthToken {
    pub fn protocol(&self) -> PinProtocol {
        self.protocol
    }

    /// pinUvAuthParam over `message`: e.g. clientDataHash for makeCredential/getAssertion,
    /// `subCommand ‖ CBOR(subCommandParams)` for credentialManagement.
    pub fn authenticate(&self, message: &[u8]) -> Vec<u8> {
        tag(self.protocol, &self.bytes, message)
    }
}

impl fmt::Debug for PinUvAuthToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PinUvAuthToken").field("protocol", &self.protocol).finish_non_exhaustive()
    }
}

/// authenticate(key, message) of §6.5.6 / §6.5.7: HMAC-SHA-256, cut to 16 bytes for protocol 1.
fn tag(protocol: PinProtocol, key: &[u8], message: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length; the error exists only for MACs that do not.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(message);
    let full = mac.finalize().into_bytes();
    match protocol {
        PinProtocol::One => full[..V1_TAG].to_vec(),
        PinProtocol::Two => full.to_vec(),
    }
}

fn cbc_encrypt(key: &[u8; KEY], iv: &[u8; BLOCK], plaintext: &[u8]) -> Vec<u8> {
    let mut buffer = plaintext.to_vec();
    let (blocks, rest) = Array::slice_as_chunks_mut(&mut buffer);
    debug_assert!(rest.is_empty(), "checked by the caller");
    cbc::Encryptor::<Aes256>::new(key.into(), iv.into()).encrypt_blocks(blocks);
    buffer
}

/// Decrypts into zeroize-on-drop storage from the start, so no plaintext copy is left behind.
fn cbc_decrypt(key: &[u8; KEY], iv: &[u8; BLOCK], ciphertext: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut buffer = Zeroizing::new(ciphertext.to_vec());
    let (blocks, rest) = Array::slice_as_chunks_mut(&mut buffer[..]);
    debug_assert!(rest.is_empty(), "checked by the caller");
    cbc::Decryptor::<Aes256>::new(key.into(), iv.into()).decrypt_blocks(blocks);
    buffer
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::pin_protocol::cose::tests::authenticator_key;
    use cbc::cipher::block_padding::NoPadding;
    use p256::elliptic_curve::sec1::{FromSec1Point, Sec1Point};
    use p256::{PublicKey, SecretKey};

    /// The authenticator's half of one key agreement, computed straight from the primitives and the
    /// spec's formulas, without this module's helpers, so a shared mistake cannot cancel out.
    pub(in crate::pin_protocol) struct StandIn {
        pub protocol: PinProtocol,
        pub hmac_key: [u8; 32],
        pub aes_key: [u8; 32],
    }

    impl StandIn {
        fn derive(protocol: PinProtocol, secret: &SecretKey, platform_key: &Value) -> Self {
            let entries = platform_key.as_map().unwrap();
            let (x, y) = (entries[3].1.as_bytes().unwrap(), entries[4].1.as_bytes().unwrap());
            let point = Sec1Point::<p256::NistP256>::from_affine_coordinates(
                x.as_slice().try_into().unwrap(),
                y.as_slice().try_into().unwrap(),
                false,
            );
            let platform = PublicKey::from_sec1_point(&point).unwrap();
            let z = p256::ecdh::diffie_hellman(secret.to_nonzero_scalar(), platform.as_affine());
            let z = z.raw_secret_bytes().as_slice();
            match protocol {
                PinProtocol::One => {
                    let key: [u8; 32] = Sha256::digest(z).into();
                    Self { protocol, hmac_key: key, aes_key: key }
                }
                PinProtocol::Two => {
                    let hkdf = Hkdf::<Sha256>::new(Some(&[0; 32]), z);
                    let (mut hmac_key, mut aes_key) = ([0; 32], [0; 32]);
                    hkdf.expand(b"CTAP2 HMAC key", &mut hmac_key).unwrap();
                    hkdf.expand(b"CTAP2 AES key", &mut aes_key).unwrap();
                    Self { protocol, hmac_key, aes_key }
                }
            }
        }

        pub fn decrypt(&self, ciphertext: &[u8]) -> Vec<u8> {
            let (iv, body) = match self.protocol {
                PinProtocol::One => ([0; 16], ciphertext),
                PinProtocol::Two => (ciphertext[..16].try_into().unwrap(), &ciphertext[16..]),
            };
            cbc::Decryptor::<Aes256>::new(&self.aes_key.into(), &iv.into())
                .decrypt_padded_vec::<NoPadding>(body)
                .unwrap()
        }

        pub fn encrypt(&self, plaintext: &[u8]) -> Vec<u8> {
            let iv = match self.protocol {
                PinProtocol::One => [0; 16],
                PinProtocol::Two => [0x5a; 16],
            };
            let body = cbc::Encryptor::<Aes256>::new(&self.aes_key.into(), &iv.into())
                .encrypt_padded_vec::<NoPadding>(plaintext);
            match self.protocol {
                PinProtocol::One => body,
                PinProtocol::Two => [iv.as_slice(), &body].concat(),
            }
        }

        pub fn mac(&self, message: &[u8]) -> Vec<u8> {
            hmac_sha256(self.protocol, &self.hmac_key, message)
        }
    }

    pub(in crate::pin_protocol) fn hmac_sha256(protocol: PinProtocol, key: &[u8], message: &[u8]) -> Vec<u8> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
        mac.update(message);
        let full = mac.finalize().into_bytes().to_vec();
        if protocol == PinProtocol::One { full[..16].to_vec() } else { full }
    }

    /// One key agreement between the platform code under test and a stand-in authenticator.
    pub(in crate::pin_protocol) fn agree(protocol: PinProtocol) -> (StandIn, Value, SharedSecret) {
        let (authenticator, authenticator_cose) = authenticator_key();
        let (platform_key, secret) = SharedSecret::agree(protocol, &authenticator_cose).unwrap();
        (StandIn::derive(protocol, &authenticator, &platform_key), platform_key, secret)
    }

    const PROTOCOLS: [PinProtocol; 2] = [PinProtocol::One, PinProtocol::Two];

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    /// Known answers for Z = 00 01 .. 1f, computed outside Rust with Python's hashlib, hmac and the
    /// `cryptography` package, so the values owe nothing to the crates used here.
    mod known_answers {
        use super::*;

        fn secret(protocol: PinProtocol) -> SharedSecret {
            SharedSecret::derive(protocol, &(0..32).collect::<Vec<u8>>())
        }

        #[test]
        fn protocol_one_key_is_sha256_of_z() {
            let key = hex("630dcd2966c4336691125448bbb25b4ff412a49c732db2c8abc1b8581bd710dd");
            let secret = secret(PinProtocol::One);
            assert_eq!(secret.hmac_key().as_slice(), key);
            assert_eq!(secret.aes_key().as_slice(), key);
        }

        #[test]
        fn protocol_two_keys_are_hkdf_of_z() {
            let secret = secret(PinProtocol::Two);
            let hmac_key = hex("a689b3b92a6ebab91192408da9c4f05c674a2bc5f938d613077716c719a8df39");
            let aes_key = hex("0f6ff2ef211829c11638ef2893ea02edf195658c0572393e7680d93bc2b58d44");
            assert_eq!(secret.hmac_key().as_slice(), hmac_key);
            assert_eq!(secret.aes_key().as_slice(), aes_key);
        }

        #[test]
        fn protocol_one_ciphertexts_and_tags() {
            let secret = secret(PinProtocol::One);
            let pin = Pin::new("1234", 4).unwrap();
            assert_eq!(secret.pin_hash_enc(&pin), hex("fe1c3681856425d10cb890b845e05b06"));
            assert_eq!(
                secret.new_pin_enc(&pin),
                hex("8ee0268f5f6c7d12a576d8df40763c922707ab0de43b8e43620b8d64c915fb73\
                     5ce6a227f45ac8a2a23b60d342d050d77fc5393988470a68e4ed9e9b85b1c980")
            );
            assert_eq!(secret.authenticate(b"message"), hex("0e1ed6c97a5536d6813284ba23672f5a"));
        }

        #[test]
        fn protocol_two_token_and_tags() {
            let secret = secret(PinProtocol::Two);
            assert_eq!(
                secret.authenticate(b"message"),
                hex("8ed41fb06108031d3e97613e4eb730eb882d7acdd3156b2abf9bc87cd0a9489d")
            );
            let encrypted = hex("000102030405060708090a0b0c0d0e0f\
                                 a48903bba9162306af6b7ff5085198213418baf9e9194dcdfb329378b5edc8bb");
            let token = secret.decrypt_token(&encrypted).unwrap();
            assert_eq!(*token.bytes, (1..=32).collect::<Vec<u8>>());
            assert_eq!(
                token.authenticate(&[7; 32]),
                hex("ba6d425bf7a7041826b310bb70d4b55d346a202d1fdd5d751bfd3b5ee0bb706c")
            );
        }
    }

    #[test]
    fn both_sides_derive_the_same_keys() {
        for protocol in PROTOCOLS {
            let (authenticator, _, secret) = agree(protocol);
            assert_eq!(secret.protocol(), protocol);
            assert_eq!(secret.hmac_key(), &authenticator.hmac_key, "{protocol:?}");
            assert_eq!(secret.aes_key(), &authenticator.aes_key, "{protocol:?}");
        }
    }

    #[test]
    fn protocol_two_keys_are_independent_halves() {
        let (_, _, secret) = agree(PinProtocol::Two);
        assert_ne!(secret.hmac_key(), secret.aes_key());
    }

    #[test]
    fn every_agreement_uses_a_fresh_ephemeral_key() {
        let (_, authenticator_cose) = authenticator_key();
        let (first, _) = SharedSecret::agree(PinProtocol::Two, &authenticator_cose).unwrap();
        let (second, _) = SharedSecret::agree(PinProtocol::Two, &authenticator_cose).unwrap();
        assert_ne!(first, second);
    }

    #[test]
    fn a_bad_authenticator_key_is_refused() {
        let error = SharedSecret::agree(PinProtocol::One, &Value::Map(vec![])).unwrap_err();
        assert_eq!(error, PinProtocolError::InvalidKeyAgreement("kty (1) missing"));
    }

    #[test]
    fn cbc_matches_the_nist_sp_800_38a_aes256_vector() {
        // SP 800-38A F.2.5 CBC-AES256.Encrypt, first two blocks.
        let key = hex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
        let iv = hex("000102030405060708090a0b0c0d0e0f");
        let plaintext = hex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51");
        let ciphertext = hex("f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d");
        let (key, iv) = (key.as_slice().try_into().unwrap(), iv.as_slice().try_into().unwrap());
        assert_eq!(cbc_encrypt(key, iv, &plaintext), ciphertext);
        assert_eq!(*cbc_decrypt(key, iv, &ciphertext), plaintext);
    }

    #[test]
    fn protocol_one_encrypts_with_a_zero_iv_deterministically() {
        let (authenticator, _, secret) = agree(PinProtocol::One);
        let plaintext: Vec<u8> = (0..48).collect();
        let expected = cbc::Encryptor::<Aes256>::new(&authenticator.aes_key.into(), &[0; 16].into())
            .encrypt_padded_vec::<NoPadding>(&plaintext);
        assert_eq!(secret.encrypt(&plaintext), expected);
        assert_eq!(secret.encrypt(&plaintext), expected);
        assert_eq!(*secret.decrypt(&expected).unwrap(), plaintext);
    }

    #[test]
    fn protocol_two_prepends_a_random_iv() {
        let (authenticator, _, secret) = agree(PinProtocol::Two);
        let plaintext: Vec<u8> = (0..32).collect();
        let ciphertext = secret.encrypt(&plaintext);
        assert_eq!(ciphertext.len(), 16 + 32);
        let iv: [u8; 16] = ciphertext[..16].try_into().unwrap();
        let expected = cbc::Encryptor::<Aes256>::new(&authenticator.aes_key.into(), &iv.into())
            .encrypt_padded_vec::<NoPadding>(&plaintext);
        assert_eq!(ciphertext[16..], expected);
        assert_ne!(secret.encrypt(&plaintext), ciphertext, "a new IV each time");
        assert_eq!(*secret.decrypt(&ciphertext).unwrap(), plaintext);
        assert_eq!(authenticator.decrypt(&ciphertext), plaintext);
    }

    #[test]
    fn decrypt_reads_what_the_authenticator_encrypts() {
        for protocol in PROTOCOLS {
            let (authenticator, _, secret) = agree(protocol);
            let plaintext = [0xa5; 64];
            assert_eq!(*secret.decrypt(&authenticator.encrypt(&plaintext)).unwrap(), plaintext, "{protocol:?}");
        }
    }

    #[test]
    fn decrypt_refuses_impossible_lengths() {
        let (_, _, one) = agree(PinProtocol::One);
        let (_, _, two) = agree(PinProtocol::Two);
        for len in [1, 15, 17, 33] {
            assert_eq!(one.decrypt(&vec![0; len]).unwrap_err(), PinProtocolError::InvalidCiphertext, "v1 {len}");
        }
        for len in [0, 1, 15, 17, 31, 33, 47] {
            assert_eq!(two.decrypt(&vec![0; len]).unwrap_err(), PinProtocolError::InvalidCiphertext, "v2 {len}");
        }
        // Nothing but whole blocks (and v2's IV) is an empty plaintext, not an error.
        assert!(one.decrypt(&[]).unwrap().is_empty());
        assert!(two.decrypt(&[0; 16]).unwrap().is_empty());
    }

    #[test]
    #[should_panic(expected = "whole AES blocks")]
    fn encrypting_a_partial_block_is_a_caller_bug() {
        let (_, _, secret) = agree(PinProtocol::Two);
        secret.encrypt(&[0; 15]);
    }

    #[test]
    fn authenticate_is_hmac_sha256_of_the_hmac_key_cut_for_protocol_one() {
        for (protocol, len) in [(PinProtocol::One, 16), (PinProtocol::Two, 32)] {
            let (authenticator, _, secret) = agree(protocol);
            let tag = secret.authenticate(b"message");
            assert_eq!(tag.len(), len, "{protocol:?}");
            assert_eq!(tag, authenticator.mac(b"message"), "{protocol:?}");
            assert_ne!(tag, secret.authenticate(b"other message"));
        }
    }

    #[test]
    fn pin_hash_enc_carries_the_left_half_of_sha256() {
        let pin = Pin::new("1234", 4).unwrap();
        let expected = &Sha256::digest(b"1234")[..16];
        for (protocol, len) in [(PinProtocol::One, 16), (PinProtocol::Two, 32)] {
            let (authenticator, _, secret) = agree(protocol);
            let pin_hash_enc = secret.pin_hash_enc(&pin);
            assert_eq!(pin_hash_enc.len(), len, "{protocol:?}");
            assert_eq!(authenticator.decrypt(&pin_hash_enc), expected, "{protocol:?}");
        }
    }

    #[test]
    fn new_pin_enc_carries_the_pin_zero_padded_to_64_bytes() {
        let pin = Pin::new("caf\u{65}\u{301}-🔑", 4).unwrap();
        let mut expected = "caf\u{e9}-🔑".as_bytes().to_vec();
        expected.resize(64, 0);
        for (protocol, len) in [(PinProtocol::One, 64), (PinProtocol::Two, 80)] {
            let (authenticator, _, secret) = agree(protocol);
            let new_pin_enc = secret.new_pin_enc(&pin);
            assert_eq!(new_pin_enc.len(), len, "{protocol:?}");
            assert_eq!(authenticator.decrypt(&new_pin_enc), expected, "{protocol:?}");
        }
    }

    #[test]
    fn a_63_byte_pin_still_ends_in_a_zero_byte() {
        let pin = Pin::new(&"7".repeat(63), 4).unwrap();
        let (authenticator, _, secret) = agree(PinProtocol::Two);
        let padded = authenticator.decrypt(&secret.new_pin_enc(&pin));
        assert_eq!(padded[..63], [b'7'; 63]);
        assert_eq!(padded[63], 0);
    }

    #[test]
    fn decrypt_token_accepts_the_lengths_each_protocol_allows() {
        let cases = [
            (PinProtocol::One, 16, true),
            (PinProtocol::One, 32, true),
            (PinProtocol::One, 0, false),
            (PinProtocol::One, 48, false),
            (PinProtocol::Two, 32, true),
            (PinProtocol::Two, 16, false),
            (PinProtocol::Two, 0, false),
            (PinProtocol::Two, 64, false),
        ];
        for (protocol, len, allowed) in cases {
            let (authenticator, _, secret) = agree(protocol);
            let token = vec![0x42; len];
            match secret.decrypt_token(&authenticator.encrypt(&token)) {
                Ok(decrypted) => {
                    assert!(allowed, "{protocol:?} {len}");
                    assert_eq!(decrypted.protocol(), protocol);
                    assert_eq!(*decrypted.bytes, token);
                }
                Err(error) => {
                    assert!(!allowed, "{protocol:?} {len}");
                    assert_eq!(error, PinProtocolError::InvalidToken);
                }
            }
        }
    }

    #[test]
    fn decrypt_token_refuses_a_truncated_ciphertext() {
        let (authenticator, _, secret) = agree(PinProtocol::Two);
        let encrypted = authenticator.encrypt(&[1; 32]);
        assert_eq!(secret.decrypt_token(&encrypted[..47]).unwrap_err(), PinProtocolError::InvalidCiphertext);
    }

    #[test]
    fn the_token_authenticates_with_itself_as_the_key() {
        for (protocol, len) in [(PinProtocol::One, 16), (PinProtocol::One, 32), (PinProtocol::Two, 32)] {
            let (authenticator, _, secret) = agree(protocol);
            let token_bytes: Vec<u8> = (0..len as u8).collect();
            let token = secret.decrypt_token(&authenticator.encrypt(&token_bytes)).unwrap();
            let client_data_hash = [7; 32];
            let param = token.authenticate(&client_data_hash);
            assert_eq!(param, hmac_sha256(protocol, &token_bytes, &client_data_hash), "{protocol:?} {len}");
            assert_eq!(param.len(), if protocol == PinProtocol::One { 16 } else { 32 });
        }
    }

    #[test]
    fn debug_shows_the_protocol_and_never_the_secret() {
        let (authenticator, _, secret) = agree(PinProtocol::Two);
        let token = secret.decrypt_token(&authenticator.encrypt(&[0xab; 32])).unwrap();

        assert_eq!(format!("{secret:?}"), "SharedSecret { protocol: Two, .. }");
        assert_eq!(format!("{token:?}"), "PinUvAuthToken { protocol: Two, .. }");
        // Neither the bytes nor their length: the multi-line form has no digit at all.
        let shown = format!("{secret:#?} {token:#?}");
        assert!(!shown.chars().any(|c| c.is_ascii_digit()), "{shown}");
    }
}
