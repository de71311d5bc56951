//! What a key remembers across power cycles: its PIN, retries, policy and credentials.
//! Optionally kept in a JSON file so that a demo key survives restarts.
//!
//! The file holds private keys and the PIN's hash, like a real key's flash. It is written
//! with owner-only permissions and is meant for demo and test keys only.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// CTAP 2.1: eight PIN attempts in all.
pub const MAX_PIN_RETRIES: u8 = 8;
/// CTAP 2.1's floor for minPINLength, in code points.
pub const MIN_PIN_LENGTH: usize = 4;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PersistentState {
    pub pin: Option<StoredPin>,
    pub pin_retries: u8,
    pub min_pin_length: usize,
    pub force_pin_change: bool,
    /// One counter for the whole key, incremented by every signature.
    pub sign_count: u32,
    pub credentials: Vec<Credential>,
    /// Orders credentials by creation, newest first in getAssertion.
    pub next_serial: u64,
    /// Encrypts non-discoverable credentials into their ids; a reset replaces it, which
    /// voids every such credential, as on a real key.
    #[serde(default)]
    pub wrapping_secret: WrappingSecret,
}

/// The key's master secret for non-discoverable credentials: never shown by `Debug`, wiped
/// from memory when dropped. A new one (`Default`) is random.
#[derive(Clone, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(transparent)]
pub struct WrappingSecret([u8; 32]);

impl WrappingSecret {
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl Default for WrappingSecret {
    fn default() -> Self {
        Self(rand::random())
    }
}

impl From<[u8; 32]> for WrappingSecret {
    fn from(secret: [u8; 32]) -> Self {
        Self(secret)
    }
}

impl std::fmt::Debug for WrappingSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WrappingSecret(..)")
    }
}

/// LEFT(SHA-256(PIN), 16) and the PIN's length in code points (for minPINLength checks).
#[derive(Clone, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct StoredPin {
    pub hash: [u8; 16],
    pub code_points: usize,
}

impl std::fmt::Debug for StoredPin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoredPin(..)")
    }
}

#[derive(Clone, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct Credential {
    pub id: Vec<u8>,
    pub rp_id: String,
    pub rp_name: Option<String>,
    pub user_id: Vec<u8>,
    pub user_name: Option<String>,
    pub user_display_name: Option<String>,
    /// The P-256 private scalar.
    pub private_key: [u8; 32],
    pub discoverable: bool,
    /// credProtect level 1, 2 or 3.
    pub cred_protect: u8,
    /// hmac-secret's CredRandomWithUV and CredRandomWithoutUV, when requested.
    pub hmac_secret: Option<([u8; 32], [u8; 32])>,
    pub serial: u64,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential").field("rp_id", &self.rp_id).field("discoverable", &self.discoverable).finish_non_exhaustive()
    }
}

impl PersistentState {
    pub fn new(min_pin_length: usize) -> Self {
        Self { pin_retries: MAX_PIN_RETRIES, min_pin_length, ..Self::default() }
    }

    /// The file holds private keys, so its bytes are wiped once parsed. A file that parses
    /// but describes no key this code would have written (edited by hand, or corrupted) is
    /// refused here: the key thread trusts its state and would otherwise panic on it later.
    pub fn load(path: &Path) -> std::io::Result<Self> {
        let json = Zeroizing::new(std::fs::read(path)?);
        let state: Self = serde_json::from_slice(&json).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        state.check().map_err(|problem| std::io::Error::new(std::io::ErrorKind::InvalidData, problem))?;
        Ok(state)
    }

    /// What a key written by this code always satisfies. The messages say which field is
    /// wrong, never what it holds.
    fn check(&self) -> Result<(), String> {
        if self.pin_retries > MAX_PIN_RETRIES {
            return Err(format!("pin_retries is above {MAX_PIN_RETRIES}"));
        }
        if self.min_pin_length < MIN_PIN_LENGTH {
            return Err(format!("min_pin_length is below {MIN_PIN_LENGTH}"));
        }
        for (index, credential) in self.credentials.iter().enumerate() {
            if p256::SecretKey::from_slice(&credential.private_key).is_err() {
                return Err(format!("credential {index}'s private key is not a P-256 private key"));
            }
            if !(1..=3).contains(&credential.cred_protect) {
                return Err(format!("credential {index}'s credProtect level is not 1, 2 or 3"));
            }
        }
        Ok(())
    }

    /// Writes to a temporary file and renames it over the old one, so a crash mid-write
    /// never leaves a half-written key behind.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let json = self.to_json()?;
        let tmp = temp_path(path);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp)?;
        file.write_all(&json)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    }

    /// The JSON in a buffer sized exactly beforehand: a growing buffer would leave copies of
    /// the private keys behind in the memory it gave up, where zeroizing cannot reach.
    fn to_json(&self) -> std::io::Result<Zeroizing<Vec<u8>>> {
        let mut length = ByteCount(0);
        serde_json::to_writer(&mut length, self).map_err(std::io::Error::other)?;
        let mut json = Zeroizing::new(Vec::with_capacity(length.0));
        serde_json::to_writer(&mut *json, self).map_err(std::io::Error::other)?;
        debug_assert_eq!(json.len(), length.0);
        Ok(json)
    }
}

/// A writer that only counts.
struct ByteCount(usize);

impl Write for ByteCount {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0 += bytes.len();
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credential(private_key: [u8; 32]) -> Credential {
        Credential {
            id: vec![1; 48],
            rp_id: "example.com".into(),
            rp_name: None,
            user_id: vec![2],
            user_name: Some("ada".into()),
            user_display_name: None,
            private_key,
            discoverable: true,
            cred_protect: 1,
            hmac_secret: Some(([0xA1; 32], [0xA2; 32])),
            serial: 0,
        }
    }

    /// A state whose every secret is a run of one recognisable byte.
    fn state_with_secrets() -> PersistentState {
        let mut state = PersistentState::new(4);
        state.wrapping_secret = [0xAB; 32].into();
        state.pin = Some(StoredPin { hash: [0xEF; 16], code_points: 4 });
        state.credentials.push(credential([0xCD; 32]));
        state
    }

    #[test]
    fn debug_output_shows_no_secret() {
        let debug = format!("{:?} {:#?}", state_with_secrets(), state_with_secrets());
        // Debug writes bytes in decimal.
        for byte in [0xABu8, 0xCD, 0xEF, 0xA1, 0xA2] {
            assert!(!debug.contains(&byte.to_string()), "{byte} in {debug}");
        }
        assert!(debug.contains("example.com"), "the rest is still there: {debug}");
    }
}
