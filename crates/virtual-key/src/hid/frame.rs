//! CTAPHID bytes on the wire: reading one packet from a report, and cutting one message
//! into reports.

use std::{fmt, iter};

use super::{MAX_MESSAGE_SIZE, REPORT_SIZE, Report};

/// Payload bytes in an initialization packet, after CID (4), CMD (1) and BCNT (2).
pub(super) const INIT_DATA_SIZE: usize = REPORT_SIZE - 7;
/// Payload bytes in a continuation packet, after CID (4) and SEQ (1).
pub(super) const CONT_DATA_SIZE: usize = REPORT_SIZE - 5;
/// The last sequence number: bit 7 of that byte marks an initialization packet.
pub(super) const MAX_SEQ: u8 = 0x7F;
/// Bit 7 of byte 4 tells an initialization packet (CMD) from a continuation (SEQ).
const INIT_PACKET_BIT: u8 = 0x80;

/// A channel id: 4 opaque bytes on the wire, compared as a big-endian u32.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct Cid(pub(super) u32);

impl Cid {
    /// Only INIT may use it, to ask for a channel of its own.
    pub(super) const BROADCAST: Cid = Cid(0xFFFF_FFFF);

    pub(super) fn to_bytes(self) -> [u8; 4] {
        self.0.to_be_bytes()
    }
}

impl fmt::Debug for Cid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}", self.0)
    }
}

/// CTAPHID commands, without the initialization-packet bit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(super) enum Command {
    Ping = 0x01,
    /// CTAP1/U2F APDUs: not supported (the NMSG capability says so).
    Msg = 0x03,
    /// Optional; not supported.
    Lock = 0x04,
    Init = 0x06,
    Wink = 0x08,
    Cbor = 0x10,
    Cancel = 0x11,
    /// Key to host only.
    KeepAlive = 0x3B,
    /// Key to host only.
    Error = 0x3F,
}

impl Command {
    pub(super) fn from_byte(byte: u8) -> Option<Command> {
        [
            Command::Ping,
            Command::Msg,
            Command::Lock,
            Command::Init,
            Command::Wink,
            Command::Cbor,
            Command::Cancel,
            Command::KeepAlive,
            Command::Error,
        ]
        .into_iter()
        .find(|command| *command as u8 == byte)
    }
}

/// The byte of an ERROR response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(super) enum ErrorCode {
    InvalidCmd = 0x01,
    InvalidLen = 0x03,
    InvalidSeq = 0x04,
    MsgTimeout = 0x05,
    ChannelBusy = 0x06,
    InvalidChannel = 0x0B,
    Other = 0x7F,
}

/// One packet as read from a report. Any 64 bytes are a packet; whether it makes sense is
/// the firmware's business.
#[derive(Clone, Copy, Debug)]
pub(super) enum Packet<'r> {
    /// Starts a message: its command, its total length (BCNT) and its first bytes.
    Init { cid: Cid, command: u8, length: usize, data: &'r [u8] },
    /// Carries the next bytes of the message being received on `cid`.
    Continuation { cid: Cid, seq: u8, data: &'r [u8] },
}

impl<'r> Packet<'r> {
    pub(super) fn parse(report: &'r Report) -> Packet<'r> {
        let [c0, c1, c2, c3, kind, rest @ ..] = report;
        let cid = Cid(u32::from_be_bytes([*c0, *c1, *c2, *c3]));
        if kind & INIT_PACKET_BIT == 0 {
            return Packet::Continuation { cid, seq: *kind, data: rest };
        }
        let [length_high, length_low, data @ ..] = rest;
        let length = usize::from(u16::from_be_bytes([*length_high, *length_low]));
        Packet::Init { cid, command: kind & !INIT_PACKET_BIT, length, data }
    }

    pub(super) fn cid(&self) -> Cid {
        match *self {
            Packet::Init { cid, .. } | Packet::Continuation { cid, .. } => cid,
        }
    }
}

/// The reports that carry one message from the key, or None if `payload` is longer than
/// [`MAX_MESSAGE_SIZE`]. Unused bytes of the last report are zero.
pub(super) fn message_reports(cid: Cid, command: Command, payload: &[u8]) -> Option<impl Iterator<Item = Report> + '_> {
    if payload.len() > MAX_MESSAGE_SIZE {
        return None;
    }
    let length = u16::try_from(payload.len()).ok()?;
    let (first, rest) = payload.split_at(payload.len().min(INIT_DATA_SIZE));
    let init = init_report(cid, command, length, first);
    // At most 128 chunks fit in MAX_MESSAGE_SIZE, so the zip never runs out of numbers.
    let continuations =
        rest.chunks(CONT_DATA_SIZE).zip(0..=MAX_SEQ).map(move |(chunk, seq)| continuation_report(cid, seq, chunk));
    Some(iter::once(init).chain(continuations))
}

fn init_report(cid: Cid, command: Command, length: u16, data: &[u8]) -> Report {
    let mut report = [0; REPORT_SIZE];
    let (header, body) = report.split_at_mut(7);
    header[..4].copy_from_slice(&cid.to_bytes());
    header[4] = command as u8 | INIT_PACKET_BIT;
    header[5..].copy_from_slice(&length.to_be_bytes());
    body[..data.len()].copy_from_slice(data);
    report
}

fn continuation_report(cid: Cid, seq: u8, data: &[u8]) -> Report {
    let mut report = [0; REPORT_SIZE];
    let (header, body) = report.split_at_mut(5);
    header[..4].copy_from_slice(&cid.to_bytes());
    header[4] = seq;
    body[..data.len()].copy_from_slice(data);
    report
}
