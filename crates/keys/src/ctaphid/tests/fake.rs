//! An in-memory security key for the unit tests.
//!
//! It parses and builds packets with its own code, written from the packet tables of the
//! specification in a different shape from the code under test (plain index arithmetic), so a
//! misreading of the format in one is not mirrored in the other. It asserts what a strict
//! device would check in what the host sends.

use std::collections::VecDeque;
use std::time::Duration;

use crate::ctaphid::{HidTransport, Report, TransportError};

/// The channel this key allocates.
pub const KEY_CID: [u8; 4] = [0x0A, 0x0B, 0x0C, 0x0D];
pub const BROADCAST: [u8; 4] = [0xFF; 4];
/// WINK | CBOR | NMSG.
pub const KEY_CAPABILITIES: u8 = 0x0D;

pub const PING: u8 = 0x81;
pub const INIT: u8 = 0x86;
pub const WINK: u8 = 0x88;
pub const CBOR: u8 = 0x90;
pub const CANCEL: u8 = 0x91;
pub const KEEPALIVE: u8 = 0xBB;
pub const ERROR: u8 = 0xBF;

/// A whole message from the host. `cmd` is the wire byte (with bit 7 set).
#[derive(Clone, Debug)]
pub struct Msg {
    pub cid: [u8; 4],
    pub cmd: u8,
    pub data: Vec<u8>,
}

/// What the key will send next, plus the "unplugged" switch.
#[derive(Default)]
pub struct Outbox {
    reports: VecDeque<Report>,
    unplugged: bool,
    io_error: bool,
}

impl Outbox {
    pub fn raw(&mut self, report: Report) {
        self.reports.push_back(report);
    }

    /// Fragments a message into an init packet and continuation packets.
    pub fn message(&mut self, cid: [u8; 4], cmd: u8, data: &[u8]) {
        let len = data.len();
        let first = len.min(57);
        self.raw(init_packet(cid, cmd, len as u16, &data[..first]));
        let mut pos = first;
        let mut seq = 0u8;
        while pos < len {
            let end = (pos + 59).min(len);
            self.raw(cont_packet(cid, seq, &data[pos..end]));
            pos = end;
            seq += 1;
        }
    }

    pub fn keepalive(&mut self, cid: [u8; 4], status: u8) {
        self.raw(init_packet(cid, KEEPALIVE, 1, &[status]));
    }

    pub fn error(&mut self, cid: [u8; 4], code: u8) {
        self.raw(init_packet(cid, ERROR, 1, &[code]));
    }

    /// Answers INIT on the channel it came on, echoing the nonce and allocating `new_cid`.
    pub fn init_answer(&mut self, msg: &Msg, new_cid: [u8; 4]) {
        let mut answer = msg.data.clone();
        answer.extend_from_slice(&new_cid);
        answer.extend_from_slice(&[2, 5, 6, 7, KEY_CAPABILITIES]);
        self.message(msg.cid, INIT, &answer);
    }

    /// From now on reads and writes fail with `Disconnected`.
    pub fn unplug(&mut self) {
        self.unplugged = true;
    }

    /// From now on reads fail with `Io`.
    pub fn break_io(&mut self) {
        self.io_error = true;
    }
}

pub fn init_packet(cid: [u8; 4], cmd: u8, bcnt: u16, data: &[u8]) -> Report {
    let mut report = [0u8; 64];
    report[0..4].copy_from_slice(&cid);
    report[4] = cmd;
    report[5] = (bcnt >> 8) as u8;
    report[6] = (bcnt & 0xFF) as u8;
    report[7..7 + data.len()].copy_from_slice(data);
    report
}

pub fn cont_packet(cid: [u8; 4], seq: u8, data: &[u8]) -> Report {
    let mut report = [0u8; 64];
    report[0..4].copy_from_slice(&cid);
    report[4] = seq;
    report[5..5 + data.len()].copy_from_slice(data);
    report
}

/// What the key does.
pub trait Behaviour: Send {
    fn on_message(&mut self, msg: &Msg, out: &mut Outbox);
    /// Called when the host reads and nothing is queued (e.g. to send a KEEPALIVE).
    fn on_idle(&mut self, _out: &mut Outbox) {}
}

