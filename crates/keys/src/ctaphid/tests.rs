//! Unit tests against an in-memory fake key ([`fake`]), not against `tap2key-virtual-key`: the
//! two sides of the protocol must stay independent.

mod fake;

use std::time::{Duration, Instant};

use proptest::collection::vec;
use proptest::prelude::*;

use super::*;
use fake::*;

const TIMEOUT: Duration = Duration::from_millis(500);

fn open(behaviour: impl Behaviour + 'static) -> CtapHid<FakeKey> {
    CtapHid::open(FakeKey::new(behaviour)).expect("open")
}

fn cbor(
    hid: &mut CtapHid<FakeKey>,
    request: &[u8],
    timeout: Duration,
) -> Result<Vec<u8>, HidError> {
    hid.cbor(request, &mut |_| {}, &CancelToken::new(), timeout)
}

/// A key that answers every CBOR request with `answer`.
fn answering(answer: &'static [u8]) -> impl Behaviour {
    key_with(move |msg, out| out.message(msg.cid, CBOR, answer))
}

/// A key that never answers CBOR requests.
fn silent() -> impl Behaviour {
    key_with(|_, _| {})
}

/// Init packets the host wrote on our channel with this command.
fn requests(key: &FakeKey, cmd: u8) -> usize {
    key.written
        .iter()
        .filter(|r| r[..4] == KEY_CID && r[4] == cmd)
        .count()
}

// ---- open ----

#[test]
fn open_allocates_a_channel_and_reads_the_device_info() {
    let hid = open(silent());
    assert_eq!(hid.channel_id(), KEY_CID);
    let info = *hid.device_info();
    assert_eq!(
        info,
        DeviceInfo {
            protocol_version: 2,
            major: 5,
            minor: 6,
            build: 7,
            capabilities: KEY_CAPABILITIES
        }
    );
    assert!(info.supports_wink() && info.supports_cbor() && !info.supports_msg());

    let key = hid.into_transport();
    let [init] = key.written.as_slice() else {
        panic!("expected one INIT packet")
    };
    assert_eq!(init[..7], [0xFF, 0xFF, 0xFF, 0xFF, INIT, 0, 8]);
    assert!(
        init[15..].iter().all(|b| *b == 0),
        "padding after the nonce"
    );
}

#[test]
fn open_uses_a_fresh_nonce_each_time() {
    let nonce = |hid: CtapHid<FakeKey>| hid.into_transport().written[0][7..15].to_vec();
    assert_ne!(nonce(open(silent())), nonce(open(silent())));
}

#[test]
fn open_ignores_init_answers_for_other_clients_and_other_traffic() {
    let key = FakeKey::new(|msg: &Msg, out: &mut Outbox| {
        assert_eq!(
            (msg.cid, msg.cmd),
            (BROADCAST, INIT),
            "only INIT is sent while opening"
        );
        let mut other_client = msg.clone();
        other_client.data = vec![0x55; 8];
        out.init_answer(&other_client, [1, 2, 3, 4]);
        out.raw(init_packet([9, 9, 9, 9], CBOR, 3, &[0, 1, 2]));
        out.raw(cont_packet(BROADCAST, 0, &[1, 2, 3]));
        out.keepalive(BROADCAST, 1);
        let mut almost_ours = msg.clone();
        almost_ours.data[7] ^= 1;
        out.init_answer(&almost_ours, [5, 6, 7, 8]);
        out.init_answer(msg, KEY_CID);
    });
    let hid = CtapHid::open(key).expect("open");
    assert_eq!(hid.channel_id(), KEY_CID);
}

