//! What the device tells the kernel it is: a CTAPHID interface, as every FIDO key on USB.

/// The CTAPHID report descriptor of the CTAP 2.1 spec (§11.2.8.1): usage page 0xF1D0
/// (FIDO Alliance), usage 0x01 (CTAPHID), one 64-byte input report and one 64-byte output
/// report, with no report ids. hidapi finds FIDO keys by this usage page.
pub const REPORT_DESCRIPTOR: [u8; 34] = [
    0x06, 0xD0, 0xF1, // Usage Page (FIDO Alliance)
    0x09, 0x01, //       Usage (CTAPHID)
    0xA1, 0x01, //       Collection (Application)
    0x09, 0x20, //         Usage (Input Report Data)
    0x15, 0x00, //         Logical Minimum (0)
    0x26, 0xFF, 0x00, //   Logical Maximum (255)
    0x75, 0x08, //         Report Size (8 bits)
    0x95, 0x40, //         Report Count (64)
    0x81, 0x02, //         Input (Data, Variable, Absolute)
    0x09, 0x21, //         Usage (Output Report Data)
    0x15, 0x00, //         Logical Minimum (0)
    0x26, 0xFF, 0x00, //   Logical Maximum (255)
    0x75, 0x08, //         Report Size (8 bits)
    0x95, 0x40, //         Report Count (64)
    0x91, 0x02, //         Output (Data, Variable, Absolute)
    0xC0, //             End Collection
];

/// The bus a device says it sits on (`BUS_USB` in linux/input.h): hidapi reports it, and
/// a key on USB is what the code under test expects.
pub const BUS_USB: u16 = 0x03;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_descriptor_names_the_fido_usage_page_and_64_byte_reports() {
        assert_eq!(&REPORT_DESCRIPTOR[..3], &[0x06, 0xD0, 0xF1]);
        assert_eq!(REPORT_DESCRIPTOR.windows(2).filter(|w| w == &[0x95, 0x40]).count(), 2);
        assert_eq!(REPORT_DESCRIPTOR.last(), Some(&0xC0));
    }
}
