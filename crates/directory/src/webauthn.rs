//! The browser's part of WebAuthn, done by the app: Graph's options decoded into the CTAP
//! requests a security key takes, and the clientDataJSON the key signs, byte for byte as
//! Entra accepts it. Unknown fields are ignored everywhere (Entra adds fields).

use std::{fmt, time::SystemTime};

use serde_json::Value;
use tap2key_keys::{GetAssertionRequest, MakeCredentialRequest};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};
use zeroize::Zeroizing;

pub use crate::encoding::credential_id_decodings;
use crate::{
    DirectoryError,
    encoding::{b64url, decode},
};

/// Graph's webauthnCredentialCreationOptions, decoded. The challenge is secret-ish: zeroized, never in Debug.
#[derive(Clone)]
pub struct CreationOptions {
    pub rp_id: String,
    pub rp_name: Option<String>,
    /// The opaque user handle (Entra's `user.id`, decoded: about 51 bytes, not a GUID).
    pub user_id: Vec<u8>,
    pub user_name: String,
    pub user_display_name: String,
    /// Every reading of every `excludeCredentials[].id`.
    pub exclude_credentials: Vec<Vec<u8>>,
    pub resident_key: bool,
    pub hmac_secret: bool,
    /// credProtect: 1 userVerificationOptional, 2 …WithCredentialIDList, 3 userVerificationRequired.
    pub cred_protect: Option<u8>,
    /// COSE algorithms offered, in order (Entra: -7, -257).
    pub algorithms: Vec<i64>,
    /// `challengeTimeoutDateTime`: after this the directory refuses the answer.
    pub expires_at: Option<SystemTime>,
    challenge: Zeroizing<Vec<u8>>,
}

impl CreationOptions {
    /// Reads Graph's answer (`{challengeTimeoutDateTime, publicKey: {…}}`), or the bare
    /// `publicKey` object.
    pub fn from_json(value: &Value) -> Result<Self, DirectoryError> {
        let public_key = if value.get("publicKey").is_some() { &value["publicKey"] } else { value };
        let extensions = &public_key["extensions"];
        let selection = &public_key["authenticatorSelection"];
        let exclude_credentials = list(&public_key["excludeCredentials"], "excludeCredentials")?;
        let algorithms = match &public_key["pubKeyCredParams"] {
            Value::Null => Vec::new(),
            Value::Array(params) => params.iter().filter_map(|param| param["alg"].as_i64()).collect(),
            _ => return Err(shape("pubKeyCredParams is not a list")),
        };
        let cred_protect = match extensions["credentialProtectionPolicy"].as_str() {
            Some("userVerificationOptional") => Some(1),
            Some("userVerificationOptionalWithCredentialIDList") => Some(2),
            Some("userVerificationRequired") => Some(3),
            _ => None,
        };
        Ok(Self {
            rp_id: required_text(&public_key["rp"]["id"], "rp.id")?,
            rp_name: public_key["rp"]["name"].as_str().map(str::to_owned),
            user_id: bytes(&public_key["user"]["id"], "user.id")?,
            user_name: public_key["user"]["name"].as_str().unwrap_or_default().to_owned(),
            user_display_name: public_key["user"]["displayName"].as_str().unwrap_or_default().to_owned(),
            exclude_credentials,
            resident_key: selection["requireResidentKey"] == true || selection["residentKey"] == "required",
            hmac_secret: extensions["hmacCreateSecret"] == true,
            cred_protect,
            algorithms,
            expires_at: value["challengeTimeoutDateTime"].as_str().and_then(parse_time),
            challenge: Zeroizing::new(bytes(&public_key["challenge"], "challenge")?),
        })
    }

    /// `{"type":"webauthn.create","challenge":<b64url no pad of the decoded challenge bytes>,"origin":"https://"+rp_id,"crossOrigin":false}`, byte for byte in that order.
    pub fn client_data_json(&self) -> Vec<u8> {
        client_data_json("webauthn.create", &self.challenge, &self.rp_id)
    }

