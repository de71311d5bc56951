//! The virtual key as its owner holds it: plug it in, touch it, look at what it stores.

use std::sync::{
    Arc, Mutex, PoisonError,
    atomic::{AtomicU32, Ordering},
};

use crate::{
    attestation::{AttestationCa, AttestationIdentity},
    authenticator::Authenticator,
    config::{KeyModel, VirtualKeyConfig},
    hid::{HidDevice, WeakHidDevice},
    state::PersistentState,
    touch::Touch,
};

/// A virtual security key. Its memory (PIN, credentials) outlives each plug-in, as on a
/// real key; each plug-in is a power cycle.
#[derive(Clone)]
pub struct VirtualKey {
    shared: Arc<Shared>,
}

/// What the key and every authenticator instance it powers up share.
pub(crate) struct Shared {
    pub config: VirtualKeyConfig,
    pub touch: Touch,
    pub attestation: AttestationIdentity,
    pub winks: AtomicU32,
    state: Mutex<PersistentState>,
    /// Where the key is plugged in now, if anywhere.
    plugged: Mutex<WeakHidDevice>,
}

#[derive(Debug, thiserror::Error)]
pub enum VirtualKeyError {
    #[error("the virtual key's state file {path} could not be used: {source}")]
    StateFile { path: String, source: std::io::Error },
    #[error("the virtual key's attestation could not be set up: {0}")]
    Attestation(String),
    #[error("minPINLength must be at least 4, not {0}")]
    MinPinLength(usize),
}

/// A stored credential as tests and the demo see it (no private key).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialSummary {
    pub id: Vec<u8>,
    pub rp_id: String,
    pub user_id: Vec<u8>,
    pub discoverable: bool,
}

impl VirtualKey {
    /// A key with its state from `config.state_file` if that file exists, else blank.
    pub fn new(config: VirtualKeyConfig) -> Result<Self, VirtualKeyError> {
        if config.min_pin_length < crate::state::MIN_PIN_LENGTH {
            return Err(VirtualKeyError::MinPinLength(config.min_pin_length));
        }
        let state = match &config.state_file {
            Some(path) if path.exists() => PersistentState::load(path)
                .map_err(|source| VirtualKeyError::StateFile { path: path.display().to_string(), source })?,
            _ => PersistentState::new(config.min_pin_length),
        };
        Self::with_ca(config, state, AttestationCa::tap2key_test())
    }

    fn with_ca(config: VirtualKeyConfig, state: PersistentState, ca: &AttestationCa) -> Result<Self, VirtualKeyError> {
        let attestation = ca
            .issue(config.model.aaguid, &config.model.name)
            .map_err(|e| VirtualKeyError::Attestation(e.to_string()))?;
        let touch = Touch::new(config.touch);
        let shared = Shared {
            config,
            touch,
            attestation,
            winks: AtomicU32::new(0),
            state: Mutex::new(state),
            plugged: Mutex::default(),
        };
        Ok(Self { shared: Arc::new(shared) })
    }

    /// Plugs the key in: a fresh power cycle serving CTAPHID on its own thread. A key is in
    /// one port at a time, so if it was plugged in elsewhere it is pulled out of there first
    /// (that device then reads as unplugged).
    pub fn plug_in(&self) -> HidDevice {
        let mut plugged = self.shared.plugged.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(previous) = plugged.upgrade() {
            // Its thread may have died of a handler panic, which `unplug` re-raises; that
            // was reported when it happened and must not take this caller down too.
            let unplugged = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| previous.unplug()));
            if unplugged.is_err() {
                tracing::error!("the virtual key had crashed before it was plugged in again");
            }
        }
        let device = HidDevice::plug_in(Authenticator::new(self.shared.clone()));
        *plugged = device.downgrade();
        device
    }

    /// The key's sensor, for whoever plays the user.
    pub fn touch(&self) -> &Touch {
        &self.shared.touch
    }

    pub fn model(&self) -> &KeyModel {
        &self.shared.config.model
    }

    /// The root of the CA that signed this key's attestation certificate.
    pub fn attestation_root_der(&self) -> &'static [u8] {
        AttestationCa::tap2key_test().root_certificate_der()
    }

    pub fn has_pin(&self) -> bool {
        self.shared.read(|s| s.pin.is_some())
    }

    pub fn pin_retries(&self) -> u8 {
        self.shared.read(|s| s.pin_retries)
    }

    pub fn credentials(&self) -> Vec<CredentialSummary> {
        self.shared.read(|s| {
            s.credentials
                .iter()
                .map(|c| CredentialSummary {
                    id: c.id.clone(),
                    rp_id: c.rp_id.clone(),
                    user_id: c.user_id.clone(),
                    discoverable: c.discoverable,
                })
                .collect()
        })
    }

    /// What an administrator's authenticatorConfig would do: demand a new PIN.
    pub fn force_pin_change(&self) {
        self.shared.update(|s| s.force_pin_change = true);
    }

    pub fn winks(&self) -> u32 {
        self.shared.winks.load(Ordering::Relaxed)
    }
}

