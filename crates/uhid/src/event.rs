//! The bytes of `struct uhid_event` (linux/uhid.h): `/dev/uhid` is plain read and write of
//! these, no ioctls. The struct is packed and little-endian on every architecture we run
//! on; only the events this bridge sends or answers are spelled out.
//!
//! Written by hand rather than taken from a crate: the crates on crates.io generate these
//! types with bindgen at build time (libclang on every build machine) for the few offsets
//! below.

/// `sizeof(struct uhid_event)`: the type, then the largest member of the union
/// (`uhid_create2_req`: 128 + 64 + 64 + 2 + 2 + 4 + 4 + 4 + 4 + 4096).
pub const EVENT_SIZE: usize = 4 + 4372;

/// `UHID_DATA_MAX` and `HID_MAX_DESCRIPTOR_SIZE`.
const DATA_MAX: usize = 4096;

// enum uhid_event_type
pub const DESTROY: u32 = 1;
pub const START: u32 = 2;
pub const STOP: u32 = 3;
pub const OPEN: u32 = 4;
pub const CLOSE: u32 = 5;
pub const OUTPUT: u32 = 6;
pub const GET_REPORT: u32 = 9;
const GET_REPORT_REPLY: u32 = 10;
const CREATE2: u32 = 11;
const INPUT2: u32 = 12;
pub const SET_REPORT: u32 = 13;
const SET_REPORT_REPLY: u32 = 14;

/// What a device creation says about the device.
pub struct Create2<'a> {
    pub name: &'a str,
    pub phys: &'a str,
    pub uniq: &'a str,
    pub bus: u16,
    pub vendor: u32,
    pub product: u32,
    pub version: u32,
    pub descriptor: &'a [u8],
}

/// An event read from `/dev/uhid`, as far as the bridge cares.
#[derive(Debug, PartialEq, Eq)]
pub enum FromKernel {
    /// An output report a host wrote to the hidraw node (with the report-id byte when the
    /// host wrote one).
    Output(Vec<u8>),
    /// The kernel asks for a report (feature or input), to be answered by this id.
    GetReport { id: u32 },
    /// The kernel sets a report through the control pipe, to be answered by this id.
    SetReport { id: u32 },
    /// START, STOP, OPEN, CLOSE: a hidraw node being opened or closed, nothing to do.
    Notice(u32),
    Other(u32),
}

impl Create2<'_> {
    /// `UHID_CREATE2` with `struct uhid_create2_req` (offsets after the 4-byte type).
    pub fn encode(&self) -> Vec<u8> {
        let mut event = new_event(CREATE2);
        put_str(&mut event[4..132], self.name);
        put_str(&mut event[132..196], self.phys);
        put_str(&mut event[196..260], self.uniq);
        let size = u16::try_from(self.descriptor.len()).ok().filter(|&n| usize::from(n) <= DATA_MAX).expect("a report descriptor fits");
        event[260..262].copy_from_slice(&size.to_le_bytes());
        event[262..264].copy_from_slice(&self.bus.to_le_bytes());
        event[264..268].copy_from_slice(&self.vendor.to_le_bytes());
        event[268..272].copy_from_slice(&self.product.to_le_bytes());
        event[272..276].copy_from_slice(&self.version.to_le_bytes());
        // country (276..280) stays 0.
        event[280..280 + self.descriptor.len()].copy_from_slice(self.descriptor);
        event
    }
}

/// `UHID_INPUT2`: an input report from the device (no report-id byte: the descriptor
/// has none).
pub fn input2(report: &[u8]) -> Vec<u8> {
    let mut event = new_event(INPUT2);
    let size = u16::try_from(report.len()).expect("a report is short");
    event[4..6].copy_from_slice(&size.to_le_bytes());
    event[6..6 + report.len()].copy_from_slice(report);
    event.truncate(6 + report.len());
    event
}

/// `UHID_DESTROY`: the device is unplugged.
pub fn destroy() -> Vec<u8> {
    DESTROY.to_le_bytes().to_vec()
}

