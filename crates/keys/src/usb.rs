//! Physical keys over USB HID, through ctap-hid-fido2.
//!
//! What that crate hides shapes this file: its errors are text (the CTAP status is parsed
//! back out of them), it prints "touch the sensor" unless told not to, it reports no
//! keepalives (so "touch needed" is announced when a request that needs a touch is sent),
//! it takes a PIN rather than a token for makeCredential and getAssertion (it gets a CTAP
//! 2.0 token for each call itself), and it hashes the clientDataJSON itself.

use std::{
    panic::AssertUnwindSafe,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use ctap_hid_fido2::{
    FidoKeyHid, HidParam, LibCfg,
    fidokey::{GetAssertionArgsBuilder, MakeCredentialArgsBuilder},
    public_key_credential_descriptor::PublicKeyCredentialDescriptor,
    public_key_credential_user_entity::PublicKeyCredentialUserEntity,
};

use crate::{
    attestation_object,
    ctaphid::CancelToken,
    error::KeyError,
    info::{AuthenticatorInfo, DEFAULT_MIN_PIN_LENGTH},
    key::{Assertion, Events, GetAssertionRequest, Key, KeyEvent, MakeCredentialRequest, NewCredential, PinRetries},
    pin_protocol::Pin,
    shared,
};

/// A FIDO2 key on USB, by its hidraw path.
pub struct UsbKey {
    device: Arc<FidoKeyHid>,
    path: String,
}

/// The library's settings: silent (its messages would land on our stdout) and CTAP 2.1
/// credential management rather than the 2.1-PRE prototype.
fn library_config() -> LibCfg {
    let mut config = LibCfg::init();
    config.enable_log = false;
    config.enable_keep_alive_msg = false;
    config.keep_alive_msg = String::new();
    config.use_pre_credential_management = false;
    config
}

/// The hidraw paths of the FIDO keys plugged in now. Never blocks; empty with no key, and
/// empty too where hidapi cannot start at all.
pub fn connected_paths() -> Vec<String> {
    with_hidapi(ctap_hid_fido2::get_fidokey_devices)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|device| match device.param {
            HidParam::Path(path) => Some(path),
            HidParam::VidPid { .. } => None,
        })
        .collect()
}

/// Set once ctap-hid-fido2 has panicked: hidapi that did not start (no access to udev, say)
/// will not start on the next poll either, and each try would print a panic message.
static HIDAPI_UNAVAILABLE: AtomicBool = AtomicBool::new(false);

/// Runs a ctap-hid-fido2 call that starts hidapi. It panics where hidapi cannot start
/// (`HidApi::new().expect(..)`); for us that means "no USB keys", not a crash.
fn with_hidapi<R>(run: impl FnOnce() -> R) -> Option<R> {
    if HIDAPI_UNAVAILABLE.load(Ordering::Relaxed) {
        return None;
    }
    let result = without_panics(run);
    if result.is_none() && !HIDAPI_UNAVAILABLE.swap(true, Ordering::Relaxed) {
        tracing::warn!("USB security keys are unavailable: hidapi did not start");
    }
    result
}

fn without_panics<R>(run: impl FnOnce() -> R) -> Option<R> {
    std::panic::catch_unwind(AssertUnwindSafe(run)).ok()
}

