//! The key driven as a host drives it. The little host here frames and unframes messages
//! from the spec sheet on its own, sharing nothing with the firmware's `frame` module, so
//! that one misreading of the spec cannot hide in both.

use std::{
    collections::HashSet,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use proptest::prelude::*;
use rand::RngExt;

use super::{link::TO_HOST_CAPACITY, *};

// Wire values from the spec sheet (commands with bit 7 set, as in an initialization packet).
const BROADCAST: u32 = 0xFFFF_FFFF;
const PING: u8 = 0x81;
const MSG: u8 = 0x83;
const LOCK: u8 = 0x84;
const INIT: u8 = 0x86;
const WINK: u8 = 0x88;
const CBOR: u8 = 0x90;
const CANCEL: u8 = 0x91;
const KEEPALIVE: u8 = 0xBB;
const ERROR: u8 = 0xBF;

const ERR_INVALID_CMD: u8 = 0x01;
const ERR_INVALID_LEN: u8 = 0x03;
const ERR_INVALID_SEQ: u8 = 0x04;
const ERR_MSG_TIMEOUT: u8 = 0x05;
const ERR_CHANNEL_BUSY: u8 = 0x06;
const ERR_INVALID_CHANNEL: u8 = 0x0B;
const ERR_OTHER: u8 = 0x7F;

const STATUS_UP_NEEDED: u8 = 2;
const CTAP2_OK: u8 = 0x00;
const CTAP2_ERR_KEEPALIVE_CANCEL: u8 = 0x2D;

/// Only reached when a test fails; generous for a loaded CI machine.
const ANSWER_WITHIN: Duration = Duration::from_secs(5);
/// How long the host listens before concluding that the key says nothing.
const SILENCE: Duration = Duration::from_millis(200);

// ---------------------------------------------------------------------------------------
// The test host
// ---------------------------------------------------------------------------------------

/// Cuts a message into reports: 7 header bytes and 57 data bytes first, then 5 header
/// bytes and 59 data bytes per continuation, zero padded.
fn frame(cid: u32, cmd: u8, payload: &[u8]) -> Vec<Report> {
    let mut first = [0u8; 64];
    first[..4].copy_from_slice(&cid.to_be_bytes());
    first[4] = cmd;
    first[5..7].copy_from_slice(&(payload.len() as u16).to_be_bytes());
    let in_first = payload.len().min(57);
    first[7..7 + in_first].copy_from_slice(&payload[..in_first]);
    let mut reports = vec![first];
    for (seq, chunk) in payload[in_first..].chunks(59).enumerate() {
        let mut next = [0u8; 64];
        next[..4].copy_from_slice(&cid.to_be_bytes());
        next[4] = seq as u8;
        next[5..5 + chunk.len()].copy_from_slice(chunk);
        reports.push(next);
    }
    reports
}

fn cid_of(report: &Report) -> u32 {
    u32::from_be_bytes([report[0], report[1], report[2], report[3]])
}

/// One message from the key.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Answer {
    cid: u32,
    cmd: u8,
    payload: Vec<u8>,
}

fn error(cid: u32, code: u8) -> Answer {
    Answer { cid, cmd: ERROR, payload: vec![code] }
}

fn up_needed(cid: u32) -> Answer {
    Answer { cid, cmd: KEEPALIVE, payload: vec![STATUS_UP_NEEDED] }
}

struct Host {
    key: HidDevice,
}

impl Host {
    fn write(&self, report: &Report) {
        self.key.write(report).expect("the key takes the report");
    }

    fn send(&self, cid: u32, cmd: u8, payload: &[u8]) {
        for report in frame(cid, cmd, payload) {
            self.write(&report);
        }
    }

    /// The next message, or None if the key says nothing for `wait`. Checks the framing:
    /// an initialization packet first, continuations on the same channel in sequence,
    /// zeros after the payload.
    fn receive_within(&self, wait: Duration) -> Option<Answer> {
        let first = self.key.read(wait).expect("the key is plugged in")?;
        assert_ne!(first[4] & 0x80, 0, "a message starts with an initialization packet");
        let cid = cid_of(&first);
        let length = usize::from(u16::from_be_bytes([first[5], first[6]]));
        assert!(length <= MAX_MESSAGE_SIZE, "BCNT {length}");
        let mut used = 7 + length.min(57);
        let mut payload = first[7..used].to_vec();
        let mut last = first;
        for seq in 0u8.. {
            if payload.len() == length {
                break;
            }
            let next = self.key.read(ANSWER_WITHIN).unwrap().expect("the rest of the message");
            assert_eq!((cid_of(&next), next[4]), (cid, seq), "continuation packet");
            let take = (length - payload.len()).min(59);
            payload.extend_from_slice(&next[5..5 + take]);
            used = 5 + take;
            last = next;
        }
        assert!(last[used..].iter().all(|&byte| byte == 0), "unused bytes are zero: {last:?}");
        Some(Answer { cid, cmd: first[4], payload })
    }

