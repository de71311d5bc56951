//! What the host asked of one key, read off the first packet of each CTAPHID message as it
//! passes through the bridge: which CTAP commands, which PIN protocol, how many CANCELs.
//!
//! Only the fixed header of an initialization packet is looked at (CID, CMD, BCNT, then the
//! CTAP command byte and the start of its CBOR map), never a message reassembled: CTAPHID
//! itself is the virtual key's firmware's business.

use std::{collections::BTreeSet, sync::Mutex};

use tap2key_virtual_key::hid::REPORT_SIZE;

pub const MAKE_CREDENTIAL: u8 = 0x01;
pub const GET_ASSERTION: u8 = 0x02;
pub const CLIENT_PIN: u8 = 0x06;
pub const SELECTION: u8 = 0x0B;

/// CTAPHID_CBOR and CTAPHID_CANCEL with the initialization-packet bit.
const CBOR_INIT: u8 = 0x90;
const CANCEL_INIT: u8 = 0x91;

#[derive(Default)]
pub struct Seen(Mutex<Log>);

#[derive(Default)]
struct Log {
    /// Output reports as written: with the leading report id 0 (65 bytes), or without.
    with_report_id: usize,
    without_report_id: usize,
    commands: Vec<u8>,
    pin_protocols: BTreeSet<u8>,
    cancels: usize,
}

impl Seen {
    /// One output report exactly as the host wrote it.
    pub fn note(&self, written: &[u8]) {
        let mut log = self.lock();
        let report = match written {
            [0, report @ ..] if report.len() == REPORT_SIZE => {
                log.with_report_id += 1;
                report
            }
            report if report.len() == REPORT_SIZE => {
                log.without_report_id += 1;
                report
            }
            _ => return,
        };
        match report[4] {
            CBOR_INIT => {
                // DATA starts at byte 7: the CTAP command, then its CBOR map. clientPIN's
                // first key is 0x01 pinUvAuthProtocol (canonical order), a small integer.
                let command = report[7];
                log.commands.push(command);
                if command == CLIENT_PIN && report[9] == 0x01 {
                    log.pin_protocols.insert(report[10]);
                }
            }
            CANCEL_INIT => log.cancels += 1,
            _ => {}
        }
    }

    pub fn count(&self, command: u8) -> usize {
        self.lock().commands.iter().filter(|&&c| c == command).count()
    }

    pub fn pin_protocols(&self) -> Vec<u8> {
        self.lock().pin_protocols.iter().copied().collect()
    }

    /// Output reports (with the report-id byte, without it).
    pub fn report_forms(&self) -> (usize, usize) {
        let log = self.lock();
        (log.with_report_id, log.without_report_id)
    }

    pub fn cancels(&self) -> usize {
        self.lock().cancels
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Log> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}
