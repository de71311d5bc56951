//! Channel ids handed out by INIT on the broadcast channel.

use rand::RngExt;

use super::frame::Cid;

/// Channel ids are consecutive from a random first one, so the table is two numbers
/// whatever the host does (bounded memory), every id is unique for the whole power-up,
/// and "was this allocated?" is a range check. The random start (fresh at each power-up)
/// makes a host that reuses a channel from before a re-plug get INVALID_CHANNEL, as it
/// would from a real key, instead of working by luck.
pub(super) struct Channels {
    first: u32,
    issued: u32,
}

/// Exclusive upper bound of the first id: ids stay below 0xFFFFFFFF (broadcast) for at
/// least 2^31 allocations, and 0 (reserved) is never the start.
const FIRST_ID_LIMIT: u32 = 0x8000_0000;

impl Channels {
    pub(super) fn new() -> Channels {
        Channels { first: rand::rng().random_range(1..FIRST_ID_LIMIT), issued: 0 }
    }

    /// A new channel id, never 0, never broadcast, never handed out before. None once
    /// the ids are exhausted (billions of INITs in one power-up).
    pub(super) fn allocate(&mut self) -> Option<Cid> {
        let id = self.first.checked_add(self.issued).filter(|id| *id != Cid::BROADCAST.0)?;
        self.issued += 1;
        Some(Cid(id))
    }

    pub(super) fn is_allocated(&self, cid: Cid) -> bool {
        cid.0.checked_sub(self.first).is_some_and(|offset| offset < self.issued)
    }
}
