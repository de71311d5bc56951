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
use zeroize::{Zeroize, ZeroizeOnDrop};

/// CTAP 2.1: eight PIN attempts in all.
pub const MAX_PIN_RETRIES: u8 = 8;

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
    #[serde(default = "fresh_secret")]
    pub wrapping_secret: [u8; 32],
}

fn fresh_secret() -> [u8; 32] {
    rand::random()
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
        Self { pin_retries: MAX_PIN_RETRIES, min_pin_length, wrapping_secret: fresh_secret(), ..Self::default() }
    }

    pub fn load(path: &Path) -> std::io::Result<Self> {
        let text = std::fs::read(path)?;
        serde_json::from_slice(&text).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
    }

    /// Writes to a temporary file and renames it over the old one, so a crash mid-write
    /// never leaves a half-written key behind.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let json = serde_json::to_vec(self).map_err(std::io::Error::other)?;
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
}

fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}