    fn receive(&self) -> Answer {
        self.receive_within(ANSWER_WITHIN).expect("an answer from the key")
    }

    /// The next message that is not a KEEPALIVE.
    fn receive_skipping_keepalives(&self) -> Answer {
        loop {
            let answer = self.receive();
            if answer.cmd != KEEPALIVE {
                return answer;
            }
        }
    }

    fn assert_silent(&self) {
        assert_eq!(self.receive_within(SILENCE), None, "the key should say nothing");
    }

    fn request(&self, cid: u32, cmd: u8, payload: &[u8]) -> Answer {
        self.send(cid, cmd, payload);
        self.receive()
    }

    /// Allocates a channel with INIT on broadcast and checks the answer.
    fn init(&self) -> u32 {
        let nonce: [u8; 8] = rand::rng().random();
        let answer = self.request(BROADCAST, INIT, &nonce);
        assert_eq!((answer.cid, answer.cmd, answer.payload.len()), (BROADCAST, INIT, 17));
        assert_eq!(answer.payload[..8], nonce);
        let cid = u32::from_be_bytes(answer.payload[8..12].try_into().unwrap());
        assert!(cid != 0 && cid != BROADCAST, "allocated {cid:08x}");
        cid
    }

    fn assert_ping_works(&self, cid: u32) {
        let answer = self.request(cid, PING, b"still alive");
        assert_eq!(answer, Answer { cid, cmd: PING, payload: b"still alive".to_vec() });
    }
}

// ---------------------------------------------------------------------------------------
// The test key
// ---------------------------------------------------------------------------------------

/// CTAP2 command bytes the test key understands, from the vendor range.
const ECHO: u8 = 0x40; // answers CTAP2_OK followed by the rest of the request
const WAIT_FOR_TOUCH: u8 = 0x41; // a user who never touches: waits until cancelled
const TOO_LONG: u8 = 0x42; // answers one byte more than CTAPHID can carry

/// What the test key did, seen from outside the device thread.
#[derive(Clone, Default)]
struct Seen {
    power_ups: Arc<AtomicUsize>,
    winks: Arc<AtomicUsize>,
    dropped: Arc<AtomicBool>,
}

struct TestKey {
    seen: Seen,
}

impl CtapHandler for TestKey {
    fn power_up(&mut self) {
        self.seen.power_ups.fetch_add(1, Ordering::SeqCst);
    }

    fn cbor(&mut self, request: &[u8], io: &mut dyn HidIo) -> Vec<u8> {
        match request.split_first() {
            Some((&WAIT_FOR_TOUCH, _)) => wait_until_cancelled(io),
            Some((&TOO_LONG, _)) => vec![CTAP2_OK; MAX_MESSAGE_SIZE + 1],
            Some((&ECHO, rest)) => [&[CTAP2_OK][..], rest].concat(),
            _ => vec![0x01], // CTAP1_ERR_INVALID_COMMAND
        }
    }

    fn wink(&mut self) {
        self.seen.winks.fetch_add(1, Ordering::SeqCst);
    }
}

impl Drop for TestKey {
    fn drop(&mut self) {
        self.seen.dropped.store(true, Ordering::SeqCst);
    }
}

/// A key waiting for a touch: "touch needed" and a look for CANCEL every 10 ms.
fn wait_until_cancelled(io: &mut dyn HidIo) -> Vec<u8> {
    let give_up = Instant::now() + Duration::from_secs(20); // a broken test must not hang
    while Instant::now() < give_up {
        io.keepalive(KeepAlive::UpNeeded);
        if io.cancelled() {
            return vec![CTAP2_ERR_KEEPALIVE_CANCEL];
        }
        thread::sleep(Duration::from_millis(10));
    }
    vec![0x2F] // CTAP2_ERR_USER_ACTION_TIMEOUT
}

