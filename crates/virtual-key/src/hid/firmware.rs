//! The key's CTAPHID firmware: one thread that reads output reports, assembles messages,
//! enforces the channel rules and executes one transaction at a time.
//!
//! The key is always in one of three states: idle, receiving a message on one channel
//! (`Firmware::assembly`), or processing a CBOR request on one channel (inside
//! `CtapHandler::cbor`, where `RequestIo` services the reports that arrive meanwhile).
//! Only the busy channel may go on; others get CHANNEL_BUSY, except INIT, which never
//! needs the transaction and is always answered.

use std::{
    sync::Arc,
    thread::{self, JoinHandle},
    time::Instant,
};

use tracing::{debug, trace};

use super::{
    CtapHandler, HidIo, KeepAlive, MAX_MESSAGE_SIZE, Report,
    assembly::{Assembled, Assembly, Message, Request, WrongSequence},
    channels::Channels,
    frame::{Cid, Command, ErrorCode, Packet, message_reports},
    link::Link,
};

/// CTAPHID protocol version in the INIT response.
const CTAPHID_VERSION: u8 = 2;
/// Capabilities in the INIT response: WINK (0x01) | CBOR (0x04) | NMSG (0x08: no CTAP1/U2F
/// MSG). LOCK (0x02) is a U2FHID flag that CTAP does not use.
const CAPABILITIES: u8 = 0x01 | 0x04 | 0x08;
/// The device version in the INIT response: this crate's version.
const DEVICE_VERSION: [u8; 3] = [
    version_part(env!("CARGO_PKG_VERSION_MAJOR")),
    version_part(env!("CARGO_PKG_VERSION_MINOR")),
    version_part(env!("CARGO_PKG_VERSION_PATCH")),
];
/// INIT carries an 8-byte nonce that the answer echoes.
const NONCE_SIZE: usize = 8;

const fn version_part(decimal: &str) -> u8 {
    match u8::from_str_radix(decimal, 10) {
        Ok(part) => part,
        Err(_) => 0,
    }
}

/// Starts the firmware thread. It runs until the link is unplugged and then hands the
/// handler back through the join handle.
pub(super) fn spawn(handler: Box<dyn CtapHandler>, link: Arc<Link>) -> JoinHandle<Box<dyn CtapHandler>> {
    let firmware = Firmware { handler, port: Port { link, channels: Channels::new() }, assembly: None };
    thread::Builder::new()
        .name("virtual-key-hid".into())
        .spawn(move || firmware.run())
        .expect("the OS refused a thread for the virtual key (as std::thread::spawn would panic)")
}

struct Firmware {
    handler: Box<dyn CtapHandler>,
    port: Port,
    /// The message being received, if any.
    assembly: Option<Assembly>,
}

impl Firmware {
    fn run(mut self) -> Box<dyn CtapHandler> {
        // If the handler panics, the host must see an unplugged key, not a silent one.
        let _unplug_on_exit = UnplugOnExit(Arc::clone(&self.port.link));
        loop {
            let deadline = self.assembly.as_ref().map(Assembly::deadline);
            let Ok(report) = self.port.link.receive(deadline) else {
                return self.handler; // unplugged
            };
            // Also when a report did arrive: a flood of packets from other channels must
            // not keep a stalled message alive, nor let its late continuation in.
            self.expire_stalled_message();
            if let Some(report) = report {
                self.on_report(&report);
            }
        }
    }

    fn on_report(&mut self, report: &Report) {
        let packet = Packet::parse(report);
        trace_packet(&packet);
        match self.assembly.take() {
            None => self.on_idle_packet(packet),
            Some(assembly) if assembly.cid() == packet.cid() => self.on_assembly_packet(assembly, packet),
            Some(assembly) => {
                self.assembly = Some(assembly);
                self.port.refuse_while_busy(packet);
            }
        }
    }

    fn on_idle_packet(&mut self, packet: Packet<'_>) {
        let Packet::Init { cid, command, length, data } = packet else {
            trace!(cid = ?packet.cid(), "continuation packet with no message pending: ignored");
            return;
        };
        match self.port.admit(cid, command, length) {
            None => {}
            Some(Admitted::Init) => self.port.answer_init(cid, data),
            Some(Admitted::Cancel) => debug!(?cid, "CANCEL with nothing pending: ignored"),
            Some(Admitted::Request(request)) => self.go_on(Assembly::begin(cid, request, length, data)),
        }
    }

    /// A packet on the channel whose message is being received; `assembly` is already
    /// out of `self`, so anything but the next continuation abandons the message.
    fn on_assembly_packet(&mut self, assembly: Assembly, packet: Packet<'_>) {
        let cid = assembly.cid();
        match packet {
            Packet::Continuation { seq, data, .. } => match assembly.add(seq, data) {
                Ok(assembled) => self.go_on(assembled),
                Err(WrongSequence) => {
                    debug!(?cid, seq, "continuation packet out of sequence: message dropped");
                    self.port.send_error(cid, ErrorCode::InvalidSeq);
                }
            },
            // INIT resynchronises the channel and CANCEL withdraws the message; both are
            // then handled as on an idle channel.
            Packet::Init { command, .. }
                if is_command(command, Command::Init) || is_command(command, Command::Cancel) =>
            {
                debug!(?cid, "message being received abandoned by the host");
                self.on_idle_packet(packet);
            }
            Packet::Init { .. } => {
                debug!(?cid, "new message before the previous one was complete: both dropped");
                self.port.send_error(cid, ErrorCode::InvalidSeq);
            }
        }
    }

