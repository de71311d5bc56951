//! The virtual key as its owner holds it: plug it in, touch it, look at what it stores.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicU32, Ordering},
};

use crate::{
    attestation::{AttestationCa, AttestationIdentity},
    authenticator::Authenticator,
    config::{KeyModel, VirtualKeyConfig},
    hid::HidDevice,
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
}

#[derive(Debug, thiserror::Error)]
pub enum VirtualKeyError {
    #[error("the virtual key's state file {path} could not be read: {source}")]
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
        if config.min_pin_length < 4 {
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
        let shared = Shared { config, touch, attestation, winks: AtomicU32::new(0), state: Mutex::new(state) };
        Ok(Self { shared: Arc::new(shared) })
    }

    /// Plugs the key in: a fresh power cycle serving CTAPHID on its own thread.
    pub fn plug_in(&self) -> HidDevice {
        HidDevice::plug_in(Authenticator::new(self.shared.clone()))
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
