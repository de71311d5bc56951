//! Keys coming and going, and "touch the key you want" among several.

use std::{sync::mpsc, time::Duration};

use tap2key_keys::{CancelToken, KeyChange, KeyError, KeyEvent, KeyLocation, KeyPorts, select_by_touch};
use tap2key_virtual_key::{TouchPolicy, VirtualKey, VirtualKeyConfig};

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