impl Shared {
    pub fn read<R>(&self, f: impl FnOnce(&PersistentState) -> R) -> R {
        f(&self.lock())
    }

    /// Changes the state and writes it through to the state file, like a key's flash.
    pub fn update<R>(&self, f: impl FnOnce(&mut PersistentState) -> R) -> R {
        let mut state = self.lock();
        let result = f(&mut state);
        self.persist(&state);
        result
    }

    /// Like `update`, but an `Err` leaves the state untouched.
    pub fn try_update<R, E>(&self, f: impl FnOnce(&mut PersistentState) -> Result<R, E>) -> Result<R, E> {
        let mut state = self.lock();
        let mut draft = state.clone();
        let result = f(&mut draft)?;
        *state = draft;
        self.persist(&state);
        Ok(result)
    }

    fn persist(&self, state: &PersistentState) {
        if let Some(path) = &self.config.state_file
            && let Err(error) = state.save(path)
        {
            tracing::warn!(%error, path = %path.display(), "the virtual key could not save its state");
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PersistentState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Credential;

    /// A state file in a directory of its own, removed when dropped.
    struct StateFile(std::path::PathBuf);

    impl StateFile {
        fn new(name: &str) -> Self {
            let dir = std::env::temp_dir().join(format!("tap2key-state-{name}-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            Self(dir.join("key.json"))
        }

        fn open_key_with(&self, state: &PersistentState) -> Result<VirtualKey, VirtualKeyError> {
            state.save(&self.0).unwrap();
            VirtualKey::new(VirtualKeyConfig { state_file: Some(self.0.clone()), ..VirtualKeyConfig::default() })
        }
    }

    impl Drop for StateFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(self.0.parent().unwrap());
        }
    }

    fn credential(private_key: [u8; 32]) -> Credential {
        Credential {
            id: vec![1; 48],
            rp_id: "example.com".into(),
            rp_name: None,
            user_id: vec![2],
            user_name: None,
            user_display_name: None,
            private_key,
            discoverable: true,
            cred_protect: 1,
            hmac_secret: None,
            serial: 0,
        }
    }

    #[test]
    fn a_corrupt_state_file_is_an_error_not_a_key_that_panics_later() {
        let file = StateFile::new("corrupt");
        let mut valid = PersistentState::new(4);
        valid.credentials.push(credential([7; 32]));
        assert!(file.open_key_with(&valid).is_ok());

        // Zero and the group order are not P-256 private keys.
        let order = [
            0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad,
            0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
        ];
        for scalar in [[0; 32], order] {
            let mut state = valid.clone();
            state.credentials.push(credential(scalar));
            assert!(matches!(file.open_key_with(&state), Err(VirtualKeyError::StateFile { .. })));
        }
        let mut state = valid.clone();
        state.pin_retries = 9;
        assert!(matches!(file.open_key_with(&state), Err(VirtualKeyError::StateFile { .. })));
        let mut state = valid.clone();
        state.min_pin_length = 3;
        assert!(matches!(file.open_key_with(&state), Err(VirtualKeyError::StateFile { .. })));
        let mut state = valid.clone();
        state.credentials[0].cred_protect = 4;
        assert!(matches!(file.open_key_with(&state), Err(VirtualKeyError::StateFile { .. })));
    }

    #[test]
    fn the_error_names_the_problem_but_no_secret() {
        let file = StateFile::new("message");
        let mut state = PersistentState::new(4);
        state.credentials.push(credential([0; 32]));
        let Err(error) = file.open_key_with(&state) else { panic!("a zero private key was accepted") };
        let message = error.to_string();
        assert!(message.contains("private key"), "{message}");
    }
}
