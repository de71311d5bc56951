//! One CTAPHID channel: allocation, requests, answers, keepalives, busy retries, cancellation.

use std::time::{Duration, Instant};

use tracing::{debug, trace};

use super::assembler::{Assembler, Event, Strictness};
use super::packet::{self, BROADCAST_CID, Cid, RESERVED_CID, cmd};
use super::{
    CTAP2_ERR_KEEPALIVE_CANCEL, CancelToken, DeviceInfo, HidError, HidTransport, KeepAliveStatus,
    Report, error_code,
};

/// How long [`CtapHid::open`] waits for the INIT answer. Keys answer INIT at once; this only
/// has to be generous enough for a software key on a loaded machine.
pub const OPEN_TIMEOUT: Duration = Duration::from_secs(5);

/// Hard cap on one request, however many keepalives the device sends. Keys give up waiting for
/// a touch after about 30 s (then answer USER_ACTION_TIMEOUT), so 120 s is only reached by a
/// device that keeps saying "processing" forever.
pub const MAX_EXCHANGE_TIME: Duration = Duration::from_secs(120);

/// After CTAPHID_CANCEL the device should answer (status 0x2D) "as quickly as possible"; this is
/// how long we keep listening for that final answer before giving up with a timeout.
pub const CANCEL_GRACE: Duration = Duration::from_secs(3);

/// Longest single read: how quickly a cancellation is noticed while waiting. Devices send
/// keepalives about every 100 ms, so polling faster would gain nothing.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// CHANNEL_BUSY means another client holds the device. python-fido2 retries every 100 ms; we
/// stop after about 5 s so the app can tell the user the key is in use elsewhere (a browser
/// waiting for a touch can hold it for 30 s).
const BUSY_BACKOFF: Duration = Duration::from_millis(100);
const BUSY_RETRIES: u32 = 50;

const NONCE_LEN: usize = 8;
/// nonce (8) | CID (4) | protocol version | major | minor | build | capabilities
const INIT_ANSWER_LEN: usize = 17;

/// One CTAPHID channel on one device.
pub struct CtapHid<T: HidTransport> {
    transport: T,
    cid: Cid,
    info: DeviceInfo,
    /// Set while the last request may still have frames in flight (it ended in a timeout, a
    /// protocol or I/O error). The next request first resynchronises with INIT on our channel,
    /// which makes the device drop that transaction; otherwise its late answer could be taken
    /// for the answer to the next request.
    needs_resync: bool,
}

/// One request as the exchange loop needs it.
struct Request<'a> {
    cmd: u8,
    payload: &'a [u8],
    /// For the next frame on our channel; every frame restarts it.
    timeout: Duration,
    cancel: Option<&'a CancelToken>,
    strictness: Strictness,
    /// Whole answers this rejects belong to another client (an INIT answer carrying someone
    /// else's nonce) and are skipped.
    is_ours: &'a dyn Fn(&[u8]) -> bool,
}

impl<'a> Request<'a> {
    fn new(cmd: u8, payload: &'a [u8], timeout: Duration) -> Self {
        Self {
            cmd,
            payload,
            timeout,
            cancel: None,
            strictness: Strictness::Strict,
            is_ours: &any_answer,
        }
    }
}

/// Every answer on our channel is ours, except during INIT.
fn any_answer(_: &[u8]) -> bool {
    true
}

enum Outcome {
    Answer(Vec<u8>),
    Busy,
}

impl<T: HidTransport> CtapHid<T> {
    /// CTAPHID_INIT on the broadcast channel with a fresh random 8-byte nonce; ignores INIT
    /// answers with a different nonce (another client's), checks lengths, takes the allocated
    /// CID. Waits up to [`OPEN_TIMEOUT`].
    pub fn open(transport: T) -> Result<Self, HidError> {
        Self::open_with_timeout(transport, OPEN_TIMEOUT)
    }

