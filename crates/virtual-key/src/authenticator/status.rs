//! CTAP2 status codes the authenticator answers with (CTAP 2.1 §8.2).

/// A CTAP status byte other than success. Each handler returns `Result<_, Status>` and the
/// dispatcher turns an `Err` into a one-byte response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Status {
    InvalidCommand = 0x01,
    InvalidParameter = 0x02,
    InvalidLength = 0x03,
    CborUnexpectedType = 0x11,
    InvalidCbor = 0x12,
    MissingParameter = 0x14,
    LimitExceeded = 0x15,
    CredentialExcluded = 0x19,
    UnsupportedAlgorithm = 0x26,
    OperationDenied = 0x27,
    KeyStoreFull = 0x28,
    UnsupportedOption = 0x2B,
    InvalidOption = 0x2C,
    KeepaliveCancel = 0x2D,
    NoCredentials = 0x2E,
    UserActionTimeout = 0x2F,
    NotAllowed = 0x30,
    PinInvalid = 0x31,
    PinBlocked = 0x32,
    PinAuthInvalid = 0x33,
    PinAuthBlocked = 0x34,
    PinNotSet = 0x35,
    PuatRequired = 0x36,
    PinPolicyViolation = 0x37,
    RequestTooLarge = 0x39,
    InvalidSubcommand = 0x3E,
    UnauthorizedPermission = 0x40,
    Other = 0x7F,
}

impl Status {
    pub fn code(self) -> u8 {
        self as u8
    }
}

pub type CtapResult<T> = Result<T, Status>;