    /// The CTAP request: client_data_json above, user handle = decoded user.id bytes, exclude list, rk, hmac-secret, credProtect
    /// (userVerificationOptional=1, userVerificationOptionalWithCredentialIDList=2, userVerificationRequired=3).
    pub fn make_credential_request(&self) -> MakeCredentialRequest {
        MakeCredentialRequest {
            client_data_json: self.client_data_json(),
            rp_id: self.rp_id.clone(),
            rp_name: self.rp_name.clone(),
            user_id: self.user_id.clone(),
            user_name: self.user_name.clone(),
            user_display_name: self.user_display_name.clone(),
            exclude_list: self.exclude_credentials.clone(),
            resident_key: self.resident_key,
            hmac_secret: self.hmac_secret,
            cred_protect: self.cred_protect,
        }
    }

    /// Whether the directory will refuse an answer made with these options by `now`.
    pub fn is_expired(&self, now: SystemTime) -> bool {
        self.expires_at.is_some_and(|expires| now >= expires)
    }
}

impl fmt::Debug for CreationOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreationOptions")
            .field("rp_id", &self.rp_id)
            .field("rp_name", &self.rp_name)
            .field("user_name", &self.user_name)
            .field("exclude_credentials", &self.exclude_credentials.len())
            .field("resident_key", &self.resident_key)
            .field("hmac_secret", &self.hmac_secret)
            .field("cred_protect", &self.cred_protect)
            .field("algorithms", &self.algorithms)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// The test sign-in's request options (our service's extension, not Graph): a fresh
/// challenge for one registered credential.
#[derive(Clone)]
pub struct TestSignInOptions {
    pub rp_id: String,
    /// Every reading of every `allowCredentials[].id`.
    pub allow_credentials: Vec<Vec<u8>>,
    challenge: Zeroizing<Vec<u8>>,
}

impl TestSignInOptions {
    /// Reads `{challenge, rpId, allowCredentials: [{id, type}], …}`.
    pub fn from_json(value: &Value) -> Result<Self, DirectoryError> {
        Ok(Self {
            rp_id: required_text(&value["rpId"], "rpId")?,
            allow_credentials: list(&value["allowCredentials"], "allowCredentials")?,
            challenge: Zeroizing::new(bytes(&value["challenge"], "challenge")?),
        })
    }

    /// Options made in the app (direct mode: Graph has no test sign-in), with a challenge
    /// it chose.
    pub(crate) fn local(rp_id: String, allow_credentials: Vec<Vec<u8>>, challenge: Vec<u8>) -> Self {
        Self { rp_id, allow_credentials, challenge: Zeroizing::new(challenge) }
    }

    /// `{"type":"webauthn.get","challenge":…,"origin":"https://"+rp_id,"crossOrigin":false}`, byte for byte.
    pub fn client_data_json(&self) -> Vec<u8> {
        client_data_json("webauthn.get", &self.challenge, &self.rp_id)
    }

    pub fn get_assertion_request(&self) -> GetAssertionRequest {
        GetAssertionRequest { client_data_json: self.client_data_json(), rp_id: self.rp_id.clone(), allow_list: self.allow_credentials.clone() }
    }
}

impl fmt::Debug for TestSignInOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestSignInOptions").field("rp_id", &self.rp_id).field("allow_credentials", &self.allow_credentials.len()).finish_non_exhaustive()
    }
}

/// The clientDataJSON a browser writes for this origin, in the member order Entra takes.
fn client_data_json(kind: &str, challenge: &[u8], rp_id: &str) -> Vec<u8> {
    // serde_json writes a JSON string exactly as a browser does (no escaping of '/').
    let origin = Value::String(format!("https://{rp_id}")).to_string();
    format!(r#"{{"type":"{kind}","challenge":"{}","origin":{origin},"crossOrigin":false}}"#, b64url(challenge)).into_bytes()
}

/// The union of every reading of every `[{id}]`, without repeats.
fn list(value: &Value, name: &str) -> Result<Vec<Vec<u8>>, DirectoryError> {
    let items = match value {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        _ => return Err(shape(&format!("{name} is not a list"))),
    };
    let mut ids: Vec<Vec<u8>> = Vec::new();
    for item in items {
        let text = item["id"].as_str().ok_or_else(|| shape(&format!("an entry of {name} has no id")))?;
        let readings = credential_id_decodings(text);
        if readings.is_empty() {
            return Err(shape(&format!("an id in {name} is not base64")));
        }
        for reading in readings {
            if !ids.contains(&reading) {
                ids.push(reading);
            }
        }
    }
    Ok(ids)
}

fn required_text(value: &Value, name: &str) -> Result<String, DirectoryError> {
    value.as_str().filter(|text| !text.is_empty()).map(str::to_owned).ok_or_else(|| shape(&format!("{name} is missing")))
}

fn bytes(value: &Value, name: &str) -> Result<Vec<u8>, DirectoryError> {
    let text = value.as_str().ok_or_else(|| shape(&format!("{name} is missing")))?;
    decode(text).ok_or_else(|| shape(&format!("{name} is not base64url")))
}

fn parse_time(text: &str) -> Option<SystemTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok().map(SystemTime::from)
}

