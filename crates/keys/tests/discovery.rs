//! Keys coming and going, and "touch the key you want" among several.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
        mpsc,
    },
    time::{Duration, Instant},
};

use tap2key_keys::{CancelToken, KeyChange, KeyError, KeyEvent, KeyLocation, KeyPorts, select_by_touch};
use tap2key_virtual_key::{
    TouchPolicy, VirtualKey, VirtualKeyConfig,
    hid::{CtapHandler, HidDevice, HidIo},
};

fn virtual_key(touch: TouchPolicy) -> VirtualKey {
    VirtualKey::new(VirtualKeyConfig { touch, touch_timeout: Duration::from_secs(5), ..VirtualKeyConfig::default() }).unwrap()
}

#[test]
fn with_nothing_plugged_in_there_is_no_key_and_nothing_blocks() {
    let ports = KeyPorts::new(true); // this machine has no USB key
    assert_eq!(ports.present(), vec![]);
    let none = select_by_touch(Vec::new(), &mut |_| {}, &CancelToken::new());
    assert!(matches!(none, Err(KeyError::NoKey)));
    assert!(matches!(ports.open(&KeyLocation::Virtual(42)), Err(KeyError::Removed)));
}

#[test]
fn insertions_and_removals_are_noticed() {
    let ports = KeyPorts::new(false);
    let (changes, seen) = mpsc::channel();
    let watch = ports.watch(Duration::from_millis(20), move |change| changes.send(change).unwrap());
    let key = virtual_key(TouchPolicy::Immediately);
    let slot = ports.plug_in(key.plug_in());
    assert_eq!(seen.recv_timeout(Duration::from_secs(5)).unwrap(), KeyChange::Inserted(slot.clone()));
    assert_eq!(ports.present(), vec![slot.clone()]);

    ports.pull_out(&slot);
    assert_eq!(seen.recv_timeout(Duration::from_secs(5)).unwrap(), KeyChange::Removed(slot.clone()));
    assert_eq!(ports.present(), vec![]);
    assert!(matches!(ports.open(&slot), Err(KeyError::Removed)));
    drop(watch);
}

/// A key with no behaviour to speak of: cheap to plug in many times.
struct InertKey;

impl CtapHandler for InertKey {
    fn power_up(&mut self) {}
    fn cbor(&mut self, _: &[u8], _: &mut dyn HidIo) -> Vec<u8> {
        vec![0x01]
    }
    fn wink(&mut self) {}
}

/// `watch` must know what was there when it returned: a key plugged in right after is an
/// insertion. (The first look used to happen on the watcher thread, so such a key was
/// often taken as already present and never reported.)
#[test]
fn a_key_plugged_in_right_after_watch_returns_is_reported() {
    for _ in 0..50 {
        let ports = KeyPorts::new(false);
        let (changes, seen) = mpsc::channel();
        let watch = ports.watch(Duration::from_millis(2), move |change| drop(changes.send(change)));
        let slot = ports.plug_in(HidDevice::plug_in(InertKey));
        assert_eq!(seen.recv_timeout(Duration::from_secs(5)), Ok(KeyChange::Inserted(slot)));
        drop(watch);
    }
}

/// How long the slow key works on a request.
const SLOW_KEY_TAKES: Duration = Duration::from_secs(2);

/// A key that takes its time over a CBOR request and ignores CANCEL, as a slow key might.
struct SlowKey {
    busy: Arc<AtomicBool>,
}

impl CtapHandler for SlowKey {
    fn power_up(&mut self) {}
    fn cbor(&mut self, _: &[u8], _: &mut dyn HidIo) -> Vec<u8> {
        self.busy.store(true, Ordering::SeqCst);
        std::thread::sleep(SLOW_KEY_TAKES);
        vec![0x00]
    }
    fn wink(&mut self) {}
}

/// Sends one CTAPHID CBOR request by hand: INIT on broadcast, then CBOR on the new channel.
fn start_cbor_request(device: &HidDevice) {
    let mut init = [0u8; 64];
    init[..4].copy_from_slice(&[0xFF; 4]);
    init[4] = 0x86;
    init[6] = 8;
    device.write(&init).unwrap();
    let answer = device.read(Duration::from_secs(5)).unwrap().unwrap();
    let mut cbor = [0u8; 64];
    cbor[..4].copy_from_slice(&answer[15..19]);
    cbor[4] = 0x90;
    cbor[6] = 1;
    cbor[7] = 0x04;
    device.write(&cbor).unwrap();
}

/// Pulling a key out waits for its thread to stop; the other ports must not wait with it.
#[test]
fn pulling_out_a_busy_key_does_not_hold_up_the_other_ports() {
    let ports = KeyPorts::new(false);
    let busy = Arc::new(AtomicBool::new(false));
    let device = HidDevice::plug_in(SlowKey { busy: busy.clone() });
    let slot = ports.plug_in(device.clone());
    start_cbor_request(&device);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !busy.load(Ordering::SeqCst) {
        assert!(Instant::now() < deadline, "the key never started on the request");
        std::thread::sleep(Duration::from_millis(5));
    }
    let puller = {
        let ports = ports.clone();
        std::thread::spawn(move || ports.pull_out(&slot))
    };
    std::thread::sleep(Duration::from_millis(100)); // the puller is now waiting on the key
    let asked = Instant::now();
    assert_eq!(ports.present(), vec![]);
    assert!(asked.elapsed() < SLOW_KEY_TAKES / 2, "present() waited {:?} for the key", asked.elapsed());
    puller.join().unwrap();
}

#[test]
fn a_key_unplugged_by_itself_disappears_too() {
    let ports = KeyPorts::new(false);
    let device = virtual_key(TouchPolicy::Immediately).plug_in();
    ports.plug_in(device.clone());
    device.unplug();
    assert_eq!(ports.present(), vec![]);
}

#[test]
fn the_key_that_is_touched_is_chosen_and_the_others_stop_waiting() {
    let ports = KeyPorts::new(false);
    let idle = virtual_key(TouchPolicy::WhenPressed);
    let touched = virtual_key(TouchPolicy::After(Duration::from_millis(300)));
    let idle_slot = ports.plug_in(idle.plug_in());
    let touched_slot = ports.plug_in(touched.plug_in());
    let keys = ports.present().into_iter().map(|location| (location.clone(), ports.open(&location).unwrap())).collect();

    let mut asked = 0;
    let (chosen, mut key) = select_by_touch(keys, &mut |event| asked += (event == KeyEvent::TouchNeeded) as usize, &CancelToken::new()).unwrap();
    assert_eq!(chosen, touched_slot);
    assert_eq!(asked, 1, "one \"touch the key you want\" for all keys");
    assert!(!idle.touch().is_waiting(), "the other key was told to stop waiting");
    key.wink().unwrap();
    assert_eq!(touched.winks(), 1);
    assert_ne!(idle_slot, touched_slot);
}

#[test]
fn cancelling_the_choice_stops_every_key() {
    let ports = KeyPorts::new(false);
    let a = virtual_key(TouchPolicy::WhenPressed);
    let b = virtual_key(TouchPolicy::WhenPressed);
    ports.plug_in(a.plug_in());
    ports.plug_in(b.plug_in());
    let keys = ports.present().into_iter().map(|location| (location.clone(), ports.open(&location).unwrap())).collect();
    let cancel = CancelToken::new();
    let canceller = cancel.clone();
    let result = select_by_touch(keys, &mut move |_| canceller.cancel(), &cancel);
    assert!(matches!(result, Err(KeyError::Cancelled)));
    assert!(!a.touch().is_waiting() && !b.touch().is_waiting());
}
