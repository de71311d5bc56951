//! One message on its way in: the initialization packet's bytes, then each continuation
//! packet's, in sequence, until BCNT bytes are there.

use std::time::Instant;

use super::{INTER_PACKET_TIMEOUT, MAX_MESSAGE_SIZE, frame::Cid};

/// The commands that carry a message the key executes once it is complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Request {
    Ping,
    Wink,
    Cbor,
}

/// A complete incoming message.
pub(super) struct Message {
    pub(super) cid: Cid,
    pub(super) request: Request,
    pub(super) payload: Vec<u8>,
}

/// A message whose continuation packets are still expected. (No Debug: it holds payload
/// bytes, which must never reach a log.)
pub(super) struct Assembly {
    cid: Cid,
    request: Request,
    expected_length: usize,
    payload: Vec<u8>,
    next_seq: u8,
    last_packet_at: Instant,
}

pub(super) enum Assembled {
    Partial(Assembly),
    Complete(Message),
}

/// A continuation packet out of order: the message is lost.
#[derive(Debug)]
pub(super) struct WrongSequence;

impl Assembly {
    /// Starts a message from its initialization packet. `length` is BCNT, already checked
    /// against [`MAX_MESSAGE_SIZE`], so the buffer stays bounded.
    pub(super) fn begin(cid: Cid, request: Request, length: usize, first: &[u8]) -> Assembled {
        let expected_length = length.min(MAX_MESSAGE_SIZE);
        let mut payload = Vec::with_capacity(expected_length);
        payload.extend_from_slice(&first[..first.len().min(expected_length)]);
        Assembly { cid, request, expected_length, payload, next_seq: 0, last_packet_at: Instant::now() }.check()
    }

    /// Adds the next continuation packet, which must carry the expected sequence number.
    pub(super) fn add(mut self, seq: u8, data: &[u8]) -> Result<Assembled, WrongSequence> {
        if seq != self.next_seq {
            return Err(WrongSequence);
        }
        let missing = self.expected_length - self.payload.len();
        self.payload.extend_from_slice(&data[..data.len().min(missing)]);
        // Never needs to pass 0x7F: 57 + 128 * 59 bytes complete even the longest message.
        self.next_seq = self.next_seq.saturating_add(1);
        self.last_packet_at = Instant::now();
        Ok(self.check())
    }

    pub(super) fn cid(&self) -> Cid {
        self.cid
    }

    /// When the key gives up waiting for the next packet.
    pub(super) fn deadline(&self) -> Instant {
        self.last_packet_at + INTER_PACKET_TIMEOUT
    }

    fn check(self) -> Assembled {
        if self.payload.len() < self.expected_length {
            return Assembled::Partial(self);
        }
        Assembled::Complete(Message { cid: self.cid, request: self.request, payload: self.payload })
    }
}