#[test]
fn open_checks_the_init_answer() {
    let cases: [(&str, Vec<u8>); 4] = [
        ("16 bytes", vec![0x0A, 0x0B, 0x0C, 0x0D, 2, 5, 6, 7]),
        (
            "18 bytes",
            vec![0x0A, 0x0B, 0x0C, 0x0D, 2, 5, 6, 7, 0x0D, 0],
        ),
        ("reserved CID 0", vec![0, 0, 0, 0, 2, 5, 6, 7, 0x0D]),
        (
            "broadcast CID",
            vec![0xFF, 0xFF, 0xFF, 0xFF, 2, 5, 6, 7, 0x0D],
        ),
    ];
    for (name, tail) in cases {
        let key = FakeKey::new(move |msg: &Msg, out: &mut Outbox| {
            let answer = [msg.data.as_slice(), &tail].concat();
            out.message(msg.cid, INIT, &answer);
        });
        let result = CtapHid::open_with_timeout(key, TIMEOUT);
        assert!(matches!(result, Err(HidError::Protocol(_))), "{name}");
    }
}

#[test]
fn open_reports_an_error_frame() {
    let key =
        FakeKey::new(|msg: &Msg, out: &mut Outbox| out.error(msg.cid, error_code::INVALID_CMD));
    let result = CtapHid::open(key);
    assert!(matches!(
        result,
        Err(HidError::Device(error_code::INVALID_CMD))
    ));
}

#[test]
fn open_retries_a_busy_device() {
    let mut busy = true;
    let key = FakeKey::new(move |msg: &Msg, out: &mut Outbox| {
        if std::mem::take(&mut busy) {
            out.error(msg.cid, error_code::CHANNEL_BUSY);
        } else {
            out.init_answer(msg, KEY_CID);
        }
    });
    let hid = CtapHid::open(key).expect("open after busy");
    assert_eq!(hid.into_transport().written_with_cmd(INIT).len(), 2);
}

#[test]
fn open_times_out_when_nobody_answers() {
    let key = FakeKey::new(|_: &Msg, _: &mut Outbox| {});
    let result = CtapHid::open_with_timeout(key, Duration::from_millis(150));
    assert!(matches!(result, Err(HidError::Timeout)));
}

// ---- requests ----

#[test]
fn a_100_byte_request_is_fragmented_exactly() {
    let request: Vec<u8> = (0..100).collect();
    let mut hid = open(answering(&[0x00]));
    cbor(&mut hid, &request, TIMEOUT).expect("cbor");

    let mut init = [0u8; 64];
    init[..7].copy_from_slice(&[0x0A, 0x0B, 0x0C, 0x0D, 0x90, 0x00, 0x64]);
    init[7..].copy_from_slice(&request[..57]);
    let mut cont = [0u8; 64];
    cont[..5].copy_from_slice(&[0x0A, 0x0B, 0x0C, 0x0D, 0x00]);
    cont[5..48].copy_from_slice(&request[57..]);

    let key = hid.into_transport();
    assert_eq!(key.written[1..], [init, cont]);
}

#[test]
fn the_largest_request_uses_seq_0_to_127() {
    let data: Vec<u8> = (0..MAX_MESSAGE_LEN).map(|i| (i % 251) as u8).collect();
    let mut hid = open(silent());
    assert_eq!(hid.ping(&data, TIMEOUT).expect("ping"), data);

    let key = hid.into_transport();
    let packets = &key.written[1..];
    assert_eq!(packets.len(), 129);
    assert_eq!(packets[0][4..7], [PING, 0x1D, 0xB9]);
    for (seq, packet) in packets[1..].iter().enumerate() {
        assert_eq!(usize::from(packet[4]), seq);
    }
    assert_eq!(packets[128][5..], data[MAX_MESSAGE_LEN - 59..]);
}

#[test]
fn requests_the_transport_cannot_carry_are_refused_before_sending() {
    let mut hid = open(silent());
    let result = hid.ping(&vec![0; MAX_MESSAGE_LEN + 1], TIMEOUT);
    assert!(matches!(result, Err(HidError::Protocol(_))));
    assert!(matches!(
        cbor(&mut hid, &[], TIMEOUT),
        Err(HidError::Protocol(_))
    ));
    assert_eq!(
        hid.into_transport().written.len(),
        1,
        "only the INIT of open"
    );
}