    fn expire_stalled_message(&mut self) {
        let Some(assembly) = self.assembly.take_if(|assembly| assembly.deadline() <= Instant::now()) else {
            return;
        };
        debug!(cid = ?assembly.cid(), "no next packet in time: message dropped");
        self.port.send_error(assembly.cid(), ErrorCode::MsgTimeout);
    }

    fn go_on(&mut self, assembled: Assembled) {
        match assembled {
            Assembled::Partial(assembly) => self.assembly = Some(assembly),
            Assembled::Complete(message) => self.execute(message),
        }
    }

    fn execute(&mut self, Message { cid, request, payload }: Message) {
        debug!(?cid, ?request, length = payload.len(), "request");
        match request {
            Request::Ping => self.port.send(cid, Command::Ping, &payload),
            Request::Wink => {
                self.handler.wink();
                self.port.send(cid, Command::Wink, &[]);
            }
            Request::Cbor => self.process_cbor(cid, &payload),
        }
    }

    fn process_cbor(&mut self, cid: Cid, request: &[u8]) {
        let mut io = RequestIo { port: &mut self.port, cid, state: RequestState::Running };
        let response = self.handler.cbor(request, &mut io);
        if io.state == RequestState::Abandoned {
            debug!(?cid, "request abandoned (channel re-initialised or key unplugged): response dropped");
            return;
        }
        debug!(?cid, length = response.len(), "response");
        self.port.send(cid, Command::Cbor, &response);
    }
}

/// What an initialization packet may start, once its channel, command and length passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Admitted {
    Init,
    Cancel,
    Request(Request),
}

impl Admitted {
    fn accepts_length(self, length: usize) -> bool {
        match self {
            Admitted::Init => length == NONCE_SIZE,
            // CANCEL carries nothing, but a host that adds bytes still means "cancel".
            Admitted::Cancel => true,
            Admitted::Request(Request::Ping) => length <= MAX_MESSAGE_SIZE,
            Admitted::Request(Request::Wink) => length == 0,
            // At least the CTAP2 command byte.
            Admitted::Request(Request::Cbor) => (1..=MAX_MESSAGE_SIZE).contains(&length),
        }
    }
}

/// The key's end of the link and its channel table: everything the firmware needs to
/// answer a packet, whatever state it is in.
struct Port {
    link: Arc<Link>,
    channels: Channels,
}

impl Port {
    /// Checks an initialization packet's channel, command and length, in that order, and
    /// answers the first failure itself.
    fn admit(&self, cid: Cid, command: u8, length: usize) -> Option<Admitted> {
        let command = Command::from_byte(command);
        let is_init = command == Some(Command::Init);
        if !(self.channels.is_allocated(cid) || (is_init && cid == Cid::BROADCAST)) {
            debug!(?cid, ?command, "command on a channel that was not allocated");
            self.send_error(cid, ErrorCode::InvalidChannel);
            return None;
        }
        let admitted = match command {
            Some(Command::Init) => Admitted::Init,
            Some(Command::Cancel) => Admitted::Cancel,
            Some(Command::Ping) => Admitted::Request(Request::Ping),
            Some(Command::Wink) => Admitted::Request(Request::Wink),
            Some(Command::Cbor) => Admitted::Request(Request::Cbor),
            // MSG (no U2F), LOCK (optional), the key-to-host commands, unknown and vendor ones.
            Some(Command::Msg | Command::Lock | Command::KeepAlive | Command::Error) | None => {
                debug!(?cid, ?command, "unsupported command");
                self.send_error(cid, ErrorCode::InvalidCmd);
                return None;
            }
        };
        if !admitted.accepts_length(length) {
            debug!(?cid, ?admitted, length, "wrong message length");
            self.send_error(cid, ErrorCode::InvalidLen);
            return None;
        }
        Some(admitted)
    }

    /// Answers an admitted INIT: on broadcast with a new channel, on an allocated channel
    /// with that same channel (resync). `data` is the initialization packet's data.
    fn answer_init(&mut self, cid: Cid, data: &[u8]) {
        let channel = if cid == Cid::BROADCAST { self.channels.allocate() } else { Some(cid) };
        let Some(channel) = channel else {
            debug!("channel ids exhausted");
            self.send_error(cid, ErrorCode::Other);
            return;
        };
        debug!(?cid, ?channel, "INIT");
        let mut answer = [0; 17];
        answer[..NONCE_SIZE].copy_from_slice(&data[..NONCE_SIZE]);
        answer[8..12].copy_from_slice(&channel.to_bytes());
        answer[12] = CTAPHID_VERSION;
        answer[13..16].copy_from_slice(&DEVICE_VERSION);
        answer[16] = CAPABILITIES;
        self.send(cid, Command::Init, &answer);
    }