fn plug_in() -> (Host, Seen) {
    let seen = Seen::default();
    let key = HidDevice::plug_in(TestKey { seen: seen.clone() });
    (Host { key }, seen)
}

// ---------------------------------------------------------------------------------------
// Channels
// ---------------------------------------------------------------------------------------

#[test]
fn init_on_broadcast_describes_the_key() {
    let (host, _) = plug_in();
    let answer = host.request(BROADCAST, INIT, b"12345678");
    let version: Vec<u8> =
        [env!("CARGO_PKG_VERSION_MAJOR"), env!("CARGO_PKG_VERSION_MINOR"), env!("CARGO_PKG_VERSION_PATCH")]
            .iter()
            .map(|part| part.parse().unwrap())
            .collect();
    assert_eq!((answer.cid, answer.cmd), (BROADCAST, INIT));
    assert_eq!(&answer.payload[..8], b"12345678");
    assert_eq!(answer.payload[12], 2, "CTAPHID protocol version");
    assert_eq!(answer.payload[13..16], version[..], "device version");
    assert_eq!(answer.payload[16], 0x01 | 0x04 | 0x08, "WINK | CBOR | NMSG");
}

#[test]
fn init_on_broadcast_allocates_a_new_working_channel_each_time() {
    let (host, _) = plug_in();
    let channels: Vec<u32> = (0..300).map(|_| host.init()).collect();
    let unique: HashSet<u32> = channels.iter().copied().collect();
    assert_eq!(unique.len(), channels.len(), "channel ids are unique");
    for cid in [channels[0], channels[150], channels[299]] {
        host.assert_ping_works(cid);
    }
}

#[test]
fn init_on_an_allocated_channel_resyncs_it_and_keeps_its_id() {
    let (host, _) = plug_in();
    let cid = host.init();
    let ping = frame(cid, PING, &[7; 100]);
    host.write(&ping[0]);

    let answer = host.request(cid, INIT, b"resync!!");
    assert_eq!((answer.cid, answer.cmd), (cid, INIT));
    assert_eq!(&answer.payload[..8], b"resync!!");
    assert_eq!(answer.payload[8..12], cid.to_be_bytes(), "same channel");

    host.write(&ping[1]); // the rest of the abandoned message: ignored
    host.assert_silent();
    host.assert_ping_works(cid);
}

#[test]
fn only_init_may_use_broadcast_and_other_channels_must_be_allocated() {
    let (host, _) = plug_in();
    let cid = host.init();
    let never_allocated = cid.wrapping_add(1000);
    assert_eq!(host.request(BROADCAST, PING, b"hi"), error(BROADCAST, ERR_INVALID_CHANNEL));
    assert_eq!(host.request(BROADCAST, CBOR, &[ECHO]), error(BROADCAST, ERR_INVALID_CHANNEL));
    assert_eq!(host.request(0, INIT, b"12345678"), error(0, ERR_INVALID_CHANNEL));
    assert_eq!(host.request(0, PING, b"hi"), error(0, ERR_INVALID_CHANNEL));
    assert_eq!(host.request(never_allocated, PING, b"hi"), error(never_allocated, ERR_INVALID_CHANNEL));
    assert_eq!(host.request(never_allocated, INIT, b"12345678"), error(never_allocated, ERR_INVALID_CHANNEL));
    host.assert_ping_works(cid);
}

// ---------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------

fn payload_of_any_size() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![Just(0usize), Just(57), Just(58), Just(116), Just(117), Just(MAX_MESSAGE_SIZE), 0..=MAX_MESSAGE_SIZE,]
        .prop_flat_map(|size| proptest::collection::vec(any::<u8>(), size))
}

proptest! {
    #[test]
    fn ping_echoes_every_size(payload in payload_of_any_size()) {
        let (host, _) = plug_in();
        let cid = host.init();
        prop_assert_eq!(host.request(cid, PING, &payload), Answer { cid, cmd: PING, payload });
    }
}

#[test]
fn answers_are_split_at_the_packet_boundaries() {
    let (host, _) = plug_in();
    let cid = host.init();
    for (size, reports) in [(0, 1), (57, 1), (58, 2), (116, 2), (117, 3), (MAX_MESSAGE_SIZE, 129)] {
        host.send(cid, PING, &vec![0xA5; size]);
        let received: Vec<Report> = std::iter::from_fn(|| host.key.read(SILENCE).unwrap()).collect();
        assert_eq!(received.len(), reports, "{size} bytes");
        assert!(received.iter().all(|report| cid_of(report) == cid));
    }
}