#[test]
fn ping_round_trips_the_edge_sizes() {
    let mut hid = open(silent());
    for size in [
        0, 1, 56, 57, 58, 115, 116, 117, 118, 175, 176, 7550, 7551, 7608, 7609,
    ] {
        let data: Vec<u8> = (0..size).map(|i| (i * 7 % 256) as u8).collect();
        assert_eq!(hid.ping(&data, TIMEOUT).expect("ping"), data, "size {size}");
    }
}

fn ping_payload() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(0usize),
        Just(57),
        Just(58),
        Just(116),
        Just(117),
        Just(MAX_MESSAGE_LEN),
        0..=MAX_MESSAGE_LEN,
        0..=MAX_MESSAGE_LEN,
    ]
    .prop_flat_map(|size| vec(any::<u8>(), size))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn ping_round_trips_any_size(data in ping_payload()) {
        let mut hid = open(silent());
        prop_assert_eq!(hid.ping(&data, TIMEOUT).expect("ping"), data);
    }
}

#[test]
fn a_wrong_ping_echo_is_a_protocol_error() {
    let mut hid = open(|msg: &Msg, out: &mut Outbox| {
        if msg.cmd == PING {
            out.message(msg.cid, PING, b"pong");
        } else {
            answer_basics(msg, out);
        }
    });
    assert!(matches!(
        hid.ping(b"ping", TIMEOUT),
        Err(HidError::Protocol(_))
    ));
}

#[test]
fn wink_sends_an_empty_wink_and_wants_an_empty_answer() {
    let mut hid = open(silent());
    hid.wink(TIMEOUT).expect("wink");
    assert_eq!(
        hid.into_transport().written[1],
        init_packet(KEY_CID, WINK, 0, &[])
    );

    let mut hid = open(|msg: &Msg, out: &mut Outbox| {
        if msg.cmd == WINK {
            out.message(msg.cid, WINK, &[1]);
        } else {
            answer_basics(msg, out);
        }
    });
    assert!(matches!(hid.wink(TIMEOUT), Err(HidError::Protocol(_))));
}

// ---- answers ----

#[test]
fn a_multi_packet_answer_is_reassembled_past_other_channels_and_padding() {
    let answer: Vec<u8> = (0..130).collect();
    let expected = answer.clone();
    let mut hid = open(key_with(move |_, out| {
        out.raw(init_packet(KEY_CID, CBOR, 130, &answer[..57]));
        out.raw(init_packet([1, 2, 3, 4], CBOR, 200, &[7; 57]));
        out.raw(cont_packet([1, 2, 3, 4], 0, &[7; 59]));
        out.raw(cont_packet(KEY_CID, 0, &answer[57..116]));
        out.keepalive([1, 2, 3, 4], 2);
        let mut last = cont_packet(KEY_CID, 1, &answer[116..]);
        last[5 + 14..].fill(0xEE); // padding need not be zero
        out.raw(last);
    }));
    assert_eq!(cbor(&mut hid, &[0x04], TIMEOUT).expect("cbor"), expected);
}

#[test]
fn error_frames_become_device_errors_and_leave_the_channel_usable() {
    for code in [0x01, 0x02, 0x03, 0x04, 0x05, 0x0B, 0x7F] {
        let mut hid = open(key_with(move |msg, out| out.error(msg.cid, code)));
        assert!(matches!(cbor(&mut hid, &[0x04], TIMEOUT), Err(HidError::Device(c)) if c == code));
        hid.ping(b"still here", TIMEOUT)
            .expect("ping after an error frame");
        let key = hid.into_transport();
        assert_eq!(
            key.written_with_cmd(INIT).len(),
            1,
            "no resync needed after an error frame"
        );
    }
}

