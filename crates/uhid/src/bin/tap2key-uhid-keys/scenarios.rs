//! The scenarios, each a whole onboarding through `tap2key-enroll --key usb` with virtual
//! keys on the kernel's HID bus. Each checks what the run printed (exit code, JSON result)
//! and what the keys hold afterwards, and says in one line what it proved.

use std::path::PathBuf;

use serde_json::json;
use tap2key_keys::{Key, Pin};
use tap2key_virtual_key::VirtualKey;

use crate::{
    enroll::Enrollment,
    person::Person,
    port::Port,
    seen::{GET_ASSERTION, MAKE_CREDENTIAL, SELECTION},
};

pub struct Context {
    pub enroll: PathBuf,
    pub runtime: tokio::runtime::Runtime,
}

pub type Scenario = fn(&Context) -> Result<String, String>;

pub const SCENARIOS: &[(&str, Scenario)] = &[
    ("hidraw-report-forms", hidraw_report_forms),
    ("blank-key-pin-protocol-2", blank_key_pin_protocol_2),
    ("blank-key-pin-protocol-1", blank_key_pin_protocol_1),
    ("wrong-pin-and-retries", wrong_pin_and_retries),
    ("key-inserted-late-pulled-out-and-put-back", key_inserted_late_pulled_out_and_put_back),
    ("key-pulled-out-while-waiting-for-touch", key_pulled_out_while_waiting_for_touch),
    ("two-keys-chosen-by-touch", two_keys_chosen_by_touch),
];

/// Test values; the console never shows them (see `enroll`).
const PIN: &str = "480257";
const WRONG_PIN: &str = "135790";

const NO_PIN_YET: &str = "The key has no PIN yet";
const INSERT: &str = "Insert your security key";

/// The device as the kernel made it: CTAPHID INIT answered through its hidraw node whether
/// the host writes 64 bytes or 65 with a leading report id 0.
fn hidraw_report_forms(_context: &Context) -> Result<String, String> {
    let mut port = Port::blank("tap2key-vm-raw", &[2, 1])?;
    port.insert()?;
    let node = crate::raw::only_node()?;
    crate::raw::init_round_trip(&node, false, *b"tap2key6")?;
    crate::raw::init_round_trip(&node, true, *b"tap2key5")?;
    let forms = port.seen.report_forms();
    ensure(forms == (1, 1), || format!("the bridge saw {forms:?} reports (with report id, without): expected (1, 1)"))?;
    port.pull_out()?;
    Ok(format!("INIT answered through {node} for a 64-byte write and for a 65-byte one with report id 0"))
}

fn blank_key_pin_protocol_2(context: &Context) -> Result<String, String> {
    blank_key(context, &[2, 1], 2)
}

/// A key that offers only protocol 1: the client must fall back to it.
fn blank_key_pin_protocol_1(context: &Context) -> Result<String, String> {
    blank_key(context, &[1], 1)
}

/// A blank key: the run sets its PIN with the protocol the key prefers, creates a passkey
/// with a touch, registers it and signs in with it (a second touch).
fn blank_key(context: &Context, offered: &[u8], expected: u8) -> Result<String, String> {
    let mut port = Port::blank("tap2key-vm-blank", offered)?;
    port.insert()?;
    let person = Person::touching(port.key.touch().clone());
    let mut run = Enrollment::start(&context.enroll)?;
    run.pin(PIN)?;
    run.sign_in(&context.runtime)?;
    run.finish()?.registered()?;

    holds_one_passkey(&port.key)?;
    let protocols = port.seen.pin_protocols();
    ensure(protocols == [expected], || format!("clientPIN used protocol(s) {protocols:?}; the key offered {offered:?}, expected [{expected}]"))?;
    let (made, asserted, touches) = (port.seen.count(MAKE_CREDENTIAL), port.seen.count(GET_ASSERTION), person.touches());
    ensure(made >= 1 && asserted >= 1, || format!("makeCredential x{made}, getAssertion x{asserted}: expected both"))?;
    ensure(touches >= 2, || format!("{touches} touches: expected one for the passkey and one for the test sign-in"))?;
    let (with_id, without_id) = port.seen.report_forms();
    Ok(format!(
        "PIN set with protocol {expected}, makeCredential x{made} and getAssertion x{asserted} over hidraw \
         ({with_id} output reports of 65 bytes with report id 0, {without_id} of 64), {touches} touches, registered and signed in"
    ))
}

/// A key with a PIN: two runs with a wrong PIN end with exit 31 and the tries the key
/// reports (7, then 6); a run with the right PIN registers the key and resets the tries.
fn wrong_pin_and_retries(context: &Context) -> Result<String, String> {
    let mut port = Port::blank("tap2key-vm-pin", &[2, 1])?;
    set_pin(&port.key)?;
    port.insert()?;
    let _person = Person::touching(port.key.touch().clone());
    for left in [7u8, 6] {
        let mut run = Enrollment::start(&context.enroll)?;
        run.pin(WRONG_PIN)?;
        run.sign_in(&context.runtime)?;
        run.finish()?.failed_with(31, &json!({"kind": "wrongPin", "retriesLeft": left}))?;
        let on_key = port.key.pin_retries();
        ensure(on_key == left, || format!("after a wrong PIN the key has {on_key} tries left, expected {left}"))?;
    }
    let mut run = Enrollment::start(&context.enroll)?;
    run.pin(PIN)?;
    run.sign_in(&context.runtime)?;
    run.finish()?.registered()?;
    holds_one_passkey(&port.key)?;
    Ok("wrong PIN twice: exit 31 with 7 then 6 tries left (as the key counts); the right PIN registered the key and reset its tries to 8".into())
}

