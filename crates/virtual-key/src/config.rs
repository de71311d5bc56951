//! What kind of key to simulate.

use std::{path::PathBuf, time::Duration};

use crate::touch::TouchPolicy;

/// A key model as a directory sees it: AAGUID, name, firmware.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyModel {
    pub aaguid: [u8; 16],
    pub name: String,
    pub firmware_version: u32,
}

impl KeyModel {
    /// The model every virtual key is unless told otherwise. Its AAGUID is random-looking
    /// but fixed, so a directory's allow-list can name it.
    pub fn tap2key_virtual() -> Self {
        Self {
            aaguid: [0x74, 0x61, 0x70, 0x32, 0x6b, 0x65, 0x79, 0x2d, 0x76, 0x6b, 0x65, 0x79, 0x2d, 0x30, 0x30, 0x31],
            name: "tap2key Virtual Key".into(),
            firmware_version: 0x0001_0000,
        }
    }
}

#[derive(Clone, Debug)]
pub struct VirtualKeyConfig {
    pub model: KeyModel,
    /// minPINLength in code points (CTAP's floor is 4).
    pub min_pin_length: usize,
    /// Protocols offered in getInfo, preferred first.
    pub pin_protocols: Vec<u8>,
    /// Discoverable credentials the key can hold.
    pub max_credentials: usize,
    /// How long the key waits for a touch before USER_ACTION_TIMEOUT (real keys: ~30 s).
    pub touch_timeout: Duration,
    pub touch: TouchPolicy,
    /// Where the key keeps its state between runs; `None` keeps it in memory only.
    pub state_file: Option<PathBuf>,
}

impl Default for VirtualKeyConfig {
    fn default() -> Self {
        Self {
            model: KeyModel::tap2key_virtual(),
            min_pin_length: 4,
            pin_protocols: vec![2, 1],
            max_credentials: 25,
            touch_timeout: Duration::from_secs(30),
            touch: TouchPolicy::Immediately,
            state_file: None,
        }
    }
}