#[test]
fn channel_busy_is_retried_after_a_back_off() {
    let mut busy_left = 2;
    let mut hid = open(key_with(move |msg, out| {
        if busy_left > 0 {
            busy_left -= 1;
            out.error(msg.cid, error_code::CHANNEL_BUSY);
        } else {
            out.message(msg.cid, CBOR, &[0x00, 0xA0]);
        }
    }));
    let started = Instant::now();
    assert_eq!(
        cbor(&mut hid, &[0x04], TIMEOUT).expect("cbor"),
        [0x00, 0xA0]
    );
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "100 ms between attempts"
    );
    assert_eq!(requests(&hid.into_transport(), CBOR), 3);
}

#[test]
fn busy_errors_for_every_packet_of_a_refused_request_are_drained() {
    // A busy device may answer each packet of a refused request with its own BUSY error; the
    // extra ones must not be taken for answers to the retry.
    let mut first = true;
    let mut hid = open(key_with(move |msg, out| {
        if std::mem::take(&mut first) {
            for _ in 0..3 {
                out.error(msg.cid, error_code::CHANNEL_BUSY);
            }
        } else {
            out.message(msg.cid, CBOR, &[0x00]);
        }
    }));
    assert_eq!(cbor(&mut hid, &[0x04; 150], TIMEOUT).expect("cbor"), [0x00]);
    assert_eq!(requests(&hid.into_transport(), CBOR), 2);
}

#[test]
fn channel_busy_gives_up_after_the_retries() {
    let mut hid = open(key_with(|msg, out| {
        out.error(msg.cid, error_code::CHANNEL_BUSY)
    }));
    let result = cbor(&mut hid, &[0x04], TIMEOUT);
    assert!(matches!(
        result,
        Err(HidError::Device(error_code::CHANNEL_BUSY))
    ));
    assert_eq!(requests(&hid.into_transport(), CBOR), 51);
}

#[test]
fn keepalives_are_reported_in_order() {
    let mut hid = open(key_with(|msg, out| {
        out.keepalive(msg.cid, 1);
        out.keepalive(msg.cid, 2);
        out.keepalive(msg.cid, 2);
        out.keepalive(msg.cid, 9);
        out.message(msg.cid, CBOR, &[0x00]);
    }));
    let mut seen = Vec::new();
    let answer = hid.cbor(&[0x01], &mut |s| seen.push(s), &CancelToken::new(), TIMEOUT);
    assert_eq!(answer.expect("cbor"), [0x00]);
    use KeepAliveStatus::*;
    assert_eq!(
        seen,
        [Processing, UserPresenceNeeded, UserPresenceNeeded, Other(9)]
    );
}

/// Waits for a touch: a KEEPALIVE UPNEEDED every `interval` until `touches` of them were sent,
/// then answers; CANCEL makes it answer 0x2D after two more keepalives, unless `deaf`.
struct WaitsForTouch {
    waiting: bool,
    interval: Duration,
    touches: Option<usize>,
    deaf: bool,
}

impl WaitsForTouch {
    fn new(interval: Duration) -> Self {
        Self {
            waiting: false,
            interval,
            touches: None,
            deaf: false,
        }
    }
}

impl Behaviour for WaitsForTouch {
    fn on_message(&mut self, msg: &Msg, out: &mut Outbox) {
        if answer_basics(msg, out) {
            return;
        }
        match msg.cmd {
            CBOR => self.waiting = true,
            CANCEL if !self.deaf => {
                assert!(msg.data.is_empty(), "CANCEL has no data");
                self.waiting = false;
                out.keepalive(KEY_CID, 2);
                out.keepalive(KEY_CID, 2);
                out.message(KEY_CID, CBOR, &[CTAP2_ERR_KEEPALIVE_CANCEL]);
            }
            CANCEL => {}
            other => panic!("unexpected command 0x{other:02X}"),
        }
    }

    fn on_idle(&mut self, out: &mut Outbox) {
        if !self.waiting {
            return;
        }
        std::thread::sleep(self.interval);
        match &mut self.touches {
            Some(0) => {
                self.waiting = false;
                out.message(KEY_CID, CBOR, &[0x00, 0xA0]);
            }
            Some(left) => {
                *left -= 1;
                out.keepalive(KEY_CID, 2);
            }
            None => out.keepalive(KEY_CID, 2),
        }
    }
}