#[test]
fn a_message_longer_than_7609_bytes_is_invalid_len() {
    let (host, _) = plug_in();
    let cid = host.init();
    for length in [MAX_MESSAGE_SIZE + 1, usize::from(u16::MAX)] {
        let mut report = frame(cid, PING, &[])[0];
        report[5..7].copy_from_slice(&(length as u16).to_be_bytes());
        host.write(&report);
        assert_eq!(host.receive(), error(cid, ERR_INVALID_LEN));
    }
    host.assert_ping_works(cid);
}

#[test]
fn wrong_lengths_for_init_wink_and_cbor_are_invalid_len() {
    let (host, _) = plug_in();
    let cid = host.init();
    assert_eq!(host.request(BROADCAST, INIT, b"1234567"), error(BROADCAST, ERR_INVALID_LEN));
    assert_eq!(host.request(cid, INIT, b"123456789"), error(cid, ERR_INVALID_LEN));
    assert_eq!(host.request(cid, WINK, b"x"), error(cid, ERR_INVALID_LEN));
    assert_eq!(host.request(cid, CBOR, b""), error(cid, ERR_INVALID_LEN));
    host.assert_ping_works(cid);
}

#[test]
fn another_channel_is_busy_while_a_message_is_being_received_and_works_after() {
    let (host, _) = plug_in();
    let (first, second) = (host.init(), host.init());
    let long_ping = frame(first, PING, &[1; 200]);
    host.write(&long_ping[0]);

    assert_eq!(host.request(second, PING, b"me too"), error(second, ERR_CHANNEL_BUSY));
    host.write(&frame(second, PING, &[2; 100])[1]); // a continuation from the other channel
    assert_eq!(host.receive(), error(second, ERR_CHANNEL_BUSY));
    let third = host.init(); // INIT needs no transaction: still answered

    for report in &long_ping[1..] {
        host.write(report);
    }
    assert_eq!(host.receive(), Answer { cid: first, cmd: PING, payload: vec![1; 200] });
    host.assert_ping_works(second);
    host.assert_ping_works(third);
}

/// One message a host wants the key to echo: a PING, or a CBOR request to the test key's
/// ECHO command.
#[derive(Clone, Debug)]
struct EchoRequest {
    cbor: bool,
    data: Vec<u8>,
}

impl EchoRequest {
    fn frames(&self, cid: u32) -> Vec<Report> {
        if self.cbor { frame(cid, CBOR, &[&[ECHO][..], &self.data].concat()) } else { frame(cid, PING, &self.data) }
    }

    fn echo(&self, cid: u32) -> Answer {
        if self.cbor {
            Answer { cid, cmd: CBOR, payload: [&[CTAP2_OK][..], &self.data].concat() }
        } else {
            Answer { cid, cmd: PING, payload: self.data.clone() }
        }
    }
}

