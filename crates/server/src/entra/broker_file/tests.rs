//! Files written into a fresh directory per test; the environment passed in, never set.

use std::collections::HashMap;

use tap2key_virtual_key::attestation::AttestationCa;

use super::*;
use crate::entra::test_support::{BROKER_CLIENT_ID, DESKTOP_CLIENT_ID, TENANT};

const KEY_PEM: &str = include_str!("../rsa_test_key.pem");
const CERT_PEM: &str = include_str!("../rsa_test_cert.pem");
const SECRET: &str = "Qx8~kP3.rT6-vW9_yZ2aB5cD8eF1gH4iJ7kL0mN";
const YUBIKEY: &str = "cb69481e-8ff7-4039-93ec-0a2729a154a8";
const OTHER_MODEL: &str = "ee882879-721c-4913-9775-3dfcce97072a";
/// The example's deploy directory, from this crate.
const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/broker.example.toml");

/// A directory removed when dropped.
struct Dir(PathBuf);

impl Dir {
    fn new() -> Self {
        let path = std::env::temp_dir().join(format!("tap2key-broker-file-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
        path
    }

    /// `broker.toml` holding `text`, loaded with `env`.
    fn load(&self, text: &str, env: &[(&str, &str)]) -> Result<ServerConfig, BrokerFileError> {
        let path = self.write("broker.toml", text);
        let env: HashMap<String, OsString> = env.iter().map(|(name, value)| (name.to_string(), OsString::from(value))).collect();
        load_with_env(&path, |name| env.get(name).cloned())
    }

    /// Loads `text` expecting a refusal; returns its message, checked to name the file and
    /// `key`.
    fn refusal(&self, text: &str, env: &[(&str, &str)], key: &str) -> String {
        let error = self.load(text, env).unwrap_err();
        assert_eq!(error.key, key, "{error}");
        let shown = error.to_string();
        assert!(shown.starts_with(&format!("{}: ", self.0.join("broker.toml").display())), "{shown}");
        assert!(!shown.contains(SECRET) && !format!("{error:?}").contains(SECRET), "{shown}");
        error.message
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn root_der() -> Vec<u8> {
    AttestationCa::tap2key_test().root_certificate_der().to_vec()
}

/// The required keys, with the secret from the environment.
fn minimal() -> String {
    format!(
        r#"database = "broker.sqlite3"
tenant_id = "{TENANT}"
client_id = "{BROKER_CLIENT_ID}"
accepted_client_ids = ["{DESKTOP_CLIENT_ID}"]
"#
    )
}

const ENV_SECRET: &[(&str, &str)] = &[(CLIENT_SECRET_ENV, SECRET)];

#[test]
fn a_full_file_with_a_certificate() {
    let dir = Dir::new();
    dir.write("graph-cert.pem", CERT_PEM);
    dir.write("private/graph-key.pem", KEY_PEM);
    dir.write("roots/vendor.pem", AttestationCa::tap2key_test().root_certificate_pem());
    dir.write("roots/other.der", root_der());
    let text = format!(
        r#"
bind = "127.0.0.1:8411"
database = "/var/lib/tap2key/broker.sqlite3"
tenant_id = "{}"
client_id = "{BROKER_CLIENT_ID}"
app_id_uri = "api://tap2key-broker"
scope = "Passkeys.Register"
accepted_client_ids = ["{DESKTOP_CLIENT_ID}", "{{0F5AC3F1-9D3A-4E8E-B1A5-6A0B0C52D3A2}}"]
authority = "https://login.microsoftonline.us"
graph = "https://graph.microsoft.us/"

[credential]
certificate_file = "graph-cert.pem"
private_key_file = "private/graph-key.pem"

[sign_in]
max_age_minutes = 7
required_amr = ["mfa", " rsa "]

[keys]
attestation_roots = ["roots/vendor.pem", "roots/other.der"]
allowed_aaguids = ["{YUBIKEY}"]
blocked_aaguids = ["{OTHER_MODEL}"]

[keys.models]
"{YUBIKEY}" = "YubiKey 5 Series"
"#,
        TENANT.to_uppercase()
    );
    // A secret in the environment is ignored when the file names a credential.
    let config = dir.load(&text, ENV_SECRET).unwrap();

    assert_eq!(config.bind, "127.0.0.1:8411".parse().unwrap());
    assert_eq!(config.database, PathBuf::from("/var/lib/tap2key/broker.sqlite3"));
    assert_eq!((config.rp_id.as_str(), config.rp_name.as_str()), ("login.microsoft.com", "Microsoft"));
    assert_eq!(config.tenant, TENANT, "GUIDs in their canonical form");
    assert_eq!(config.client_ids, [DESKTOP_CLIENT_ID, "0f5ac3f1-9d3a-4e8e-b1a5-6a0b0c52d3a2"]);
    assert_eq!((config.audience.as_str(), config.scope.as_str()), ("api://tap2key-broker", "Passkeys.Register"));

    let policy = &config.attestation;
    assert_eq!(policy.roots, [root_der(), root_der()]);
    assert_eq!(policy.allowed_aaguids, Some(vec![YUBIKEY.parse().unwrap()]));
    assert_eq!(policy.blocked_aaguids, [OTHER_MODEL.parse::<Uuid>().unwrap()]);
    assert_eq!(policy.model_name(YUBIKEY.parse().unwrap()), "YubiKey 5 Series");

    let broker = config.broker.as_ref().unwrap();
    assert_eq!((broker.tenant_id.as_str(), broker.client_id.as_str()), (TENANT, BROKER_CLIENT_ID));
    assert_eq!(broker.app_id_uri.as_deref(), Some("api://tap2key-broker"));
    assert_eq!(broker.accepted_client_ids, config.client_ids);
    assert_eq!(broker.authority.as_str(), "https://login.microsoftonline.us/");
    assert_eq!(broker.graph_scope(), "https://graph.microsoft.us/.default");
    assert_eq!(broker.freshness, Freshness { max_auth_age: time::Duration::minutes(7), required_amr: Some(vec!["mfa".into(), "rsa".into()]) });
    assert_eq!(broker.rp_id, "login.microsoft.com");
    assert!(matches!(broker.credential, GraphCredential::Certificate { .. }));
    assert!(!format!("{config:?}").contains("PRIVATE KEY"), "Debug shows no key");
}

#[test]
fn defaults_and_a_secret_from_the_environment() {
    let dir = Dir::new();
    let config = dir.load(&minimal(), ENV_SECRET).unwrap();
    assert_eq!(config.bind, DEFAULT_BIND.parse().unwrap());
    assert_eq!(config.database, dir.0.join("broker.sqlite3"), "relative to the file");
    assert_eq!(config.audience, format!("api://{BROKER_CLIENT_ID}"));
    assert_eq!(config.attestation, AttestationPolicy::default(), "nothing enforced");
    let broker = config.broker.as_ref().unwrap();
    assert_eq!(broker.scope, DEFAULT_SCOPE);
    assert_eq!((broker.authority.as_str(), broker.graph.as_str()), ("https://login.microsoftonline.com/", "https://graph.microsoft.com/"));
    assert_eq!(broker.freshness, Freshness::default());
    assert!(matches!(&broker.credential, GraphCredential::Secret(secret) if secret.as_str() == SECRET));
    assert!(!format!("{config:?}").contains(SECRET), "Debug shows no secret");
}

#[test]
fn a_secret_from_a_file_and_a_key_from_the_environment() {
    let dir = Dir::new();
    dir.write("secret", format!("{SECRET}\n"));
    let config = dir.load(&format!("{}[credential]\nclient_secret_file = \"secret\"\n", minimal()), &[]).unwrap();
    assert!(matches!(&config.broker.unwrap().credential, GraphCredential::Secret(secret) if secret.as_str() == SECRET));

    let key = dir.write("creds/graph-key.pem", KEY_PEM);
    dir.write("graph-cert.pem", CERT_PEM);
    let text = format!("{}[credential]\ncertificate_file = \"graph-cert.pem\"\n", minimal());
    let config = dir.load(&text, &[(PRIVATE_KEY_FILE_ENV, key.to_str().unwrap())]).unwrap();
    assert!(matches!(config.broker.unwrap().credential, GraphCredential::Certificate { .. }));
}

#[test]
fn the_file_itself() {
    let dir = Dir::new();
    let missing = load_with_env(&dir.0.join("nowhere.toml"), |_| None).unwrap_err();
    assert!(missing.to_string().ends_with("nowhere.toml: cannot be read (entity not found): copy deploy/broker.example.toml there and fill it in"), "{missing}");

    let message = dir.refusal("tenant_id = ", ENV_SECRET, "");
    assert!(message.starts_with("line 1: "), "{message}");
    let message = dir.refusal(&format!("{}colour = \"blue\"\n", minimal()), ENV_SECRET, "");
    assert!(message.starts_with("line 5: unknown field `colour`") && message.contains("docs/entra.md"), "{message}");
    let message = dir.refusal(&minimal().replace("database = \"broker.sqlite3\"\n", ""), ENV_SECRET, "");
    assert!(message.contains("missing field `database`"), "{message}");
}

#[test]
fn a_secret_pasted_into_the_file_is_not_repeated() {
    let dir = Dir::new();
    let message = dir.refusal(&format!("{}[credential]\nclient_secret = \"{SECRET}\"\n", minimal()), &[], "");
    assert!(message.contains("never put the secret itself here") && message.contains("client_secret_file"), "{message}");
    // A secret under a key of another type: serde would quote it.
    let message = dir.refusal(&format!("{}[sign_in]\nmax_age_minutes = \"{SECRET}\"\n", minimal()), &[], "");
    assert!(message.contains("invalid type: string \"…\""), "{message}");
}

#[test]
fn identifiers_must_be_guids() {
    let dir = Dir::new();
    let message = dir.refusal(&minimal().replace(TENANT, "contoso.com"), ENV_SECRET, "tenant_id");
    assert_eq!(message, "tenant_id \"contoso.com\" is not a GUID: use the Directory (tenant) ID from the Entra admin center (Overview page)");
    let message = dir.refusal(&minimal().replace(BROKER_CLIENT_ID, "api://tap2key-broker"), ENV_SECRET, "client_id");
    assert!(message.starts_with("client_id \"api://tap2key-broker\" is not a GUID: use the Application (client) ID of the onboarding service"), "{message}");
    let message = dir.refusal(&minimal().replace(DESKTOP_CLIENT_ID, "tap2key"), ENV_SECRET, "accepted_client_ids");
    assert!(message.contains("desktop app's registration"), "{message}");
    let message = dir.refusal(&minimal().replace(&format!("\"{DESKTOP_CLIENT_ID}\""), ""), ENV_SECRET, "accepted_client_ids");
    assert!(message.starts_with("accepted_client_ids is empty"), "{message}");
}

#[test]
fn addresses_scope_and_hosts() {
    let dir = Dir::new();
    let with = |line: &str| format!("{line}\n{}", minimal());
    let message = dir.refusal(&with("bind = \"8400\""), ENV_SECRET, "bind");
    assert!(message.starts_with("bind \"8400\" is not an address with a port: e.g. 127.0.0.1:8400"), "{message}");
    let message = dir.refusal(&with("scope = \"api://tap2key-broker/Passkeys.Register\""), ENV_SECRET, "scope");
    assert!(message.contains("the scope's name alone"), "{message}");
    dir.refusal(&with("scope = \"Passkeys.Register openid\""), ENV_SECRET, "scope");
    dir.refusal(&with("app_id_uri = \"tap2key broker\""), ENV_SECRET, "app_id_uri");
    let message = dir.refusal(&with("authority = \"http://login.microsoftonline.com\""), ENV_SECRET, "authority");
    assert_eq!(message, "authority \"http://login.microsoftonline.com\" is not https: use https://login.microsoftonline.com (or your national cloud's)");
    dir.refusal(&with("graph = \"https://graph.microsoft.com/?x=1\""), ENV_SECRET, "graph");
    dir.refusal(&with("graph = \"graph.microsoft.com\""), ENV_SECRET, "graph");
    // A stand-in on loopback may speak plain HTTP.
    let config = dir.load(&with("graph = \"http://127.0.0.1:9000/graph/\"\nauthority = \"http://localhost:9000\""), ENV_SECRET).unwrap();
    assert_eq!(config.broker.unwrap().graph.as_str(), "http://127.0.0.1:9000/graph/");
}

#[test]
fn sign_in_rules() {
    let dir = Dir::new();
    for minutes in [0, 61, -5] {
        let message = dir.refusal(&format!("{}[sign_in]\nmax_age_minutes = {minutes}\n", minimal()), ENV_SECRET, "sign_in.max_age_minutes");
        assert!(message.contains("use 1 to 60"), "{message}");
    }
    let message = dir.refusal(&format!("{}[sign_in]\nrequired_amr = []\n", minimal()), ENV_SECRET, "sign_in.required_amr");
    assert!(message.contains("would refuse every sign-in"), "{message}");
    dir.refusal(&format!("{}[sign_in]\nrequired_amr = [\"mfa\", \"\"]\n", minimal()), ENV_SECRET, "sign_in.required_amr");
}

#[test]
fn key_policy() {
    let dir = Dir::new();
    let keys = |body: &str| format!("{}[keys]\n{body}\n", minimal());
    let message = dir.refusal(&keys("allowed_aaguids = []"), ENV_SECRET, "keys.allowed_aaguids");
    assert!(message.contains("would refuse every key"), "{message}");
    let message = dir.refusal(&keys("blocked_aaguids = [\"YubiKey\"]"), ENV_SECRET, "keys.blocked_aaguids");
    assert!(message.starts_with("keys.blocked_aaguids \"YubiKey\" is not a GUID: an AAGUID is"), "{message}");
    let message = dir.refusal(&keys(&format!("allowed_aaguids = [\"{YUBIKEY}\"]\nblocked_aaguids = [\"{YUBIKEY}\"]")), ENV_SECRET, "keys.blocked_aaguids");
    assert!(message.contains("keep it in one list"), "{message}");
    dir.refusal(&keys("[keys.models]\n\"YubiKey\" = \"YubiKey 5\""), ENV_SECRET, "keys.models.\"YubiKey\"");
    dir.refusal(&keys(&format!("[keys.models]\n\"{YUBIKEY}\" = \" \"")), ENV_SECRET, &format!("keys.models.\"{YUBIKEY}\""));

    let message = dir.refusal(&keys("attestation_roots = [\"roots/missing.pem\"]"), ENV_SECRET, "keys.attestation_roots");
    assert!(message.contains("missing.pem cannot be read"), "{message}");
    dir.write("roots/key.pem", KEY_PEM);
    let message = dir.refusal(&keys("attestation_roots = [\"roots/key.pem\"]"), ENV_SECRET, "keys.attestation_roots");
    assert!(message.contains("key.pem does not hold an X.509 certificate"), "{message}");
    dir.write("roots/broken.pem", "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n");
    dir.refusal(&keys("attestation_roots = [\"roots/broken.pem\"]"), ENV_SECRET, "keys.attestation_roots");
}

#[test]
fn one_credential_exactly() {
    let dir = Dir::new();
    let cert = dir.write("graph-cert.pem", CERT_PEM);
    let key = dir.write("graph-key.pem", KEY_PEM);
    dir.write("secret", SECRET);
    dir.write("empty", "\n");
    let credential = |body: &str| format!("{}[credential]\n{body}\n", minimal());
    let key_env: &[(&str, &str)] = &[(PRIVATE_KEY_FILE_ENV, key.to_str().unwrap())];

    let message = dir.refusal(&minimal(), &[], "credential");
    assert!(message.starts_with("no credential for Microsoft Graph: set [credential] certificate_file"), "{message}");
    dir.refusal(&minimal(), &[(CLIENT_SECRET_ENV, "  ")], "credential");
    dir.refusal(&credential("certificate_file = \"graph-cert.pem\"\nclient_secret_file = \"secret\""), &[], "credential");
    let message = dir.refusal(&credential("certificate_file = \"graph-cert.pem\""), &[], "credential.private_key_file");
    assert!(message.contains(PRIVATE_KEY_FILE_ENV), "{message}");
    dir.refusal(&credential("certificate_file = \"graph-cert.pem\"\nprivate_key_file = \"graph-key.pem\""), key_env, "credential.private_key_file");
    dir.refusal(&credential("private_key_file = \"graph-key.pem\""), &[], "credential.certificate_file");
    let message = dir.refusal(&minimal(), &[(CLIENT_SECRET_ENV, SECRET), key_env[0]], "credential.certificate_file");
    assert!(message.starts_with(PRIVATE_KEY_FILE_ENV), "{message}");
    let message = dir.refusal(&credential("client_secret_file = \"empty\""), &[], "credential.client_secret_file");
    assert!(message.contains("does not hold a client secret"), "{message}");
    // The key where the certificate belongs: the loader says which file is wrong.
    let message = dir.refusal(&credential("certificate_file = \"graph-key.pem\"\nprivate_key_file = \"graph-key.pem\""), &[], "credential");
    assert!(message.contains("does not hold an X.509 certificate"), "{message}");
    let message = dir.refusal(&credential("certificate_file = \"graph-cert.pem\"\nprivate_key_file = \"graph-cert.pem\""), &[], "credential");
    assert!(message.contains("does not hold an RSA private key"), "{message}");
    assert!(cert.exists());
}

/// deploy/broker.example.toml as shipped, its /etc/tap2key files placed in a temporary
/// directory and the key named by the environment (as the systemd unit does).
#[test]
fn the_shipped_example_loads() {
    let dir = Dir::new();
    let example = std::fs::read_to_string(EXAMPLE).unwrap();
    let etc = format!("{}/", dir.0.display());
    let text = example.replace("/etc/tap2key/", &etc);
    for path in text.lines().filter_map(|line| line.split('"').nth(1)).filter(|value| value.starts_with(&etc)) {
        let content = if path.ends_with("graph-cert.pem") { CERT_PEM.to_owned() } else { AttestationCa::tap2key_test().root_certificate_pem() };
        dir.write(path.strip_prefix(&etc).unwrap(), content);
    }
    let key = dir.write("credentials/graph-key.pem", KEY_PEM);
    let config = dir.load(&text, &[(PRIVATE_KEY_FILE_ENV, key.to_str().unwrap())]).unwrap();
    let broker = config.broker.as_ref().unwrap();
    assert!(matches!(broker.credential, GraphCredential::Certificate { .. }));
    assert_eq!(config.rp_id, "login.microsoft.com");
    assert!(config.attestation.enforces_attestation());
}

#[test]
fn messages_quote_values_briefly_and_hide_strings() {
    assert_eq!(quoted("contoso.com"), "\"contoso.com\"");
    assert_eq!(quoted(&"x".repeat(100)), format!("\"{}…\"", "x".repeat(80)));
    assert_eq!(redact_strings("invalid type: string \"abc\", expected i64"), "invalid type: string \"…\", expected i64");
    assert_eq!(redact_strings("invalid type: string \"abc"), "invalid type: string \"…");
    assert_eq!(pem_certificates("no blocks"), Some(vec![]));
}