#[test]
fn keepalives_extend_the_deadline() {
    let key = WaitsForTouch {
        touches: Some(8),
        ..WaitsForTouch::new(Duration::from_millis(70))
    };
    let mut hid = open(key);
    let started = Instant::now();
    let answer = cbor(&mut hid, &[0x01], Duration::from_millis(200)).expect("cbor");
    assert_eq!(answer, [0x00, 0xA0]);
    assert!(
        started.elapsed() > Duration::from_millis(500),
        "longer than the frame timeout"
    );
}

#[test]
fn cancel_sends_one_cancel_and_returns_the_final_answer() {
    let mut hid = open(WaitsForTouch::new(Duration::from_millis(10)));
    let cancel = CancelToken::new();
    let mut seen = 0;
    let mut on_keepalive = |_| {
        seen += 1;
        if seen == 3 {
            cancel.cancel();
        }
    };
    let answer = hid
        .cbor(&[0x01], &mut on_keepalive, &cancel, TIMEOUT)
        .expect("cbor");
    assert_eq!(answer, [CTAP2_ERR_KEEPALIVE_CANCEL]);
    assert_eq!(seen, 5, "keepalives after the CANCEL are still reported");
    let key = hid.into_transport();
    assert_eq!(
        key.written_with_cmd(CANCEL),
        [init_packet(KEY_CID, CANCEL, 0, &[])]
    );
}

#[test]
fn cancel_from_another_thread() {
    let mut hid = open(WaitsForTouch::new(Duration::from_millis(20)));
    let cancel = CancelToken::new();
    let canceller = {
        let cancel = cancel.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(150));
            cancel.cancel();
        })
    };
    let answer = hid
        .cbor(&[0x01], &mut |_| {}, &cancel, TIMEOUT)
        .expect("cbor");
    canceller.join().expect("canceller thread");
    assert_eq!(answer, [CTAP2_ERR_KEEPALIVE_CANCEL]);
    assert_eq!(requests(&hid.into_transport(), CANCEL), 1);
}

#[test]
fn an_already_cancelled_request_is_not_sent() {
    let mut hid = open(silent());
    let cancel = CancelToken::new();
    cancel.cancel();
    let answer = hid
        .cbor(&[0x01], &mut |_| {}, &cancel, TIMEOUT)
        .expect("cbor");
    assert_eq!(answer, [CTAP2_ERR_KEEPALIVE_CANCEL]);
    assert_eq!(
        hid.into_transport().written.len(),
        1,
        "only the INIT of open"
    );
}

#[test]
fn a_device_that_ignores_cancel_times_out_after_the_grace_period() {
    let key = WaitsForTouch {
        deaf: true,
        ..WaitsForTouch::new(Duration::from_millis(50))
    };
    let mut hid = open(key);
    let cancel = CancelToken::new();
    let started = Instant::now();
    let result = hid.cbor(&[0x01], &mut |_| cancel.cancel(), &cancel, TIMEOUT);
    assert!(matches!(result, Err(HidError::Timeout)));
    let elapsed = started.elapsed();
    assert!(
        elapsed >= CANCEL_GRACE && elapsed < CANCEL_GRACE + Duration::from_secs(2),
        "{elapsed:?}"
    );
    assert_eq!(requests(&hid.into_transport(), CANCEL), 1);
}

// ---- malformed answers, timeouts, resync ----