fn echo_requests() -> impl Strategy<Value = Vec<EchoRequest>> {
    let size = prop_oneof![0..=60usize, 0..=400usize, 1000..=MAX_MESSAGE_SIZE - 1];
    let request = (any::<bool>(), size).prop_flat_map(|(cbor, size)| {
        proptest::collection::vec(any::<u8>(), size).prop_map(move |data| EchoRequest { cbor, data })
    });
    proptest::collection::vec(request, 0..5)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Two hosts on two channels each send whole messages, their packets interleaved as
    /// `schedule` says. Whoever starts first owns the key until its message is complete;
    /// the other hears CHANNEL_BUSY (once per packet that arrives meanwhile) and sends its
    /// message again later. Every message is echoed exactly once, intact, to its own
    /// channel, and nothing else is ever said.
    #[test]
    fn two_channels_interleaving_whole_messages_each_get_their_echo_or_busy(
        messages in [echo_requests(), echo_requests()],
        schedule in proptest::collection::vec(any::<bool>(), 1..64),
    ) {
        let (host, _) = plug_in();
        let cids = [host.init(), host.init()];
        let mut queues = messages.map(std::collections::VecDeque::from);
        let mut turns = schedule.iter().cycle();
        let mut rounds = 0;
        while queues.iter().any(|queue| !queue.is_empty()) {
            rounds += 1;
            prop_assert!(rounds <= 20, "a message kept losing");
            // This round's attempt per channel: the front message, all its packets.
            let mut packets: Vec<std::collections::VecDeque<Report>> = (0..2)
                .map(|i| queues[i].front().map(|m| m.frames(cids[i]).into()).unwrap_or_default())
                .collect();
            let mut answers = Vec::new();
            while packets.iter().any(|p| !p.is_empty()) {
                let mut turn = usize::from(*turns.next().unwrap());
                if packets[turn].is_empty() {
                    turn = 1 - turn;
                }
                host.write(&packets[turn].pop_front().unwrap());
                while let Some(answer) = host.receive_within(Duration::ZERO) {
                    answers.push(answer);
                }
            }
            // The winner's echo comes after every BUSY it caused, so a channel is settled
            // by its echo, or by a BUSY followed by the other's echo.
            let echoed = |answers: &[Answer], i: usize| {
                queues[i].front().is_some_and(|m| answers.contains(&m.echo(cids[i])))
            };
            let busy = |answers: &[Answer], i: usize| answers.contains(&error(cids[i], ERR_CHANNEL_BUSY));
            let settled = |answers: &[Answer], i: usize| {
                queues[i].is_empty() || echoed(answers, i) || (busy(answers, i) && echoed(answers, 1 - i))
            };
            while !(settled(&answers, 0) && settled(&answers, 1)) {
                answers.push(host.receive());
            }
            for answer in &answers {
                let i = cids.iter().position(|&cid| cid == answer.cid);
                prop_assert!(i.is_some(), "an answer on a channel nobody used: {:?}", answer);
                let i = i.unwrap();
                let expected = queues[i].front().map(|m| m.echo(cids[i]));
                prop_assert!(
                    Some(answer) == expected.as_ref() || *answer == error(cids[i], ERR_CHANNEL_BUSY),
                    "channel {} got {:?}", i, answer
                );
            }
            let echoes: Vec<bool> = (0..2).map(|i| echoed(&answers, i)).collect();
            prop_assert!(echoes.iter().any(|&e| e), "both channels lost");
            for i in 0..2 {
                let expected = queues[i].front().map(|m| m.echo(cids[i]));
                let copies = answers.iter().filter(|a| Some(*a) == expected.as_ref()).count();
                prop_assert!(copies <= 1, "channel {} echoed {} times", i, copies);
                if echoes[i] {
                    prop_assert!(!busy(&answers, i), "channel {} got both its echo and BUSY", i);
                    queues[i].pop_front();
                }
            }
        }
        // Nothing is left over: the next answers are exactly these.
        host.assert_ping_works(cids[0]);
        host.assert_ping_works(cids[1]);
    }
}

#[test]
fn a_wrong_sequence_number_is_invalid_seq_and_drops_the_message() {
    let (host, _) = plug_in();
    let cid = host.init();
    let ping = frame(cid, PING, &[3; 200]); // sequence numbers 0, 1, 2
    host.write(&ping[0]);
    host.write(&ping[2]);
    assert_eq!(host.receive(), error(cid, ERR_INVALID_SEQ));
    host.write(&ping[1]); // the message is gone: ignored
    host.assert_silent();

    host.write(&ping[0]);
    host.write(&ping[1]);
    host.write(&ping[1]); // a repeated packet
    assert_eq!(host.receive(), error(cid, ERR_INVALID_SEQ));
    host.assert_ping_works(cid);
}

#[test]
fn a_new_message_on_the_channel_before_the_last_is_complete_is_invalid_seq() {
    let (host, _) = plug_in();
    let cid = host.init();
    host.write(&frame(cid, PING, &[4; 100])[0]);
    host.write(&frame(cid, PING, b"again")[0]);
    assert_eq!(host.receive(), error(cid, ERR_INVALID_SEQ));
    host.assert_silent();
    host.assert_ping_works(cid);
}

#[test]
fn a_continuation_packet_while_idle_is_ignored() {
    let (host, _) = plug_in();
    let cid = host.init();
    host.write(&frame(cid, PING, &[5; 100])[1]);
    host.write(&frame(0x1234_5678, PING, &[5; 100])[1]);
    host.assert_silent();
    host.assert_ping_works(cid);
}

