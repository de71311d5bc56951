//! Just enough of the attestationObject to refuse bad input before a challenge is spent,
//! and to name the key model in a refusal: the format, and from authData the AAGUID and
//! the credential id. webauthn-rs parses and verifies the whole thing afterwards.
//!
//! The attestationObject is a CBOR map `{"fmt": text, "attStmt": map, "authData": bytes}`
//! (WebAuthn §6.5); authData is `rpIdHash(32) flags(1) signCount(4)` then, with the AT
//! flag, `aaguid(16) credentialIdLength(2) credentialId …`.

use uuid::Uuid;

/// What registration needs to know before verifying.
#[derive(Debug, PartialEq, Eq)]
pub struct AttestationSummary {
    pub fmt: String,
    pub aaguid: Uuid,
    pub credential_id: Vec<u8>,
}

/// Why an attestationObject was refused, in words for the caller.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Malformed(pub String);

fn malformed(message: impl Into<String>) -> Malformed {
    Malformed(message.into())
}

/// Nested CBOR deeper than this is refused (an attStmt is two levels deep).
const MAX_DEPTH: usize = 16;

/// Reads `fmt` and authData's AAGUID and credential id.
pub fn summarize(object: &[u8]) -> Result<AttestationSummary, Malformed> {
    let mut reader = Reader { data: object, pos: 0 };
    let (major, entries) = reader.head()?;
    if major != MAP {
        return Err(malformed("The attestationObject is not a CBOR map."));
    }
    let (mut fmt, mut auth_data, mut att_stmt) = (None, None, false);
    for _ in 0..entries {
        let (major, len) = reader.head()?;
        if major != TEXT {
            return Err(malformed("The attestationObject has a key that is not text."));
        }
        let key = reader.take(len)?;
        match key {
            b"fmt" => {
                let (major, len) = reader.head()?;
                if major != TEXT {
                    return Err(malformed("The attestationObject's fmt is not text."));
                }
                let text = std::str::from_utf8(reader.take(len)?).map_err(|_| malformed("The attestationObject's fmt is not UTF-8."))?;
                fmt = Some(text.to_owned());
            }
            b"authData" => {
                let (major, len) = reader.head()?;
                if major != BYTES {
                    return Err(malformed("The attestationObject's authData is not a byte string."));
                }
                auth_data = Some(reader.take(len)?);
            }
            b"attStmt" => {
                let start = reader.pos;
                reader.skip(0)?;
                if reader.data[start] >> 5 != MAP {
                    return Err(malformed("The attestationObject's attStmt is not a map."));
                }
                att_stmt = true;
            }
            _ => reader.skip(0)?,
        }
    }
    if reader.pos != object.len() {
        return Err(malformed("The attestationObject has bytes after its CBOR map."));
    }
    let (Some(fmt), Some(auth_data), true) = (fmt, auth_data, att_stmt) else {
        return Err(malformed("The attestationObject needs fmt, attStmt and authData."));
    };
    let (aaguid, credential_id) = attested_credential(auth_data)?;
    Ok(AttestationSummary { fmt, aaguid, credential_id })
}

/// The AT flag: attested credential data follows the counter.
const FLAG_AT: u8 = 0x40;

fn attested_credential(auth_data: &[u8]) -> Result<(Uuid, Vec<u8>), Malformed> {
    if auth_data.len() < 37 {
        return Err(malformed("The authenticator data is too short."));
    }
    if auth_data[32] & FLAG_AT == 0 {
        return Err(malformed("The authenticator data carries no credential (the AT flag is not set)."));
    }
    let short = || malformed("The authenticator data ends inside its attested credential data.");
    let aaguid: [u8; 16] = auth_data.get(37..53).ok_or_else(short)?.try_into().map_err(|_| short())?;
    let length = usize::from(u16::from_be_bytes(auth_data.get(53..55).ok_or_else(short)?.try_into().map_err(|_| short())?));
    let credential_id = auth_data.get(55..55 + length).ok_or_else(short)?;
    if credential_id.is_empty() {
        return Err(malformed("The authenticator data has an empty credential id."));
    }
    Ok((Uuid::from_bytes(aaguid), credential_id.to_vec()))
}