#[test]
fn malformed_answers_are_protocol_errors_and_the_channel_recovers() {
    let start_of_100 = || init_packet(KEY_CID, CBOR, 100, &[0; 57]);
    let cases: Vec<(&str, Vec<Report>)> = vec![
        ("command echo", vec![init_packet(KEY_CID, PING, 1, &[0])]),
        (
            "BCNT over the maximum",
            vec![init_packet(KEY_CID, CBOR, 7610, &[0; 57])],
        ),
        (
            "first SEQ 1",
            vec![start_of_100(), cont_packet(KEY_CID, 1, &[0; 43])],
        ),
        (
            "SEQ repeated",
            vec![
                init_packet(KEY_CID, CBOR, 200, &[0; 57]),
                cont_packet(KEY_CID, 0, &[0; 59]),
                cont_packet(KEY_CID, 0, &[0; 59]),
                cont_packet(KEY_CID, 1, &[0; 25]),
            ],
        ),
        ("continuation first", vec![cont_packet(KEY_CID, 0, &[0])]),
        (
            "new message midway",
            vec![start_of_100(), init_packet(KEY_CID, CBOR, 1, &[0])],
        ),
        (
            "KEEPALIVE midway",
            vec![start_of_100(), init_packet(KEY_CID, KEEPALIVE, 1, &[2])],
        ),
        (
            "ERROR midway",
            vec![start_of_100(), init_packet(KEY_CID, ERROR, 1, &[0x7F])],
        ),
        (
            "KEEPALIVE without status",
            vec![init_packet(KEY_CID, KEEPALIVE, 0, &[])],
        ),
        (
            "KEEPALIVE of 2 bytes",
            vec![init_packet(KEY_CID, KEEPALIVE, 2, &[1, 1])],
        ),
        (
            "ERROR without code",
            vec![init_packet(KEY_CID, ERROR, 0, &[])],
        ),
    ];
    for (name, frames) in cases {
        let mut answered = false;
        let mut hid = open(key_with(move |msg, out| {
            if !std::mem::replace(&mut answered, true) {
                frames.iter().for_each(|f| out.raw(*f));
            } else {
                out.message(msg.cid, CBOR, &[0x00]);
            }
        }));
        let result = cbor(&mut hid, &[0x04], TIMEOUT);
        assert!(
            matches!(result, Err(HidError::Protocol(_))),
            "{name}: {result:?}"
        );
        // The rest of the bad answer may still be queued: the next request resynchronises first.
        assert_eq!(
            cbor(&mut hid, &[0x04], TIMEOUT).expect("after resync"),
            [0x00],
            "{name}"
        );
        let key = hid.into_transport();
        let resyncs = key
            .written
            .iter()
            .filter(|r| r[..5] == [0x0A, 0x0B, 0x0C, 0x0D, INIT])
            .count();
        assert_eq!(resyncs, 1, "{name}");
    }
}

#[test]
fn an_empty_cbor_answer_is_a_protocol_error() {
    // Well framed, so the transaction is over and the channel needs no resync.
    let mut hid = open(answering(&[]));
    assert!(matches!(
        cbor(&mut hid, &[0x04], TIMEOUT),
        Err(HidError::Protocol(_))
    ));
}

#[test]
fn a_silent_device_times_out() {
    let mut hid = open(silent());
    let started = Instant::now();
    let result = cbor(&mut hid, &[0x04], Duration::from_millis(150));
    let elapsed = started.elapsed();
    assert!(matches!(result, Err(HidError::Timeout)));
    assert!(
        elapsed >= Duration::from_millis(150) && elapsed < Duration::from_secs(1),
        "{elapsed:?}"
    );
}

#[test]
fn an_unfinished_answer_times_out() {
    let mut hid = open(key_with(|_, out| {
        out.raw(init_packet(KEY_CID, CBOR, 100, &[0; 57]))
    }));
    let result = cbor(&mut hid, &[0x04], Duration::from_millis(150));
    assert!(matches!(result, Err(HidError::Timeout)));
}