impl<F: FnMut(&Msg, &mut Outbox) + Send> Behaviour for F {
    fn on_message(&mut self, msg: &Msg, out: &mut Outbox) {
        self(msg, out)
    }
}

/// INIT, PING and WINK as a well-behaved key answers them. Returns false for anything else.
pub fn answer_basics(msg: &Msg, out: &mut Outbox) -> bool {
    match msg.cmd {
        INIT => out.init_answer(msg, KEY_CID),
        PING => out.message(msg.cid, PING, &msg.data),
        WINK => out.message(msg.cid, WINK, &[]),
        _ => return false,
    }
    true
}

/// A well-behaved key whose CBOR answers come from `cbor`.
pub fn key_with(
    mut cbor: impl FnMut(&Msg, &mut Outbox) + Send + 'static,
) -> impl FnMut(&Msg, &mut Outbox) + Send + 'static {
    move |msg: &Msg, out: &mut Outbox| {
        if !answer_basics(msg, out) {
            cbor(msg, out);
        }
    }
}

pub struct FakeKey {
    /// Every report the host wrote, in order.
    pub written: Vec<Report>,
    out: Outbox,
    /// Message being received: (message so far, BCNT, next SEQ).
    receiving: Option<(Msg, usize, u8)>,
    behaviour: Box<dyn Behaviour>,
}

impl FakeKey {
    pub fn new(behaviour: impl Behaviour + 'static) -> Self {
        Self {
            written: Vec::new(),
            out: Outbox::default(),
            receiving: None,
            behaviour: Box::new(behaviour),
        }
    }

    /// Reports the host wrote with this wire command byte in an init packet.
    pub fn written_with_cmd(&self, cmd: u8) -> Vec<Report> {
        self.written
            .iter()
            .filter(|r| r[4] == cmd)
            .copied()
            .collect()
    }

    fn receive(&mut self, r: &Report) {
        let cid = [r[0], r[1], r[2], r[3]];
        if r[4] & 0x80 != 0 {
            assert!(
                self.receiving.is_none(),
                "host began a new message before finishing the last"
            );
            let len = usize::from(r[5]) << 8 | usize::from(r[6]);
            assert!(len <= 7609, "host sent BCNT {len}");
            let here = len.min(57);
            assert!(
                r[7 + here..].iter().all(|b| *b == 0),
                "host padding is not zero"
            );
            let msg = Msg {
                cid,
                cmd: r[4],
                data: r[7..7 + here].to_vec(),
            };
            if len == here {
                self.deliver(msg);
            } else {
                self.receiving = Some((msg, len, 0));
            }
        } else {
            let (mut msg, len, seq) = self
                .receiving
                .take()
                .expect("continuation packet with no message begun");
            assert_eq!(cid, msg.cid, "continuation packet on another channel");
            assert_eq!(r[4], seq, "host sent SEQ out of order");
            let here = (len - msg.data.len()).min(59);
            assert!(
                r[5 + here..].iter().all(|b| *b == 0),
                "host padding is not zero"
            );
            msg.data.extend_from_slice(&r[5..5 + here]);
            if msg.data.len() == len {
                self.deliver(msg);
            } else {
                self.receiving = Some((msg, len, seq + 1));
            }
        }
    }

    fn deliver(&mut self, msg: Msg) {
        self.behaviour.on_message(&msg, &mut self.out);
    }

    fn failure(&self) -> Option<TransportError> {
        if self.out.unplugged {
            Some(TransportError::Disconnected)
        } else if self.out.io_error {
            Some(TransportError::Io("broken pipe".into()))
        } else {
            None
        }
    }
}

impl HidTransport for FakeKey {
    fn write(&mut self, report: &Report) -> Result<(), TransportError> {
        if let Some(failure) = self.failure() {
            return Err(failure);
        }
        self.written.push(*report);
        self.receive(report);
        Ok(())
    }

    fn read(&mut self, timeout: Duration) -> Result<Option<Report>, TransportError> {
        if self.out.reports.is_empty() {
            self.behaviour.on_idle(&mut self.out);
        }
        if let Some(failure) = self.failure() {
            return Err(failure);
        }
        match self.out.reports.pop_front() {
            Some(report) => Ok(Some(report)),
            None => {
                std::thread::sleep(timeout);
                Ok(None)
            }
        }
    }
}
