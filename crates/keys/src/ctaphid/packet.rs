//! CTAPHID packets: cutting a message into 64-byte reports, and reading one report back.
//!
//! | Init packet: CID (4) | 0x80 \| CMD (1) | BCNT big-endian (2) | DATA (57) |
//! | Continuation packet: CID (4) | SEQ 0..=0x7F (1) | DATA (59) |

use super::{HidError, REPORT_SIZE, Report};

/// A channel identifier. Kept as 4 opaque bytes: nothing here needs it as a number.
pub(super) type Cid = [u8; 4];

/// The channel INIT is sent on to allocate a new channel.
pub(super) const BROADCAST_CID: Cid = [0xFF; 4];
/// Reserved by the specification; never a valid allocated channel.
pub(super) const RESERVED_CID: Cid = [0; 4];

/// Command numbers, without the init-packet bit (which [`encode`] adds).
pub(super) mod cmd {
    pub const PING: u8 = 0x01;
    pub const INIT: u8 = 0x06;
    pub const WINK: u8 = 0x08;
    pub const CBOR: u8 = 0x10;
    pub const CANCEL: u8 = 0x11;
    pub const KEEPALIVE: u8 = 0x3B;
    pub const ERROR: u8 = 0x3F;
}

/// Bit 7 of byte 4 tells an init packet (it carries a command) from a continuation packet (a SEQ).
const INIT_BIT: u8 = 0x80;
const INIT_DATA_LEN: usize = REPORT_SIZE - 7;
const CONT_DATA_LEN: usize = REPORT_SIZE - 5;
/// SEQ is 7 bits wide, so a message has at most 128 continuation packets.
const MAX_SEQ: u8 = 0x7F;

/// The largest message CTAPHID can carry: one init packet and 128 continuation packets (7609).
pub const MAX_MESSAGE_LEN: usize = INIT_DATA_LEN + (MAX_SEQ as usize + 1) * CONT_DATA_LEN;

/// One report as read from the device. Every 64-byte report is one of the two, so parsing
/// cannot fail; whether it makes sense is the assembler's business.
#[derive(Debug)]
pub(super) enum Packet<'a> {
    Init {
        cid: Cid,
        /// Without the init bit.
        cmd: u8,
        /// BCNT: the length of the whole message, which may be more than this packet holds.
        len: usize,
        data: &'a [u8; INIT_DATA_LEN],
    },
    Cont {
        cid: Cid,
        seq: u8,
        data: &'a [u8; CONT_DATA_LEN],
    },
}

impl Packet<'_> {
    pub(super) fn cid(&self) -> Cid {
        match self {
            Self::Init { cid, .. } | Self::Cont { cid, .. } => *cid,
        }
    }
}

/// Reads a report. Array patterns instead of indexing: no offset here can be out of bounds.
pub(super) fn parse(report: &Report) -> Packet<'_> {
    let [c0, c1, c2, c3, kind, rest @ ..] = report;
    let cid = [*c0, *c1, *c2, *c3];
    if kind & INIT_BIT == 0 {
        return Packet::Cont {
            cid,
            seq: *kind,
            data: rest,
        };
    }
    let [len_hi, len_lo, data @ ..] = rest;
    Packet::Init {
        cid,
        cmd: kind & !INIT_BIT,
        len: usize::from(u16::from_be_bytes([*len_hi, *len_lo])),
        data,
    }
}

/// Cuts a message into the reports that carry it, zero-padded. Fails (before anything is sent)
/// if the message is longer than CTAPHID allows.
pub(super) fn encode(cid: Cid, cmd: u8, payload: &[u8]) -> Result<Vec<Report>, HidError> {
    let len = u16::try_from(payload.len())
        .ok()
        .filter(|_| payload.len() <= MAX_MESSAGE_LEN)
        .ok_or_else(|| {
            HidError::Protocol(format!(
                "a message of {} bytes is over the CTAPHID maximum of {MAX_MESSAGE_LEN}",
                payload.len()
            ))
        })?;
    let (first, rest) = payload.split_at(payload.len().min(INIT_DATA_LEN));

    let mut reports = Vec::with_capacity(1 + rest.len().div_ceil(CONT_DATA_LEN));
    reports.push(report(cid, [INIT_BIT | cmd], &len.to_be_bytes(), first));
    // The length check above guarantees at most 128 chunks, so the SEQ range never runs short.
    for (seq, chunk) in (0..=MAX_SEQ).zip(rest.chunks(CONT_DATA_LEN)) {
        reports.push(report(cid, [seq], &[], chunk));
    }
    Ok(reports)
}

/// A single init packet with no data: how CANCEL is sent (it has no answer to reassemble).
pub(super) fn empty_init(cid: Cid, cmd: u8) -> Report {
    report(cid, [INIT_BIT | cmd], &0u16.to_be_bytes(), &[])
}

/// Lays out CID | kind byte | header | data | zero padding.
fn report(cid: Cid, kind: [u8; 1], header: &[u8], data: &[u8]) -> Report {
    let mut report = [0u8; REPORT_SIZE];
    let fields = cid.iter().chain(&kind).chain(header).chain(data);
    for (slot, byte) in report.iter_mut().zip(fields) {
        *slot = *byte;
    }
    report
}