    /// A packet from another channel while the key is busy with a transaction.
    fn refuse_while_busy(&mut self, packet: Packet<'_>) {
        match packet {
            Packet::Init { cid, command, length, data } => match self.admit(cid, command, length) {
                None => {}
                Some(Admitted::Init) => self.answer_init(cid, data),
                Some(Admitted::Cancel) => debug!(?cid, "CANCEL with nothing pending on its channel: ignored"),
                Some(Admitted::Request(request)) => {
                    debug!(?cid, ?request, "busy with another channel");
                    self.send_error(cid, ErrorCode::ChannelBusy);
                }
            },
            Packet::Continuation { cid, .. } if self.channels.is_allocated(cid) => {
                debug!(?cid, "continuation packet while busy with another channel");
                self.send_error(cid, ErrorCode::ChannelBusy);
            }
            Packet::Continuation { cid, .. } => {
                trace!(?cid, "continuation packet on a channel that was not allocated: ignored");
            }
        }
    }

    /// Sends one message. A payload too long to frame is a handler bug; the host gets
    /// ERROR OTHER rather than a truncated response.
    fn send(&self, cid: Cid, command: Command, payload: &[u8]) {
        let Some(reports) = message_reports(cid, command, payload) else {
            debug!(?cid, ?command, length = payload.len(), "response too long for CTAPHID");
            self.send_error(cid, ErrorCode::Other);
            return;
        };
        for report in reports {
            if self.link.send(report).is_err() {
                return; // unplugged: nobody is listening any more
            }
        }
    }

    fn send_error(&self, cid: Cid, code: ErrorCode) {
        debug!(?cid, ?code, "ERROR");
        self.send(cid, Command::Error, &[code as u8]);
    }
}

/// How far one CBOR request got, as seen from the transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RequestState {
    Running,
    /// The host sent CANCEL; it still expects the (cancelled) response.
    CancelRequested,
    /// Nobody expects a response any more: the channel was re-initialised, or the key is
    /// being unplugged.
    Abandoned,
}

/// The transport as a handler sees it during one CBOR request.
struct RequestIo<'p> {
    port: &'p mut Port,
    cid: Cid,
    state: RequestState,
}

impl HidIo for RequestIo<'_> {
    fn keepalive(&mut self, status: KeepAlive) {
        if self.state != RequestState::Abandoned {
            trace!(cid = ?self.cid, ?status, "KEEPALIVE");
            self.port.send(self.cid, Command::KeepAlive, &[status as u8]);
        }
    }

    /// Drains what the host has sent so far without waiting. Stops at the first report
    /// that ends the request, leaving the rest queued for after it.
    fn cancelled(&mut self) -> bool {
        while self.state == RequestState::Running {
            match self.port.link.try_receive() {
                Ok(Some(report)) => self.service(&report),
                Ok(None) => break,
                Err(_unplugged) => self.state = RequestState::Abandoned,
            }
        }
        self.state != RequestState::Running
    }
}

impl RequestIo<'_> {
    fn service(&mut self, report: &Report) {
        let packet = Packet::parse(report);
        trace_packet(&packet);
        if packet.cid() != self.cid {
            self.port.refuse_while_busy(packet);
            return;
        }
        let cid = self.cid;
        match packet {
            Packet::Init { command, .. } if is_command(command, Command::Cancel) => {
                debug!(?cid, "CANCEL");
                self.state = RequestState::CancelRequested;
            }
            Packet::Init { command, length, data, .. } if is_command(command, Command::Init) => {
                if self.port.admit(cid, command, length) == Some(Admitted::Init) {
                    debug!(?cid, "channel re-initialised during a request");
                    self.port.answer_init(cid, data);
                    self.state = RequestState::Abandoned;
                }
            }
            Packet::Init { .. } => {
                debug!(?cid, "new message while this channel's request is processed");
                self.port.send_error(cid, ErrorCode::ChannelBusy);
            }
            Packet::Continuation { .. } => trace!(?cid, "continuation packet during a request: ignored"),
        }
    }
}

/// Marks the link unplugged when the firmware thread ends, however it ends.
struct UnplugOnExit(Arc<Link>);

impl Drop for UnplugOnExit {
    fn drop(&mut self) {
        self.0.unplug();
    }
}

fn is_command(byte: u8, command: Command) -> bool {
    byte == command as u8
}

/// Packet headers only: payload bytes may be PIN material.
fn trace_packet(packet: &Packet<'_>) {
    match *packet {
        Packet::Init { cid, command, length, .. } => trace!(?cid, command, length, "initialization packet"),
        Packet::Continuation { cid, seq, .. } => trace!(?cid, seq, "continuation packet"),
    }
}