impl UsbKey {
    pub fn open(path: &str) -> Result<Self, KeyError> {
        let config = library_config();
        let opened = with_hidapi(|| FidoKeyHid::new(&[HidParam::Path(path.to_owned())], &config))
            .ok_or_else(|| KeyError::Transport("USB HID is not available (hidapi did not start)".into()))?;
        let mut device = opened.map_err(|e| {
            if connected_paths().iter().any(|p| p == path) {
                KeyError::Transport(format!("{path} could not be opened (permissions?): {e}"))
            } else {
                KeyError::Removed
            }
        })?;
        // PIN protocol 2 where the key offers it; ctap-hid-fido2 defaults to 1.
        device.set_pin_uv_auth_protocol_two().map_err(|e| usb_error(&e))?;
        Ok(Self { device: Arc::new(device), path: path.to_owned() })
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// Runs a request that waits for a touch, cancelling it from a watcher thread when
    /// `cancel` fires (CTAPHID_CANCEL on the device's channel).
    fn with_cancel<R>(&self, cancel: &CancelToken, run: impl FnOnce(&FidoKeyHid) -> Result<R, String>) -> Result<R, KeyError> {
        let done = CancelToken::new();
        let watcher = {
            let (device, cancel, done) = (self.device.clone(), cancel.clone(), done.clone());
            std::thread::spawn(move || {
                cancel_until_done(&cancel, &done, || drop(device.cancel_selection()));
            })
        };
        let result = run(&self.device).map_err(|e| usb_error(&e));
        done.cancel();
        let _ = watcher.join();
        result
    }

    /// `ids` cut down to what the key takes in one list (see [`shared::fit_list`]). The probes
    /// carry the PIN when there is one (ctap-hid-fido2 turns it into a CTAP 2.0 token, good
    /// for getAssertion), so they find credProtect=3 credentials too.
    fn fit_list(&mut self, rp_id: &str, ids: &[Vec<u8>], pin: Option<&Pin>) -> Result<Vec<Vec<u8>>, KeyError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let info = self.info()?;
        shared::fit_list(ids, &info, |batch| {
            // The probe signs nothing a relying party sees.
            let challenge: [u8; 32] = rand::random();
            let mut builder = GetAssertionArgsBuilder::new(rp_id, &challenge).without_up();
            builder = match pin {
                Some(pin) => builder.pin(pin.as_str()),
                None => builder.without_pin_and_uv(),
            };
            for id in batch {
                builder = builder.add_credential_id(id);
            }
            match self.device.get_assertion_with_args(&builder.build()).map_err(|e| usb_error(&e)) {
                Ok(mut found) if !found.is_empty() => Ok(Some(found.swap_remove(0).credential_id)),
                Ok(_) | Err(KeyError::NoCredentials) => Ok(None),
                Err(other) => Err(other),
            }
        })
    }

    /// A wrong PIN with the number of attempts left, as the PIN screen shows it.
    fn with_retries(&mut self, error: KeyError) -> KeyError {
        shared::with_pin_retries(error, || self.pin_retries())
    }
}

/// How often CTAPHID_CANCEL is repeated until the request ends.
const CANCEL_EVERY: Duration = Duration::from_millis(100);
/// How often the watcher looks whether to cancel.
const CANCEL_POLL: Duration = Duration::from_millis(50);

/// Once `cancel` fires, calls `send_cancel` every [`CANCEL_EVERY`] until `done`. One CANCEL
/// is not enough: it can reach the key before the request does (ctap-hid-fido2 may still be
/// writing it), and a key ignores CANCEL with nothing pending.
fn cancel_until_done(cancel: &CancelToken, done: &CancelToken, send_cancel: impl Fn()) {
    while !done.is_cancelled() {
        if cancel.is_cancelled() {
            send_cancel();
            std::thread::sleep(CANCEL_EVERY);
        } else {
            std::thread::sleep(CANCEL_POLL);
        }
    }
}

impl Key for UsbKey {
    fn info(&mut self) -> Result<AuthenticatorInfo, KeyError> {
        let info = self.device.get_info().map_err(|e| usb_error(&e))?;
        let aaguid = info.aaguid.as_slice().try_into().map_err(|_| KeyError::Protocol("aaguid is not 16 bytes".into()))?;
        let algorithms = info
            .algorithms
            .iter()
            .filter(|(name, _)| name == "alg")
            .filter_map(|(_, value)| value.parse().ok())
            .collect();
        Ok(AuthenticatorInfo {
            versions: info.versions,
            extensions: info.extensions,
            aaguid,
            options: info.options.into_iter().collect(),
            max_msg_size: u64::try_from(info.max_msg_size).ok().filter(|&s| s > 0),
            pin_uv_auth_protocols: info.pin_uv_auth_protocols.iter().filter_map(|&p| u8::try_from(p).ok()).collect(),
            max_credential_count_in_list: Some(info.max_credential_count_in_list.into()).filter(|&n| n > 0),
            max_credential_id_length: Some(info.max_credential_id_length.into()).filter(|&n| n > 0),
            transports: info.transports,
            algorithms,
            force_pin_change: info.force_pin_change,
            // Absent reads as 0 in ctap-hid-fido2; CTAP's default is 4.
            min_pin_length: usize::try_from(info.min_pin_length).ok().filter(|&l| l > 0).unwrap_or(DEFAULT_MIN_PIN_LENGTH),
            firmware_version: Some(info.firmware_version.into()).filter(|&v| v > 0),
            remaining_discoverable_credentials: Some(info.remaining_discoverable_credentials.into()).filter(|&r| r > 0),
        })
    }