fn shape(what: &str) -> DirectoryError {
    DirectoryError::Protocol(format!("the WebAuthn options are not as expected: {what}"))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;

    /// creationOptions the way Entra answers (shortened challenge, real shapes and quirks:
    /// all three id encodings, extra fields).
    fn entra_options() -> Value {
        json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.webauthnCredentialCreationOptions",
            "challengeTimeoutDateTime": "2026-11-22T14:05:00.1234567Z",
            "publicKey": {
                "challenge": "ZXlKaGJHY2lPaUpTVXpJMU5pSXNJblI1Y0NJNklrcFhWQ0o5LmV5SmhkV1FpT2lKb2RIUndjem92TDJ4dloybHVMbTFwWTNKdmMyOW1kQzVqYjIwaWZR",
                "timeout": 0,
                "rp": {"id": "login.microsoft.com", "name": "Microsoft"},
                "user": {
                    "id": "T0lEPTFkMjU2YjNkLTU1ZDQtNGI1NC1hNWIwLTg3NjM0ZjgyZTNlYyZUSUQ9NzJmOTg4YmY",
                    "name": "ada@contoso.com",
                    "displayName": "Ada Lovelace",
                },
                "pubKeyCredParams": [{"type": "public-key", "alg": -7}, {"type": "public-key", "alg": -257}],
                "excludeCredentials": [
                    {"id": "avscPv8CnUS-fxDjWGyh_juQDXHI9CVumw_6M4Fc5xLWSr8Ilzz_YC3pdRukwD-IVg79J5phs03uBXzYOfMaYg", "type": "public-key", "transports": ["usb"]},
                    {"id": "3q2+7w==", "type": "public-key", "transports": []},
                    {"id": "AQIDBAU1", "type": "public-key"},
                ],
                "authenticatorSelection": {"authenticatorAttachment": "cross-platform", "requireResidentKey": true, "userVerification": "required"},
                "attestation": "direct",
                "hints": ["security-key"],
                "extensions": {"hmacCreateSecret": true, "enforceCredentialProtectionPolicy": true, "credentialProtectionPolicy": "userVerificationOptional"},
            },
        })
    }

    #[test]
    fn creation_options_decode() {
        let options = CreationOptions::from_json(&entra_options()).unwrap();
        assert_eq!(options.rp_id, "login.microsoft.com");
        assert_eq!(options.rp_name.as_deref(), Some("Microsoft"));
        assert_eq!(options.user_id.len(), 53);
        assert!(options.user_id.starts_with(b"OID=1d256b3d"));
        assert_eq!((options.user_name.as_str(), options.user_display_name.as_str()), ("ada@contoso.com", "Ada Lovelace"));
        assert!(options.resident_key && options.hmac_secret);
        assert_eq!(options.cred_protect, Some(1));
        assert_eq!(options.algorithms, [-7, -257]);
        // The first id, the standard-base64 one, and both readings of "AQIDBAU1".
        assert_eq!(options.exclude_credentials.len(), 4);
        assert_eq!(options.exclude_credentials[0].len(), 64);
        assert_eq!(options.exclude_credentials[1], [0xde, 0xad, 0xbe, 0xef]);
        assert!(options.exclude_credentials.contains(&vec![1, 2, 3, 4, 5, 0x35]));
        assert!(options.exclude_credentials.contains(&vec![1, 2, 3, 4, 5]));
        let expires = SystemTime::from(time::macros::datetime!(2026-11-22 14:05:00.1234567 UTC));
        assert_eq!(options.expires_at, Some(expires));
        assert!(!options.is_expired(expires - Duration::from_secs(1)));
        assert!(options.is_expired(expires));
    }

    #[test]
    fn client_data_json_is_byte_exact() {
        let options = CreationOptions::from_json(&entra_options()).unwrap();
        let challenge = "ZXlKaGJHY2lPaUpTVXpJMU5pSXNJblI1Y0NJNklrcFhWQ0o5LmV5SmhkV1FpT2lKb2RIUndjem92TDJ4dloybHVMbTFwWTNKdmMyOW1kQzVqYjIwaWZR";
        let expected = format!(r#"{{"type":"webauthn.create","challenge":"{challenge}","origin":"https://login.microsoft.com","crossOrigin":false}}"#);
        assert_eq!(String::from_utf8(options.client_data_json()).unwrap(), expected);

        let request = options.make_credential_request();
        assert_eq!(request.client_data_json, expected.as_bytes());
        assert_eq!(request.user_id, options.user_id);
        assert_eq!(request.exclude_list, options.exclude_credentials);
        assert_eq!((request.resident_key, request.hmac_secret, request.cred_protect), (true, true, Some(1)));
        assert_eq!(request.rp_name.as_deref(), Some("Microsoft"));
    }

    #[test]
    fn a_challenge_sent_padded_is_re_encoded_without_padding() {
        let mut value = entra_options();
        value["publicKey"]["challenge"] = json!("+/8=");
        let options = CreationOptions::from_json(&value).unwrap();
        assert_eq!(
            String::from_utf8(options.client_data_json()).unwrap(),
            r#"{"type":"webauthn.create","challenge":"-_8","origin":"https://login.microsoft.com","crossOrigin":false}"#
        );
    }

    #[test]
    fn the_challenge_stays_out_of_debug() {
        let options = CreationOptions::from_json(&entra_options()).unwrap();
        let debug = format!("{options:?}");
        assert!(debug.contains("login.microsoft.com") && !debug.contains("challenge"), "{debug}");
        let test = TestSignInOptions::from_json(&json!({"challenge": "c2VjcmV0", "rpId": "login.tap2key.test", "allowCredentials": []})).unwrap();
        assert!(!format!("{test:?}").contains("c2VjcmV0"));
    }

    #[test]
    fn cred_protect_levels() {
        for (policy, level) in [
            ("userVerificationOptional", Some(1)),
            ("userVerificationOptionalWithCredentialIDList", Some(2)),
            ("userVerificationRequired", Some(3)),
            ("somethingNew", None),
        ] {
            let mut value = entra_options();
            value["publicKey"]["extensions"]["credentialProtectionPolicy"] = json!(policy);
            assert_eq!(CreationOptions::from_json(&value).unwrap().cred_protect, level, "{policy}");
        }
    }

    #[test]
    fn what_cannot_be_used_is_a_protocol_error() {
        for (pointer, bad) in [
            ("/publicKey/challenge", json!(null)),
            ("/publicKey/challenge", json!("not base64!")),
            ("/publicKey/rp", json!({})),
            ("/publicKey/user/id", json!(42)),
            ("/publicKey/excludeCredentials", json!({"id": "AAAA"})),
            ("/publicKey/excludeCredentials", json!([{"id": "no way"}])),
        ] {
            let mut value = entra_options();
            *value.pointer_mut(pointer).unwrap() = bad;
            assert!(matches!(CreationOptions::from_json(&value), Err(DirectoryError::Protocol(_))), "{pointer}");
        }
    }

    #[test]
    fn test_sign_in_options() {
        let options = TestSignInOptions::from_json(&json!({
            "challenge": "3q2-7w",
            "rpId": "login.tap2key.test",
            "allowCredentials": [{"type": "public-key", "id": "AQID"}],
            "userVerification": "required",
            "timeout": 60000,
        }))
        .unwrap();
        let request = options.get_assertion_request();
        assert_eq!(
            String::from_utf8(request.client_data_json).unwrap(),
            r#"{"type":"webauthn.get","challenge":"3q2-7w","origin":"https://login.tap2key.test","crossOrigin":false}"#
        );
        assert_eq!(request.rp_id, "login.tap2key.test");
        assert_eq!(request.allow_list, [vec![1, 2, 3]]);
    }
}