    /// [`CtapHid::open`] with another timeout for the INIT answer.
    pub fn open_with_timeout(transport: T, timeout: Duration) -> Result<Self, HidError> {
        let mut hid = Self {
            transport,
            cid: BROADCAST_CID,
            info: DeviceInfo::default(),
            needs_resync: false,
        };
        hid.init_channel(timeout)?;
        Ok(hid)
    }

    pub fn device_info(&self) -> &DeviceInfo {
        &self.info
    }

    /// The channel the device allocated to us (for diagnostics).
    pub fn channel_id(&self) -> [u8; 4] {
        self.cid
    }

    /// CTAPHID_CBOR: `request` = CTAP2 command byte + CBOR; returns status byte + CBOR.
    ///
    /// Calls `on_keepalive` for each KEEPALIVE. When `cancel` turns true, sends CTAPHID_CANCEL
    /// once and keeps reading for the device's final answer (normally status 0x2D), for at most
    /// [`CANCEL_GRACE`]. If `cancel` is already set before the device accepted the request
    /// (before sending, or while it answered CHANNEL_BUSY), nothing is sent and the answer is
    /// `[0x2D]`, what the device would have said, so callers see one shape for "cancelled".
    ///
    /// `timeout` bounds the wait for the next frame: keepalives extend the wait, since a key
    /// waiting for a touch keeps sending them, up to [`MAX_EXCHANGE_TIME`] in all.
    pub fn cbor(
        &mut self,
        request: &[u8],
        on_keepalive: &mut dyn FnMut(KeepAliveStatus),
        cancel: &CancelToken,
        timeout: Duration,
    ) -> Result<Vec<u8>, HidError> {
        if request.is_empty() {
            return Err(HidError::Protocol(
                "a CBOR request needs a command byte".into(),
            ));
        }
        let request = Request {
            cancel: Some(cancel),
            ..Request::new(cmd::CBOR, request, timeout)
        };
        let answer = self.call(&request, on_keepalive)?;
        if answer.is_empty() {
            return Err(HidError::Protocol(
                "CBOR answer without a status byte".into(),
            ));
        }
        Ok(answer)
    }

    /// CTAPHID_PING: the device echoes `data` (up to [`super::MAX_MESSAGE_LEN`] bytes). An echo
    /// that differs from `data` is a protocol error.
    pub fn ping(&mut self, data: &[u8], timeout: Duration) -> Result<Vec<u8>, HidError> {
        let echo = self.call(&Request::new(cmd::PING, data, timeout), &mut |_| {})?;
        if echo != data {
            return Err(HidError::Protocol(format!(
                "PING echo of {} bytes differs from the {} bytes sent",
                echo.len(),
                data.len()
            )));
        }
        Ok(echo)
    }

    /// CTAPHID_WINK: the device shows it is the one being talked to. Sent even when
    /// [`DeviceInfo::supports_wink`] is false; such a device answers ERROR INVALID_CMD.
    pub fn wink(&mut self, timeout: Duration) -> Result<(), HidError> {
        let answer = self.call(&Request::new(cmd::WINK, &[], timeout), &mut |_| {})?;
        if !answer.is_empty() {
            return Err(HidError::Protocol(format!(
                "WINK answer of {} bytes instead of none",
                answer.len()
            )));
        }
        Ok(())
    }

    pub fn into_transport(self) -> T {
        self.transport
    }

