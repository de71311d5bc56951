//! Reassembly of one answer from the reports a device sends, with every check CTAPHID allows.

use tracing::trace;

use super::packet::{self, Cid, MAX_MESSAGE_LEN, Packet, cmd};
use super::{HidError, KeepAliveStatus, Report};

/// How to treat frames on our channel that cannot belong to the answer we wait for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Strictness {
    /// They are a protocol error: during a normal request the device must answer what was asked.
    Strict,
    /// They are skipped: while (re)synchronising a channel with INIT, leftovers of an abandoned
    /// transaction may still be in flight, and INIT exists precisely to get past them.
    SkipStale,
}

/// What one report meant.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Event {
    /// Not for us (another channel, or a stale frame while resynchronising).
    Ignored,
    /// Part of the answer; more packets must follow.
    Progress,
    KeepAlive(KeepAliveStatus),
    /// An ERROR frame with its CTAPHID error code.
    Error(u8),
    /// The whole answer, exactly BCNT bytes.
    Message(Vec<u8>),
}

/// Reassembles the answer to one command on one channel. Feed it every report read.
pub(super) struct Assembler {
    cid: Cid,
    cmd: u8,
    strictness: Strictness,
    partial: Option<Partial>,
}

/// An answer longer than one packet, while its continuation packets arrive.
struct Partial {
    len: usize,
    next_seq: u8,
    data: Vec<u8>,
}

impl Assembler {
    pub(super) fn new(cid: Cid, cmd: u8, strictness: Strictness) -> Self {
        Self {
            cid,
            cmd,
            strictness,
            partial: None,
        }
    }

    pub(super) fn push(&mut self, report: &Report) -> Result<Event, HidError> {
        let packet = packet::parse(report);
        if packet.cid() != self.cid {
            // Other channels are other clients' business (every reader of a HID device sees all
            // its input reports).
            trace!("ignoring a CTAPHID frame for another channel");
            return Ok(Event::Ignored);
        }
        match packet {
            Packet::Init { cmd, len, data, .. } => self.on_init(cmd, len, data),
            Packet::Cont { seq, data, .. } => self.on_cont(seq, data),
        }
    }

    fn on_init(&mut self, cmd: u8, len: usize, data: &[u8]) -> Result<Event, HidError> {
        if self.partial.is_some() {
            // A device finishes one message before it starts another on the same channel.
            return Err(protocol(format!(
                "init packet 0x{cmd:02X} arrived in the middle of a {}-byte answer",
                self.partial.as_ref().map_or(0, |p| p.len)
            )));
        }
        match cmd {
            cmd::KEEPALIVE => {
                status_byte("KEEPALIVE", len, data).map(|s| Event::KeepAlive(s.into()))
            }
            cmd::ERROR => status_byte("ERROR", len, data).map(Event::Error),
            c if c == self.cmd => self.start(len, data),
            _ if self.strictness == Strictness::SkipStale => {
                trace!(cmd, "skipping a stale CTAPHID frame");
                Ok(Event::Ignored)
            }
            _ => Err(protocol(format!(
                "answer with command 0x{cmd:02X} to a 0x{:02X} request",
                self.cmd
            ))),
        }
    }

    fn start(&mut self, len: usize, data: &[u8]) -> Result<Event, HidError> {
        if len > MAX_MESSAGE_LEN {
            return Err(protocol(format!(
                "answer announces {len} bytes, over the maximum of {MAX_MESSAGE_LEN}"
            )));
        }
        if let Some(whole) = data.get(..len) {
            return Ok(Event::Message(whole.to_vec()));
        }
        // `len` is bounded above, so this allocation is too.
        let mut buffer = Vec::with_capacity(len);
        buffer.extend_from_slice(data);
        self.partial = Some(Partial {
            len,
            next_seq: 0,
            data: buffer,
        });
        Ok(Event::Progress)
    }

    fn on_cont(&mut self, seq: u8, data: &[u8]) -> Result<Event, HidError> {
        // Taken out so that any error below also drops the half-built answer.
        let Some(mut partial) = self.partial.take() else {
            return match self.strictness {
                Strictness::SkipStale => Ok(Event::Ignored),
                Strictness::Strict => Err(protocol(format!(
                    "continuation packet (SEQ {seq}) without an init packet"
                ))),
            };
        };
        if seq != partial.next_seq {
            return Err(protocol(format!(
                "continuation packet SEQ {seq} where {} was due",
                partial.next_seq
            )));
        }
        // At most 128 continuation packets complete any allowed length, so this stays <= 0x80.
        partial.next_seq = partial.next_seq.wrapping_add(1);
        let missing = partial.len.saturating_sub(partial.data.len());
        partial
            .data
            .extend_from_slice(data.get(..missing).unwrap_or(data));
        if partial.data.len() < partial.len {
            self.partial = Some(partial);
            return Ok(Event::Progress);
        }
        Ok(Event::Message(partial.data))
    }
}

/// KEEPALIVE and ERROR carry exactly one byte.
fn status_byte(what: &str, len: usize, data: &[u8]) -> Result<u8, HidError> {
    match (len, data.first()) {
        (1, Some(byte)) => Ok(*byte),
        _ => Err(protocol(format!(
            "{what} frame of {len} bytes instead of 1"
        ))),
    }
}

fn protocol(message: String) -> HidError {
    HidError::Protocol(message)
}