const BYTES: u8 = 2;
const TEXT: u8 = 3;
const ARRAY: u8 = 4;
const MAP: u8 = 5;
const TAG: u8 = 6;

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8, Malformed> {
        let byte = *self.data.get(self.pos).ok_or_else(truncated)?;
        self.pos += 1;
        Ok(byte)
    }

    fn take(&mut self, len: u64) -> Result<&'a [u8], Malformed> {
        let len = usize::try_from(len).map_err(|_| truncated())?;
        let end = self.pos.checked_add(len).filter(|&end| end <= self.data.len()).ok_or_else(truncated)?;
        let bytes = &self.data[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    /// A data item's major type and argument (a length, a count or a value).
    fn head(&mut self) -> Result<(u8, u64), Malformed> {
        let initial = self.byte()?;
        let (major, info) = (initial >> 5, initial & 0x1f);
        let argument = match info {
            0..=23 => u64::from(info),
            24 => u64::from(self.byte()?),
            25..=27 => {
                let bytes = self.take(1 << (info - 24))?;
                bytes.iter().fold(0, |value, &b| (value << 8) | u64::from(b))
            }
            31 => return Err(malformed("The attestationObject uses indefinite-length CBOR, which CTAP2 does not allow.")),
            _ => return Err(malformed("The attestationObject is not well-formed CBOR.")),
        };
        Ok((major, argument))
    }

    fn skip(&mut self, depth: usize) -> Result<(), Malformed> {
        if depth > MAX_DEPTH {
            return Err(malformed("The attestationObject nests too deeply."));
        }
        let (major, argument) = self.head()?;
        match major {
            BYTES | TEXT => {
                self.take(argument)?;
            }
            ARRAY => {
                for _ in 0..argument {
                    self.skip(depth + 1)?;
                }
            }
            MAP => {
                for _ in 0..argument {
                    self.skip(depth + 1)?;
                    self.skip(depth + 1)?;
                }
            }
            TAG => self.skip(depth + 1)?,
            _ => {} // integers and simple values: the head was all of it
        }
        Ok(())
    }
}

fn truncated() -> Malformed {
    malformed("The attestationObject is not well-formed CBOR (it ends too early).")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Vec<u8> {
        let mut out = vec![0x60 | s.len() as u8];
        out.extend_from_slice(s.as_bytes());
        out
    }

    fn bytes(b: &[u8]) -> Vec<u8> {
        let mut out = if b.len() < 24 { vec![0x40 | b.len() as u8] } else { vec![0x58, b.len() as u8] };
        out.extend_from_slice(b);
        out
    }

    fn auth_data(flags: u8, credential_id: &[u8]) -> Vec<u8> {
        let mut out = vec![7; 32];
        out.push(flags);
        out.extend_from_slice(&[0, 0, 0, 5]);
        out.extend_from_slice(&[0xaa; 16]);
        out.extend_from_slice(&(credential_id.len() as u16).to_be_bytes());
        out.extend_from_slice(credential_id);
        out.extend_from_slice(&[0xa1, 0x01, 0x02]); // a stand-in COSE key
        out
    }

    fn object(fmt: &str, att_stmt: &[u8], auth: &[u8]) -> Vec<u8> {
        let mut out = vec![0xa3];
        out.extend(text("fmt"));
        out.extend(text(fmt));
        out.extend(text("attStmt"));
        out.extend_from_slice(att_stmt);
        out.extend(text("authData"));
        out.extend(bytes(auth));
        out
    }

    /// {"alg": -7, "sig": h'3045…', "x5c": [h'30…']}
    fn packed_att_stmt() -> Vec<u8> {
        let mut out = vec![0xa3];
        out.extend(text("alg"));
        out.push(0x26);
        out.extend(text("sig"));
        out.extend(bytes(&[0x30; 70]));
        out.extend(text("x5c"));
        out.push(0x81);
        out.extend(bytes(&[0x30; 200]));
        out
    }

    #[test]
    fn reads_fmt_aaguid_and_credential_id() {
        let object = object("packed", &packed_att_stmt(), &auth_data(0x45, &[9; 48]));
        let summary = summarize(&object).unwrap();
        assert_eq!(summary, AttestationSummary { fmt: "packed".into(), aaguid: Uuid::from_bytes([0xaa; 16]), credential_id: vec![9; 48] });
        assert_eq!(summarize(&self::object("none", &[0xa0], &auth_data(0x45, &[1]))).unwrap().fmt, "none");
    }

    #[test]
    fn refuses_what_is_not_an_attestation_object() {
        let good = object("packed", &packed_att_stmt(), &auth_data(0x45, &[9; 48]));
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (vec![], "ends too early"),
            (vec![0x83, 1, 2, 3], "not a CBOR map"),
            (good[..good.len() - 1].to_vec(), "ends too early"),
            ([good.clone(), vec![0]].concat(), "bytes after"),
            (vec![0xbf, 0xff], "indefinite-length"),
            (vec![0xa1, 0x01, 0x02], "key that is not text"),
            (object("packed", &[0x80], &auth_data(0x45, &[9])), "attStmt is not a map"),
            (object("packed", &[0xa0], &auth_data(0x05, &[9])), "AT flag"),
            (object("packed", &[0xa0], &auth_data(0x45, &[9; 48])[..60]), "ends inside"),
            (object("packed", &[0xa0], &[0; 10]), "too short"),
            (object("packed", &[0xa0], &auth_data(0x45, &[])), "empty credential id"),
            ([vec![0xa1], text("fmt"), text("packed")].concat(), "needs fmt, attStmt and authData"),
            // A deeply nested attStmt: arrays in arrays.
            (object("packed", &[vec![0xa1, 0x01], vec![0x81; 40], vec![0x01]].concat(), &auth_data(0x45, &[9])), "nests too deeply"),
            // A length beyond the end (and beyond usize on 32-bit).
            ([vec![0xa1], text("fmt"), vec![0x7b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]].concat(), "ends too early"),
        ];
        for (input, expected) in cases {
            let error = summarize(&input).unwrap_err();
            assert!(error.0.contains(expected), "{input:02x?}: {error}");
        }
    }
}