#[test]
fn a_late_answer_is_not_taken_for_the_next_one() {
    // The first request gets no answer in time; its (multi-packet) answer is still in flight when
    // the next request starts. The resync INIT on our channel must skip it.
    let mut requests_seen = 0;
    let mut hid = open(move |msg: &Msg, out: &mut Outbox| match msg.cmd {
        CBOR => {
            requests_seen += 1;
            if requests_seen == 2 {
                out.message(msg.cid, CBOR, b"\x00second");
            }
        }
        INIT if msg.cid == KEY_CID => {
            out.message(KEY_CID, CBOR, &[0x11; 100]);
            out.keepalive(KEY_CID, 1);
            out.init_answer(msg, KEY_CID);
        }
        _ => assert!(answer_basics(msg, out)),
    });
    let first = cbor(&mut hid, &[0x04], Duration::from_millis(100));
    assert!(matches!(first, Err(HidError::Timeout)));
    assert_eq!(
        cbor(&mut hid, &[0x04], TIMEOUT).expect("second"),
        b"\x00second"
    );
    assert_eq!(hid.channel_id(), KEY_CID);
}

// ---- transport failures ----

#[test]
fn a_removed_key_is_reported() {
    let mut hid = open(key_with(|_, out| out.unplug()));
    assert!(
        matches!(
            cbor(&mut hid, &[0x04], TIMEOUT),
            Err(HidError::Disconnected)
        ),
        "while reading"
    );
    assert!(
        matches!(hid.ping(b"", TIMEOUT), Err(HidError::Disconnected)),
        "while writing"
    );
}

#[test]
fn transport_io_errors_are_reported() {
    let mut hid = open(key_with(|_, out| out.break_io()));
    assert!(matches!(cbor(&mut hid, &[0x04], TIMEOUT), Err(HidError::Io(m)) if m == "broken pipe"));
}

// ---- garbage ----

/// Random reports, and reports on `cid` with a plausible command or SEQ and a small BCNT (so
/// that they reach the deeper checks). The flag asks the key to copy the INIT nonce in.
fn frame_on(cid: [u8; 4]) -> impl Strategy<Value = (Report, bool)> {
    let kind = prop_oneof![
        Just(CBOR),
        Just(KEEPALIVE),
        Just(ERROR),
        Just(INIT),
        Just(PING),
        any::<u8>(),
        0u8..4
    ];
    prop_oneof![
        (any::<Report>(), any::<bool>()),
        (any::<Report>(), kind, 0u16..200, any::<bool>()).prop_map(
            move |(mut r, kind, bcnt, nonce)| {
                r[..4].copy_from_slice(&cid);
                r[4] = kind;
                if kind & 0x80 != 0 {
                    r[5..7].copy_from_slice(&bcnt.to_be_bytes());
                }
                (r, nonce)
            }
        ),
    ]
}

/// Sends the scripted frames in answer to every message, with the nonce copied in where asked.
fn replaying(frames: Vec<(Report, bool)>) -> impl Behaviour {
    move |msg: &Msg, out: &mut Outbox| {
        for (frame, with_nonce) in &frames {
            let mut frame = *frame;
            if *with_nonce && msg.cmd == INIT {
                frame[7..15].copy_from_slice(&msg.data);
            }
            out.raw(frame);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn garbage_answers_never_panic(frames in vec(frame_on(KEY_CID), 0..40)) {
        let mut hid = open(key_with({
            let mut replay = replaying(frames);
            move |msg, out| replay.on_message(msg, out)
        }));
        let short = Duration::from_millis(5);
        if let Ok(answer) = cbor(&mut hid, &[0x04], short) {
            prop_assert!(!answer.is_empty() && answer.len() <= MAX_MESSAGE_LEN);
        }
        // Whatever state the garbage left, the next request must not panic either.
        let _ = hid.ping(b"after", short);
    }

    #[test]
    fn garbage_init_answers_never_panic(frames in vec(frame_on(BROADCAST), 0..40)) {
        if let Ok(hid) = CtapHid::open_with_timeout(FakeKey::new(replaying(frames)), Duration::from_millis(5)) {
            let cid = hid.channel_id();
            prop_assert!(cid != [0; 4] && cid != [0xFF; 4]);
        }
    }
}