#[test]
fn a_stalled_message_times_out_with_msg_timeout() {
    let (host, _) = plug_in();
    let cid = host.init();
    let ping = frame(cid, PING, &[6; 100]);
    let sent = Instant::now();
    host.write(&ping[0]);
    let answer = host.receive_within(INTER_PACKET_TIMEOUT + ANSWER_WITHIN);
    assert_eq!(answer, Some(error(cid, ERR_MSG_TIMEOUT)));
    assert!(sent.elapsed() >= INTER_PACKET_TIMEOUT, "timed out after {:?}", sent.elapsed());
    host.write(&ping[1]); // too late: ignored
    host.assert_silent();
    host.assert_ping_works(cid);
}

// ---------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------

#[test]
fn unsupported_and_unknown_commands_are_invalid_cmd() {
    let (host, _) = plug_in();
    let cid = host.init();
    for cmd in [MSG, LOCK, KEEPALIVE, ERROR, 0x80, 0x82, 0x8F, 0xC0, 0xFF] {
        assert_eq!(host.request(cid, cmd, &[0; 10]), error(cid, ERR_INVALID_CMD), "command {cmd:#04x}");
    }
    // Refused at the first packet: the rest of the message is then ignored.
    assert_eq!(host.request(cid, MSG, &[0; 100]), error(cid, ERR_INVALID_CMD));
    host.assert_silent();
    host.assert_ping_works(cid);
}

#[test]
fn wink_calls_the_handler_and_answers_empty() {
    let (host, seen) = plug_in();
    let cid = host.init();
    assert_eq!(host.request(cid, WINK, &[]), Answer { cid, cmd: WINK, payload: vec![] });
    assert_eq!(seen.winks.load(Ordering::SeqCst), 1);
}

#[test]
fn cbor_requests_reach_the_handler_and_long_responses_come_back_whole() {
    let (host, _) = plug_in();
    let cid = host.init();
    assert_eq!(host.request(cid, CBOR, &[ECHO, 0xA0]), Answer { cid, cmd: CBOR, payload: vec![CTAP2_OK, 0xA0] });
    let mut long = vec![ECHO];
    long.extend((0..MAX_MESSAGE_SIZE - 1).map(|i| i as u8));
    let answer = host.request(cid, CBOR, &long);
    assert_eq!(answer.payload[0], CTAP2_OK);
    assert_eq!(answer.payload[1..], long[1..]);
}

#[test]
fn a_response_too_long_to_frame_becomes_error_other() {
    let (host, _) = plug_in();
    let cid = host.init();
    assert_eq!(host.request(cid, CBOR, &[TOO_LONG]), error(cid, ERR_OTHER));
    host.assert_ping_works(cid);
}

#[test]
fn cancel_ends_a_request_that_waits_for_a_touch() {
    let (host, _) = plug_in();
    let cid = host.init();
    host.send(cid, CBOR, &[WAIT_FOR_TOUCH]);
    for _ in 0..3 {
        assert_eq!(host.receive(), up_needed(cid));
    }
    host.send(cid, CANCEL, &[]);
    let answer = host.receive_skipping_keepalives();
    assert_eq!(answer, Answer { cid, cmd: CBOR, payload: vec![CTAP2_ERR_KEEPALIVE_CANCEL] });
    host.assert_silent();
    host.assert_ping_works(cid);
}

#[test]
fn while_a_request_is_processed_other_channels_are_busy_but_init_is_answered() {
    let (host, _) = plug_in();
    let (busy, other) = (host.init(), host.init());
    host.send(busy, CBOR, &[WAIT_FOR_TOUCH]);
    assert_eq!(host.receive(), up_needed(busy));

    host.send(other, PING, b"hello?");
    assert_eq!(host.receive_skipping_keepalives(), error(other, ERR_CHANNEL_BUSY));
    host.send(other, CBOR, &[ECHO]);
    assert_eq!(host.receive_skipping_keepalives(), error(other, ERR_CHANNEL_BUSY));
    host.send(BROADCAST, INIT, b"newcomer");
    let answer = host.receive_skipping_keepalives();
    assert_eq!((answer.cid, answer.cmd, &answer.payload[..8]), (BROADCAST, INIT, &b"newcomer"[..]));
    host.send(busy, PING, b"me again");
    assert_eq!(host.receive_skipping_keepalives(), error(busy, ERR_CHANNEL_BUSY));
    host.send(other, CANCEL, &[]); // nothing pending there: no answer, no effect
    host.send(busy, CANCEL, &[]);
    let answer = host.receive_skipping_keepalives();
    assert_eq!(answer, Answer { cid: busy, cmd: CBOR, payload: vec![CTAP2_ERR_KEEPALIVE_CANCEL] });
    host.assert_silent();
    host.assert_ping_works(other);
}