    fn pin_retries(&mut self) -> Result<PinRetries, KeyError> {
        let retries = self.device.get_pin_retries().map_err(|e| usb_error(&e))?;
        // ctap-hid-fido2 drops powerCycleState; a key that wants re-plugging says so with
        // PIN_AUTH_BLOCKED on the next attempt instead.
        Ok(PinRetries { retries: u8::try_from(retries).unwrap_or(0), power_cycle_required: false })
    }

    fn set_pin(&mut self, pin: &Pin) -> Result<(), KeyError> {
        let result = self.device.set_new_pin(pin.as_str()).map_err(|e| usb_error(&e));
        result.map_err(|error| self.with_retries(error))
    }

    fn change_pin(&mut self, current: &Pin, new: &Pin) -> Result<(), KeyError> {
        let result = self.device.change_pin(current.as_str(), new.as_str()).map_err(|e| usb_error(&e));
        result.map_err(|error| self.with_retries(error))
    }

    fn verify_pin(&mut self, pin: &Pin, _rp_id: &str) -> Result<(), KeyError> {
        // ctap-hid-fido2 fetches its own token per ceremony, so this only checks the PIN.
        match self.device.get_pin_token(pin.as_str()).map_err(|e| usb_error(&e)) {
            Ok(_token) => Ok(()),
            Err(KeyError::PinPolicyViolation) => Err(KeyError::PinChangeRequired),
            Err(error) => Err(self.with_retries(error)),
        }
    }

    fn make_credential(&mut self, request: &MakeCredentialRequest, pin: Option<&Pin>, events: Events<'_>, cancel: &CancelToken) -> Result<NewCredential, KeyError> {
        let user = PublicKeyCredentialUserEntity::new(Some(&request.user_id), Some(&request.user_name), Some(&request.user_display_name));
        let mut builder = MakeCredentialArgsBuilder::new(&request.rp_id, &request.client_data_json).user_entity(&user);
        builder = match pin {
            Some(pin) => builder.pin(pin.as_str()),
            None => builder.without_pin_and_uv(),
        };
        if request.resident_key {
            builder = builder.resident_key();
        }
        let exclude_list = self.fit_list(&request.rp_id, &request.exclude_list, pin).map_err(|error| self.with_retries(error))?;
        for id in &exclude_list {
            builder = builder.exclude_authenticator(id);
        }
        let extensions = shared::make_credential_extensions(request)?;
        if !extensions.is_empty() {
            builder = builder.extensions(&extensions);
        }
        let args = builder.build();
        events(KeyEvent::TouchNeeded);
        // ctap-hid-fido2 turns the PIN into a token inside this call: a wrong PIN shows here.
        let attestation = self
            .with_cancel(cancel, |device| device.make_credential_with_args(&args).map_err(|e| e.to_string()))
            .map_err(|error| self.with_retries(error))?;
        attestation_object::new_credential(attestation)
    }

    fn get_assertion(&mut self, request: &GetAssertionRequest, pin: Option<&Pin>, events: Events<'_>, cancel: &CancelToken) -> Result<Assertion, KeyError> {
        let mut builder = GetAssertionArgsBuilder::new(&request.rp_id, &request.client_data_json);
        builder = match pin {
            Some(pin) => builder.pin(pin.as_str()),
            None => builder.without_pin_and_uv(),
        };
        let allow_list = self.fit_list(&request.rp_id, &request.allow_list, pin).map_err(|error| self.with_retries(error))?;
        if allow_list.is_empty() && !request.allow_list.is_empty() {
            // Sending no list would ask for any discoverable credential instead.
            return Err(KeyError::NoCredentials);
        }
        for id in &allow_list {
            builder = builder.add_credential_id(id);
        }
        let args = builder.build();
        events(KeyEvent::TouchNeeded);
        let mut assertions = self
            .with_cancel(cancel, |device| device.get_assertion_with_args(&args).map_err(|e| e.to_string()))
            .map_err(|error| self.with_retries(error))?;
        let assertion = if assertions.is_empty() { return Err(KeyError::NoCredentials) } else { assertions.remove(0) };
        Ok(Assertion {
            credential_id: assertion.credential_id,
            authenticator_data: assertion.auth_data,
            signature: assertion.signature,
            user_handle: Some(assertion.user.id).filter(|id| !id.is_empty()),
        })
    }