/// `UHID_GET_REPORT_REPLY` with an error: the device has no feature reports, and CTAPHID
/// input reports travel on the interrupt pipe only.
pub fn get_report_refused(id: u32) -> Vec<u8> {
    let mut event = new_event(GET_REPORT_REPLY);
    event[4..8].copy_from_slice(&id.to_le_bytes());
    event[8..10].copy_from_slice(&EIO.to_le_bytes());
    event.truncate(12);
    event
}

/// `UHID_SET_REPORT_REPLY` with an error, for the same reason.
pub fn set_report_refused(id: u32) -> Vec<u8> {
    let mut event = new_event(SET_REPORT_REPLY);
    event[4..8].copy_from_slice(&id.to_le_bytes());
    event[8..10].copy_from_slice(&EIO.to_le_bytes());
    event.truncate(10);
    event
}

const EIO: u16 = 5;

/// Reads one event the kernel wrote (at most [`EVENT_SIZE`] bytes).
pub fn decode(bytes: &[u8]) -> Option<FromKernel> {
    let kind = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?);
    let u32_at = |at: usize| Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?));
    Some(match kind {
        OUTPUT => {
            // struct uhid_output_req { __u8 data[4096]; __u16 size; __u8 rtype; }
            let size = u16::from_le_bytes(bytes.get(4 + DATA_MAX..6 + DATA_MAX)?.try_into().ok()?);
            FromKernel::Output(bytes.get(4..4 + usize::from(size).min(DATA_MAX))?.to_vec())
        }
        GET_REPORT => FromKernel::GetReport { id: u32_at(4)? },
        SET_REPORT => FromKernel::SetReport { id: u32_at(4)? },
        START | STOP | OPEN | CLOSE => FromKernel::Notice(kind),
        other => FromKernel::Other(other),
    })
}

fn new_event(kind: u32) -> Vec<u8> {
    let mut event = vec![0; EVENT_SIZE];
    event[..4].copy_from_slice(&kind.to_le_bytes());
    event
}

/// A NUL-terminated string in a fixed field, cut to fit.
fn put_str(field: &mut [u8], text: &str) {
    let length = text.len().min(field.len() - 1);
    field[..length].copy_from_slice(&text.as_bytes()[..length]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create2_puts_each_field_where_the_kernel_reads_it() {
        let event = Create2 { name: "key", phys: "p", uniq: "u", bus: 3, vendor: 0x1209, product: 0x7432, version: 1, descriptor: &[0xAB, 0xCD] }.encode();
        assert_eq!(event.len(), EVENT_SIZE);
        assert_eq!(&event[..4], &11u32.to_le_bytes());
        assert_eq!(&event[4..8], b"key\0");
        assert_eq!(event[132], b'p');
        assert_eq!(event[196], b'u');
        assert_eq!(&event[260..264], &[2, 0, 3, 0]);
        assert_eq!(&event[264..268], &0x1209u32.to_le_bytes());
        assert_eq!(&event[268..272], &0x7432u32.to_le_bytes());
        assert_eq!(&event[280..282], &[0xAB, 0xCD]);
    }

    #[test]
    fn output_events_carry_exactly_the_bytes_the_host_wrote() {
        let mut event = new_event(OUTPUT);
        event[4] = 0x00;
        event[5] = 0xFF;
        event[4 + DATA_MAX..6 + DATA_MAX].copy_from_slice(&65u16.to_le_bytes());
        let Some(FromKernel::Output(report)) = decode(&event) else { panic!("not an output event") };
        assert_eq!(report.len(), 65);
        assert_eq!(&report[..2], &[0x00, 0xFF]);
    }

    #[test]
    fn input2_is_size_then_data() {
        let event = input2(&[7; 64]);
        assert_eq!(&event[..6], &[12, 0, 0, 0, 64, 0]);
        assert_eq!(event.len(), 70);
    }

    #[test]
    fn report_requests_are_answered_with_their_id() {
        let mut event = new_event(GET_REPORT);
        event[4..8].copy_from_slice(&42u32.to_le_bytes());
        assert_eq!(decode(&event), Some(FromKernel::GetReport { id: 42 }));
        assert_eq!(&get_report_refused(42)[4..10], &[42, 0, 0, 0, 5, 0]);
        assert_eq!(decode(&DESTROY.to_le_bytes()), Some(FromKernel::Other(DESTROY)));
    }
}