/// No key at first: the run waits (`--wait-for-key`) and carries on when one is plugged
/// in. The key is then pulled out while its PIN is being asked for (the flow goes back to
/// finding a key, and ignores the answer that comes late) and put back: the flow asks
/// for the PIN again and finishes.
fn key_inserted_late_pulled_out_and_put_back(context: &Context) -> Result<String, String> {
    let mut port = Port::blank("tap2key-vm-replug", &[2, 1])?;
    let _person = Person::touching(port.key.touch().clone());
    let mut run = Enrollment::start(&context.enroll)?;
    run.sign_in(&context.runtime)?;
    run.wait_for("\"Insert your security key\"", |l| l.contains(INSERT))?;
    port.insert()?;
    run.wait_for("that the key has no PIN yet", |l| l.contains(NO_PIN_YET))?;
    port.pull_out()?;
    run.wait_for("that the flow noticed the key went", |l| l.contains("step") && l.contains("findingKey"))?;
    run.pin(PIN)?;
    run.wait_for("\"Insert your security key\" again", |l| l.contains(INSERT))?;
    port.insert()?;
    run.wait_for("that the key has no PIN yet, again", |l| l.contains(NO_PIN_YET))?;
    run.pin(PIN)?;
    run.finish()?.registered()?;
    holds_one_passkey(&port.key)?;
    Ok("waited for a key, carried on when it came; pulled out at the PIN question and put back: asked again, registered".into())
}

/// The key is pulled out while makeCredential waits for its touch: the run ends with
/// exit 30 (keyRemoved), the PIN it set stays and no passkey is left on the key.
fn key_pulled_out_while_waiting_for_touch(context: &Context) -> Result<String, String> {
    let mut port = Port::blank("tap2key-vm-pull", &[2, 1])?;
    port.insert()?;
    let mut run = Enrollment::start(&context.enroll)?;
    run.pin(PIN)?;
    run.sign_in(&context.runtime)?;
    run.wait_for("\"Touch your security key now\"", |l| l.contains("Touch your security key now"))?;
    wait_for_touch_request(&port.key)?;
    port.pull_out()?;
    run.finish()?.failed_with(30, &json!({"kind": "keyRemoved"}))?;
    ensure(port.key.has_pin(), || "the PIN set before the key was pulled out is gone".into())?;
    let left = port.key.credentials().len();
    ensure(left == 0, || format!("{left} passkeys on the key: makeCredential was interrupted, expected none"))?;
    Ok(format!("pulled out during makeCredential (x{}): exit 30 keyRemoved, PIN kept, no passkey left", port.seen.count(MAKE_CREDENTIAL)))
}

/// Two blank keys: the run asks for a touch on both (authenticatorSelection); the person
/// touches the second; the first is cancelled and stays blank; the second is set up.
fn two_keys_chosen_by_touch(context: &Context) -> Result<String, String> {
    let mut first = Port::blank("tap2key-vm-first", &[2, 1])?;
    let mut second = Port::blank("tap2key-vm-second", &[2, 1])?;
    first.insert()?;
    second.insert()?;
    let person = Person::touching(second.key.touch().clone());
    let mut run = Enrollment::start(&context.enroll)?;
    run.pin(PIN)?;
    run.sign_in(&context.runtime)?;
    run.wait_for("\"Several keys are plugged in\"", |l| l.contains("Several keys are plugged in"))?;
    run.finish()?.registered()?;

    holds_one_passkey(&second.key)?;
    ensure(!first.key.has_pin() && first.key.credentials().is_empty(), || "the key nobody touched was changed".into())?;
    let asked = (first.seen.count(SELECTION), second.seen.count(SELECTION));
    ensure(asked.0 >= 1 && asked.1 >= 1, || format!("selection sent {asked:?} times to the two keys: expected both asked"))?;
    let cancels = first.seen.cancels();
    ensure(cancels >= 1, || "the key nobody touched was never sent CTAPHID_CANCEL".into())?;
    Ok(format!("both keys asked to be touched, the touched one set up and registered ({} touches), the other cancelled (x{cancels}) and left blank", person.touches()))
}

/// Sets the key's PIN ahead of a run, the way any client would: clientPIN over CTAPHID
/// (in-process, before the key goes on the bus).
fn set_pin(key: &VirtualKey) -> Result<(), String> {
    let mut client = tap2key_keys::virtual_key::open(key.plug_in()).map_err(|e| format!("the key could not be opened: {e}"))?;
    let pin = Pin::new(PIN, 4).map_err(|e| format!("the test PIN is not a PIN: {e}"))?;
    client.set_pin(&pin).map_err(|e| format!("the key's PIN could not be set: {e}"))
}

fn holds_one_passkey(key: &VirtualKey) -> Result<(), String> {
    ensure(key.has_pin(), || "the key has no PIN".into())?;
    let retries = key.pin_retries();
    ensure(retries == 8, || format!("the key has {retries} PIN tries left, expected 8"))?;
    let credentials = key.credentials();
    ensure(credentials.len() == 1 && credentials[0].discoverable, || format!("the key holds {} passkeys, expected one discoverable", credentials.len()))
}

/// Waits until the key waits for a touch (its makeCredential arrived and is pending).
fn wait_for_touch_request(key: &VirtualKey) -> Result<(), String> {
    let deadline = std::time::Instant::now() + crate::enroll::PATIENCE;
    while !key.touch().is_waiting() {
        if std::time::Instant::now() > deadline {
            return Err("the key was never asked for a touch".into());
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    Ok(())
}

fn ensure(holds: bool, otherwise: impl FnOnce() -> String) -> Result<(), String> {
    if holds { Ok(()) } else { Err(otherwise()) }
}