    /// INIT on our current channel: the broadcast channel when opening (the device allocates a
    /// new channel), our own channel when resynchronising (the device drops whatever that
    /// channel was doing). Leftovers of an abandoned transaction are skipped, except an ERROR
    /// frame, which cannot be told apart from an answer to this INIT: it is returned, the
    /// channel stays marked for resync, and the next request tries again.
    fn init_channel(&mut self, timeout: Duration) -> Result<(), HidError> {
        let nonce: [u8; NONCE_LEN] = rand::random();
        let is_ours = |answer: &[u8]| answer.starts_with(&nonce);
        let request = Request {
            strictness: Strictness::SkipStale,
            is_ours: &is_ours,
            ..Request::new(cmd::INIT, &nonce, timeout)
        };
        let answer = self.exchange_with_retry(&request, &mut |_| {})?;
        let (cid, info) = parse_init_answer(&answer)?;
        if self.cid != BROADCAST_CID && cid != self.cid {
            // The specification says a resync keeps the channel; a new valid one works as well.
            debug!(old = %hex(self.cid), new = %hex(cid), "device changed our channel on resync");
        }
        if info.protocol_version != 2 {
            debug!(
                version = info.protocol_version,
                "unexpected CTAPHID protocol version"
            );
        }
        debug!(cid = %hex(cid), capabilities = info.capabilities, "CTAPHID channel ready");
        self.cid = cid;
        self.info = info;
        self.needs_resync = false;
        Ok(())
    }

    /// A request on our allocated channel, resynchronising first if the last one was left
    /// unfinished.
    fn call(
        &mut self,
        request: &Request<'_>,
        on_keepalive: &mut dyn FnMut(KeepAliveStatus),
    ) -> Result<Vec<u8>, HidError> {
        if self.needs_resync {
            debug!(cid = %hex(self.cid), "resynchronising the channel after an unfinished request");
            self.init_channel(request.timeout)?;
        }
        self.needs_resync = true;
        let result = self.exchange_with_retry(request, on_keepalive);
        // An ERROR frame ends a transaction as cleanly as an answer does.
        self.needs_resync = !matches!(result, Ok(_) | Err(HidError::Device(_)));
        result
    }

    fn exchange_with_retry(
        &mut self,
        request: &Request<'_>,
        on_keepalive: &mut dyn FnMut(KeepAliveStatus),
    ) -> Result<Vec<u8>, HidError> {
        // Encoded once: a too-long request fails here, before anything reaches the device.
        let reports = packet::encode(self.cid, request.cmd, request.payload)?;
        for attempt in 0..=BUSY_RETRIES {
            if is_cancelled(request.cancel) {
                // Only CBOR requests carry a token, so this is the CTAP2 status for "cancelled".
                debug!("request cancelled before the device accepted it");
                return Ok(vec![CTAP2_ERR_KEEPALIVE_CANCEL]);
            }
            match self.exchange(&reports, request, on_keepalive)? {
                Outcome::Answer(answer) => return Ok(answer),
                Outcome::Busy => {
                    debug!(attempt, "CTAPHID channel busy; retrying");
                    self.drain(BUSY_BACKOFF, request.cancel)?;
                }
            }
        }
        Err(HidError::Device(error_code::CHANNEL_BUSY))
    }

    /// Sends the request once and waits for its answer.
    fn exchange(
        &mut self,
        reports: &[Report],
        request: &Request<'_>,
        on_keepalive: &mut dyn FnMut(KeepAliveStatus),
    ) -> Result<Outcome, HidError> {
        debug!(cid = %hex(self.cid), cmd = request.cmd, len = request.payload.len(), "CTAPHID request");
        for report in reports {
            self.transport.write(report)?;
        }
        let mut assembler = Assembler::new(self.cid, request.cmd, request.strictness);
        let mut clock = Clock::start(request.timeout);
        let mut cancel_sent = false;
        loop {
            if !cancel_sent && is_cancelled(request.cancel) {
                self.send_cancel()?;
                cancel_sent = true;
                clock.stop_within(CANCEL_GRACE);
            }
            let Some(wait) = clock.remaining() else {
                debug!(cmd = request.cmd, cancel_sent, "CTAPHID request timed out");
                return Err(HidError::Timeout);
            };
            let Some(report) = self.transport.read(wait.min(POLL_INTERVAL))? else {
                continue;
            };
            match assembler.push(&report)? {
                Event::Ignored => {}
                Event::Progress => clock.progress(),
                Event::KeepAlive(status) => {
                    clock.progress();
                    trace!(?status, "CTAPHID keepalive");
                    on_keepalive(status);
                }
                Event::Error(error_code::CHANNEL_BUSY) => return Ok(Outcome::Busy),
                Event::Error(code) => {
                    debug!(code, "CTAPHID error frame");
                    return Err(HidError::Device(code));
                }
                Event::Message(answer) if (request.is_ours)(&answer) => {
                    return Ok(Outcome::Answer(answer));
                }
                Event::Message(_) => trace!("skipping an INIT answer for another client"),
            }
        }
    }

