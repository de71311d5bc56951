//! Both forms of an output report through the kernel: a CTAPHID INIT written to the key's
//! hidraw node as 64 bytes, and as 65 with the leading report id 0 (hidapi's form), each
//! answered by the key. Talks to /dev/hidraw directly, below hidapi.

use std::{
    fs::{File, OpenOptions},
    io::{Read, Write},
    os::fd::AsRawFd,
};

/// CTAPHID_INIT on the broadcast channel, with an 8-byte nonce (CTAP 2.1 §11.2.9.1.3).
fn init_packet(nonce: [u8; 8]) -> [u8; 64] {
    let mut packet = [0; 64];
    packet[..4].copy_from_slice(&[0xFF; 4]);
    packet[4] = 0x86;
    packet[6] = 8;
    packet[7..15].copy_from_slice(&nonce);
    packet
}

/// The only hidraw node there is.
pub fn only_node() -> Result<String, String> {
    let entries: Vec<String> = std::fs::read_dir("/sys/class/hidraw")
        .map_err(|e| format!("/sys/class/hidraw: {e}"))?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .collect();
    match entries.as_slice() {
        [one] => Ok(format!("/dev/{one}")),
        other => Err(format!("expected one hidraw node, found {other:?}")),
    }
}

/// Writes INIT in the given form and checks the answer echoes the nonce.
pub fn init_round_trip(node: &str, with_report_id: bool, nonce: [u8; 8]) -> Result<(), String> {
    let mut file = OpenOptions::new().read(true).write(true).open(node).map_err(|e| format!("{node}: {e}"))?;
    let packet = init_packet(nonce);
    let written = if with_report_id { [&[0][..], &packet[..]].concat() } else { packet.to_vec() };
    file.write_all(&written).map_err(|e| format!("writing {} bytes to {node}: {e}", written.len()))?;
    if !readable(&file, 5000) {
        return Err(format!("no answer to INIT written as {} bytes", written.len()));
    }
    let mut answer = [0; 64];
    let length = file.read(&mut answer).map_err(|e| format!("reading {node}: {e}"))?;
    let echoes = length == 64 && answer[..5] == [0xFF, 0xFF, 0xFF, 0xFF, 0x86] && answer[7..15] == nonce;
    if echoes { Ok(()) } else { Err(format!("INIT written as {} bytes got a {length}-byte answer that is not INIT's", written.len())) }
}

fn readable(file: &File, millis: i32) -> bool {
    let mut poll = libc::pollfd { fd: file.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    // SAFETY: one valid pollfd for the duration of the call; the fd is owned by `file`.
    unsafe { libc::poll(&raw mut poll, 1, millis) == 1 }
}