    fn delete_credential(&mut self, credential_id: &[u8], pin: &Pin) -> Result<(), KeyError> {
        let descriptor = PublicKeyCredentialDescriptor { id: credential_id.to_vec(), ctype: "public-key".into() };
        let result = self.device.credential_management_delete_credential(Some(pin.as_str()), descriptor).map_err(|e| usb_error(&e));
        result.map_err(|error| self.with_retries(error))
    }

    fn select(&mut self, events: Events<'_>, cancel: &CancelToken) -> Result<(), KeyError> {
        events(KeyEvent::TouchNeeded);
        self.with_cancel(cancel, |device| device.selection().map_err(|e| e.to_string()))
    }

    fn wink(&mut self) -> Result<(), KeyError> {
        self.device.wink().map_err(|e| usb_error(&e))
    }
}

/// ctap-hid-fido2 reports a CTAP status only inside its message, as
/// "response_status err = 0x31 CTAP2_ERR_PIN_INVALID ...".
fn usb_error(error: &dyn std::fmt::Display) -> KeyError {
    let message = error.to_string();
    match status_in(&message) {
        Some(status) => KeyError::from_status(status),
        None if message.contains("write error") || message.contains("read err") => KeyError::Removed,
        None => KeyError::Transport(message),
    }
}

fn status_in(message: &str) -> Option<u8> {
    let rest = message.split("response_status err = 0x").nth(1)?;
    let hex: String = rest.chars().take_while(char::is_ascii_hexdigit).collect();
    u8::from_str_radix(&hex, 16).ok()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    #[test]
    fn recovers_the_ctap_status_from_ctap_hid_fido2_messages() {
        let error = |m: &str| usb_error(&m);
        assert_eq!(error("response_status err = 0x31 CTAP2_ERR_PIN_INVALID   PIN Invalid."), KeyError::PinInvalid { retries_left: 0 });
        assert_eq!(error("response_status err = 0x2F CTAP2_ERR_USER_ACTION_TIMEOUT   Timeout waiting for user interaction."), KeyError::UserActionTimeout);
        assert_eq!(error("response_status err = 0x3"), KeyError::Ctap(0x03));
        assert_eq!(error("write error"), KeyError::Removed);
        assert!(matches!(error("Failed to open device."), KeyError::Transport(_)));
    }

    #[test]
    fn a_panic_in_ctap_hid_fido2_is_no_key_not_a_crash() {
        assert_eq!(without_panics(|| -> Vec<String> { panic!("Failed to create HidAPI instance") }), None);
        assert_eq!(without_panics(|| 7), Some(7));
    }

    #[test]
    fn cancel_is_repeated_until_the_request_ends() {
        let (cancel, done) = (CancelToken::new(), CancelToken::new());
        let sent = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                cancel_until_done(&cancel, &done, || {
                    sent.fetch_add(1, Ordering::SeqCst);
                })
            });
            std::thread::sleep(Duration::from_millis(120));
            assert_eq!(sent.load(Ordering::SeqCst), 0, "nothing before the cancel");
            cancel.cancel();
            std::thread::sleep(CANCEL_EVERY * 4);
            done.cancel();
        });
        let sent = sent.into_inner();
        assert!((3..=6).contains(&sent), "{sent} CANCELs in 400 ms");
    }

    #[test]
    fn channel_busy_is_its_own_error() {
        assert_eq!(usb_error(&"response_status err = 0x06 CTAP1_ERR_CHANNEL_BUSY"), KeyError::Busy);
    }

    #[test]
    fn with_no_key_plugged_in_enumeration_is_empty_and_opening_says_removed() {
        // This machine has no FIDO device; on one that has, the path below still does not exist.
        assert!(connected_paths().iter().all(|p| p.starts_with("/dev/")));
        assert!(matches!(UsbKey::open("/dev/hidraw-does-not-exist"), Err(KeyError::Removed)));
    }
}