#[test]
fn init_on_the_busy_channel_abandons_its_request() {
    let (host, _) = plug_in();
    let cid = host.init();
    host.send(cid, CBOR, &[WAIT_FOR_TOUCH]);
    assert_eq!(host.receive(), up_needed(cid));
    host.send(cid, INIT, b"start!!!");
    let answer = host.receive_skipping_keepalives();
    assert_eq!((answer.cid, answer.cmd, &answer.payload[..8]), (cid, INIT, &b"start!!!"[..]));
    host.assert_silent(); // neither the response nor more keepalives
    host.assert_ping_works(cid);
}

#[test]
fn a_stalled_message_times_out_even_if_reports_are_waiting_at_the_deadline() {
    let (host, _) = plug_in();
    let (stalled, chatty) = (host.init(), host.init());
    let ping = frame(stalled, PING, &[6; 100]);
    host.write(&ping[0]);
    // Not reading makes the key stall on its full output queue with our reports queued
    // behind, so when it resumes after the deadline it is never idle.
    let flood = TO_HOST_CAPACITY + 10;
    for _ in 0..flood {
        host.send(chatty, PING, b"busy?");
    }
    thread::sleep(INTER_PACKET_TIMEOUT + Duration::from_millis(200));
    host.write(&ping[1]); // too late

    let answers: Vec<Answer> = std::iter::from_fn(|| host.receive_within(SILENCE)).collect();
    let timed_out = error(stalled, ERR_MSG_TIMEOUT);
    assert!(answers.contains(&timed_out), "no MSG_TIMEOUT");
    assert!(answers.iter().all(|answer| answer.cid == chatty || *answer == timed_out), "late continuation accepted");
    assert_eq!(answers.iter().filter(|answer| answer.cid == chatty).count(), flood);
}

#[test]
fn cancel_with_nothing_pending_is_not_answered() {
    let (host, _) = plug_in();
    let cid = host.init();
    host.send(cid, CANCEL, &[]);
    host.assert_silent();
    host.assert_ping_works(cid);
}

// ---------------------------------------------------------------------------------------
// Plugging
// ---------------------------------------------------------------------------------------

#[test]
fn unplugging_mid_request_stops_the_key_and_hands_the_handler_back() {
    let (host, seen) = plug_in();
    let user = host.key.clone();
    let cid = host.init();
    host.send(cid, CBOR, &[WAIT_FOR_TOUCH]);
    assert_eq!(host.receive(), up_needed(cid));

    let handler = user.unplug().expect("the first unplug hands the handler back");
    assert!(!host.key.is_plugged_in() && !user.is_plugged_in());
    assert_eq!(host.key.read(Duration::from_millis(10)), Err(Unplugged));
    assert_eq!(host.key.write(&frame(cid, PING, b"hi")[0]), Err(WriteError::Unplugged(Unplugged)));
    assert!(host.key.unplug().is_none(), "already unplugged");
    assert_eq!(seen.power_ups.load(Ordering::SeqCst), 1);
    assert!(!seen.dropped.load(Ordering::SeqCst));

    let host = Host { key: HidDevice::plug_in(handler) };
    assert_eq!(seen.power_ups.load(Ordering::SeqCst), 2, "re-plugging is a power-up");
    // Channels do not survive a power cycle (ids start at random: a clash is 1 in 2^31).
    assert_eq!(host.request(cid, PING, b"hi"), error(cid, ERR_INVALID_CHANNEL));
    let cid = host.init();
    host.assert_ping_works(cid);
    assert_eq!(host.request(cid, CBOR, &[ECHO, 1]), Answer { cid, cmd: CBOR, payload: vec![CTAP2_OK, 1] });
}

#[test]
fn dropping_every_handle_unplugs_the_key_and_ends_its_thread() {
    let (host, seen) = plug_in();
    host.init();
    drop(host);
    let deadline = Instant::now() + ANSWER_WITHIN;
    while !seen.dropped.load(Ordering::SeqCst) {
        assert!(Instant::now() < deadline, "the handler was not dropped");
        thread::sleep(Duration::from_millis(5));
    }
}