    fn send_cancel(&mut self) -> Result<(), HidError> {
        debug!(cid = %hex(self.cid), "sending CTAPHID_CANCEL");
        self.transport
            .write(&packet::empty_init(self.cid, cmd::CANCEL))?;
        Ok(())
    }

    /// Waits out the CHANNEL_BUSY back-off while reading and dropping what arrives: a refused
    /// multi-packet request can draw one BUSY error per packet, and those must not be taken for
    /// answers to the retry. Ends early on cancellation.
    fn drain(&mut self, period: Duration, cancel: Option<&CancelToken>) -> Result<(), HidError> {
        let end = Instant::now() + period;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() || is_cancelled(cancel) {
                return Ok(());
            }
            if self.transport.read(left.min(POLL_INTERVAL))?.is_some() {
                trace!("dropped a frame during the busy back-off");
            }
        }
    }
}

/// The deadlines of one exchange: the next frame on our channel is due within the caller's
/// timeout (each frame restarts it), and the whole exchange ends at a hard stop.
struct Clock {
    frame_timeout: Duration,
    next_frame: Instant,
    hard_stop: Instant,
}

impl Clock {
    fn start(frame_timeout: Duration) -> Self {
        let now = Instant::now();
        // Clamped so that no caller-supplied value can overflow `Instant` arithmetic.
        let frame_timeout = frame_timeout.min(MAX_EXCHANGE_TIME);
        Self {
            frame_timeout,
            next_frame: now + frame_timeout,
            hard_stop: now + MAX_EXCHANGE_TIME,
        }
    }

    fn progress(&mut self) {
        self.next_frame = Instant::now() + self.frame_timeout;
    }

    fn stop_within(&mut self, grace: Duration) {
        self.hard_stop = self.hard_stop.min(Instant::now() + grace);
    }

    /// None once a deadline has passed.
    fn remaining(&self) -> Option<Duration> {
        let left = self
            .next_frame
            .min(self.hard_stop)
            .saturating_duration_since(Instant::now());
        (!left.is_zero()).then_some(left)
    }
}

fn is_cancelled(cancel: Option<&CancelToken>) -> bool {
    cancel.is_some_and(CancelToken::is_cancelled)
}

/// Reads the INIT answer (whose nonce the caller has matched) and checks the allocated channel.
fn parse_init_answer(answer: &[u8]) -> Result<(Cid, DeviceInfo), HidError> {
    let Ok(fields) = <&[u8; INIT_ANSWER_LEN]>::try_from(answer) else {
        return Err(HidError::Protocol(format!(
            "INIT answer of {} bytes instead of {INIT_ANSWER_LEN}",
            answer.len()
        )));
    };
    // Offsets from the specification; constant indexes into a fixed-size array are checked by
    // the compiler. Bytes 0..8 are the nonce, already matched.
    let cid = [fields[8], fields[9], fields[10], fields[11]];
    if cid == BROADCAST_CID || cid == RESERVED_CID {
        return Err(HidError::Protocol(format!(
            "device allocated the reserved channel {}",
            hex(cid)
        )));
    }
    let info = DeviceInfo {
        protocol_version: fields[12],
        major: fields[13],
        minor: fields[14],
        build: fields[15],
        capabilities: fields[16],
    };
    Ok((cid, info))
}

fn hex(cid: Cid) -> String {
    format!("{:08x}", u32::from_be_bytes(cid))
}