/// A handler with a bug: any CBOR request panics.
struct CrashingKey;

impl CtapHandler for CrashingKey {
    fn power_up(&mut self) {}

    fn cbor(&mut self, _: &[u8], _: &mut dyn HidIo) -> Vec<u8> {
        panic!("the crashing key crashed, as it should");
    }

    fn wink(&mut self) {}
}

#[test]
fn a_handler_panic_unplugs_the_key_and_surfaces_at_unplug() {
    let host = Host { key: HidDevice::plug_in(CrashingKey) };
    let cid = host.init();
    host.send(cid, CBOR, &[ECHO]);
    let deadline = Instant::now() + ANSWER_WITHIN;
    while host.key.is_plugged_in() {
        assert!(Instant::now() < deadline, "the key should look unplugged");
        thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(host.key.read(Duration::ZERO), Err(Unplugged));
    let unplug = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| host.key.unplug()));
    assert!(unplug.is_err(), "the handler's panic is re-raised");
}

// ---------------------------------------------------------------------------------------
// Malformed input
// ---------------------------------------------------------------------------------------

#[test]
fn reports_with_a_leading_report_id_zero_are_accepted() {
    let (host, _) = plug_in();
    let mut numbered = vec![0u8];
    numbered.extend_from_slice(&frame(BROADCAST, INIT, b"with id0")[0]);
    host.key.write(&numbered).unwrap();
    let answer = host.receive();
    assert_eq!((answer.cid, answer.cmd, &answer.payload[..8]), (BROADCAST, INIT, &b"with id0"[..]));

    numbered[0] = 1;
    assert_eq!(host.key.write(&numbered), Err(WriteError::UnknownReportId(1)));
    host.assert_silent();
}

#[test]
fn reports_of_the_wrong_length_are_rejected() {
    let (host, _) = plug_in();
    for length in [0, 1, 7, 63, 66, 128, 4096] {
        assert_eq!(host.key.write(&vec![0x86; length]), Err(WriteError::WrongLength(length)));
    }
    host.assert_silent();
    host.init();
}

/// Reports a confused or hostile host might send: mostly on channels the key knows, with
/// command bytes and lengths near the interesting values, the rest arbitrary.
fn arbitrary_report() -> impl Strategy<Value = (u8, Report)> {
    let channel = 0..4u8; // allocated, broadcast, reserved 0, random
    let kind = prop_oneof![any::<u8>(), Just(INIT), Just(PING), Just(CBOR), Just(CANCEL), 0u8..4];
    let length = prop_oneof![any::<u16>(), 0u16..130, Just(8)];
    let body = proptest::collection::vec(any::<u8>(), REPORT_SIZE);
    (channel, kind, length, body).prop_map(|(channel, kind, length, body)| {
        let mut report: Report = body.try_into().unwrap();
        report[4] = kind;
        report[5..7].copy_from_slice(&length.to_be_bytes());
        (channel, report)
    })
}

proptest! {
    #[test]
    fn arbitrary_reports_never_break_the_key(reports in proptest::collection::vec(arbitrary_report(), 0..64)) {
        let (host, _) = plug_in();
        let allocated = host.init();
        for (channel, mut report) in reports {
            let cid = match channel {
                0 => Some(allocated),
                1 => Some(BROADCAST),
                2 => Some(0),
                _ => None, // keep the random bytes
            };
            if let Some(cid) = cid {
                report[..4].copy_from_slice(&cid.to_be_bytes());
            }
            host.write(&report);
            // Read as a host does, so that the key never waits on us.
            while host.key.read(Duration::ZERO).unwrap().is_some() {}
        }
        // Whatever state that left, a fresh INIT is answered.
        host.send(BROADCAST, INIT, b"fresh!!!");
        let deadline = Instant::now() + INTER_PACKET_TIMEOUT + ANSWER_WITHIN;
        let answered = loop {
            let Some(report) = host.key.read(deadline.saturating_duration_since(Instant::now())).unwrap() else {
                break false;
            };
            if cid_of(&report) == BROADCAST && report[4] == INIT && &report[7..15] == b"fresh!!!" {
                break true;
            }
        };
        prop_assert!(answered, "no answer to INIT");
        prop_assert!(host.key.unplug().is_some());
    }
}
