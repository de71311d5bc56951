//! Broker mode from a TOML file (`/etc/tap2key/broker.toml`): what `tap2key-server broker`
//! runs with.
//!
//! Every value is checked here, before the service starts, and every problem names the
//! file, the key, and what would do, so IT fixes it from the message alone. Secrets never
//! live in this file: the broker's private key or client secret is in a file of its own
//! (readable by the service only, e.g. a systemd credential or a container secret), or the
//! secret in the environment; neither errors nor `Debug` ever show one.
//!
//! ```toml
//! bind = "127.0.0.1:8400"                     # optional (this default); plain HTTP behind a TLS reverse proxy
//! database = "/var/lib/tap2key/broker.sqlite3" # relative paths are relative to this file
//! tenant_id = "72f988bf-86f1-41af-91ab-2d7cd011db47"  # Directory (tenant) ID
//! client_id = "6e74172b-be56-4843-9ff4-e66a39bb12e3"  # the onboarding service's app registration
//! app_id_uri = "api://tap2key-broker"         # optional: its Application ID URI, also accepted as aud
//! scope = "Passkeys.Register"                 # optional (this default): the scope's name as in scp
//! accepted_client_ids = ["0f5ac3f1-9d3a-4e8e-b1a5-6a0b0c52d3a1"]  # the desktop app registration(s)
//! authority = "https://login.microsoftonline.com"  # optional (this default; national clouds differ)
//! graph = "https://graph.microsoft.com"             # optional (this default)
//!
//! [credential]            # a certificate (preferred) or a client secret, not both
//! certificate_file = "/etc/tap2key/graph-cert.pem"  # the certificate uploaded to the app (PEM or DER)
//! private_key_file = "/etc/tap2key/private/graph-key.pem"  # its RSA private key (PEM); or TAP2KEY_GRAPH_PRIVATE_KEY_FILE
//! # client_secret_file = "/etc/tap2key/private/graph-secret"  # instead: a file holding the secret's value
//! # neither: the secret from TAP2KEY_GRAPH_CLIENT_SECRET
//!
//! [sign_in]
//! max_age_minutes = 10    # optional (this default), 1..=60: how recent the person's sign-in must be
//! required_amr = ["mfa"]  # optional: one of these in the token's amr (v1 tokens only carry amr)
//!
//! [keys]                  # the organisation's key policy, checked before Graph sees the key
//! attestation_roots = ["/etc/tap2key/roots/vendor.pem"]  # PEM or DER; none: attestation not enforced
//! allowed_aaguids = ["cb69481e-8ff7-4039-93ec-0a2729a154a8"]  # optional allow-list
//! blocked_aaguids = []    # optional block-list
//!
//! [keys.models]           # model names by AAGUID, so refusals name the key
//! "cb69481e-8ff7-4039-93ec-0a2729a154a8" = "YubiKey 5 Series"
//! ```
//!
//! `deploy/broker.example.toml` is this file with comments for IT; a test loads it.

use std::{
    collections::BTreeMap,
    ffi::OsString,
    fmt::Display,
    net::SocketAddr,
    path::{Path, PathBuf},
};

use base64::{Engine, engine::general_purpose::STANDARD};
use reqwest::Url;
use serde::Deserialize;
use uuid::Uuid;
use zeroize::Zeroizing;

use super::{
    app_token::{GraphCredential, PUBLIC_CLOUD_AUTHORITY},
    broker_config::{BrokerConfig, ENTRA_RP_ID, PUBLIC_CLOUD_GRAPH},
    validate::{DEFAULT_MAX_AUTH_AGE, Freshness},
};
use crate::{config::ServerConfig, graph::AttestationPolicy};

/// Where `tap2key-server broker` looks unless told otherwise.
pub const DEFAULT_PATH: &str = "/etc/tap2key/broker.toml";
/// Loopback: the service speaks plain HTTP, so a TLS reverse proxy sits in front of it.
pub const DEFAULT_BIND: &str = "127.0.0.1:8400";
pub const DEFAULT_SCOPE: &str = "Passkeys.Register";
/// The client secret, when the file names no credential (the last fallback).
pub const CLIENT_SECRET_ENV: &str = "TAP2KEY_GRAPH_CLIENT_SECRET";
/// The private key's file, when `[credential]` names a certificate but no key: where a
/// systemd credential or container secret lands is known only at run time.
pub const PRIVATE_KEY_FILE_ENV: &str = "TAP2KEY_GRAPH_PRIVATE_KEY_FILE";
/// The relying party name of every passkey Entra registers.
pub const ENTRA_RP_NAME: &str = "Microsoft";

/// A problem with the broker's file: `{file}: {message}`, the message naming the key.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", file.display())]
pub struct BrokerFileError {
    pub file: PathBuf,
    /// The key at fault, dotted (`credential.private_key_file`); empty when the file as a
    /// whole is (unreadable, not TOML).
    pub key: String,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    bind: Option<String>,
    database: PathBuf,
    tenant_id: String,
    client_id: String,
    app_id_uri: Option<String>,
    scope: Option<String>,
    accepted_client_ids: Vec<String>,
    authority: Option<String>,
    graph: Option<String>,
    #[serde(default)]
    credential: Credential,
    #[serde(default)]
    sign_in: SignIn,
    #[serde(default)]
    keys: Keys,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Credential {
    certificate_file: Option<PathBuf>,
    private_key_file: Option<PathBuf>,
    client_secret_file: Option<PathBuf>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignIn {
    max_age_minutes: Option<i64>,
    required_amr: Option<Vec<String>>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Keys {
    #[serde(default)]
    attestation_roots: Vec<PathBuf>,
    allowed_aaguids: Option<Vec<String>>,
    #[serde(default)]
    blocked_aaguids: Vec<String>,
    #[serde(default)]
    models: BTreeMap<String, String>,
}

/// The service's configuration in broker mode from the file at `path`, with the credential
/// loaded (and a certificate checked against its key) and the attestation roots read.
pub fn load(path: &Path) -> Result<ServerConfig, BrokerFileError> {
    load_with_env(path, |name| std::env::var_os(name))
}

/// [`load`], reading the environment through `env` (tests give their own).
pub fn load_with_env(path: &Path, env: impl Fn(&str) -> Option<OsString>) -> Result<ServerConfig, BrokerFileError> {
    let check = Check { file: path.to_owned(), dir: path.parent().map(Path::to_owned).unwrap_or_default() };
    let text = std::fs::read_to_string(path).map_err(|error| {
        let hint = if error.kind() == std::io::ErrorKind::NotFound { ": copy deploy/broker.example.toml there and fill it in" } else { "" };
        check.error("", format!("cannot be read ({}){hint}", error.kind()))
    })?;
    let file: File = toml::from_str(&text).map_err(|error| check.toml_error(&text, &error))?;
    check.config(file, &env)
}

struct Check {
    file: PathBuf,
    /// Relative paths in the file are relative to its directory, not to wherever the
    /// service was started.
    dir: PathBuf,
}

const TENANT_HINT: &str = "use the Directory (tenant) ID from the Entra admin center (Overview page)";
const CLIENT_HINT: &str = "use the Application (client) ID of the onboarding service's app registration";
const DESKTOP_HINT: &str = "use the Application (client) ID of the desktop app's registration";
const AAGUID_HINT: &str = "an AAGUID is a GUID such as cb69481e-8ff7-4039-93ec-0a2729a154a8 (the key vendor lists them)";

impl Check {
    fn error(&self, key: &str, message: impl Display) -> BrokerFileError {
        BrokerFileError { file: self.file.clone(), key: key.to_owned(), message: message.to_string() }
    }

    /// toml's own message with its line, but not its excerpt of the file, and no quoted
    /// value (a secret pasted under the wrong key must not end up in a log).
    fn toml_error(&self, text: &str, error: &toml::de::Error) -> BrokerFileError {
        let line = error.span().map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
        let message = redact_strings(error.message().trim());
        let hint = if message.contains("unknown field `client_secret`") {
            format!(": never put the secret itself here; put it in a file only the service can read and name that file with client_secret_file, or set {CLIENT_SECRET_ENV}")
        } else {
            " (every key is described in docs/entra.md and deploy/broker.example.toml)".to_owned()
        };
        let at = line.map(|line| format!("line {line}: ")).unwrap_or_default();
        self.error("", format!("{at}{message}{hint}"))
    }

    fn path(&self, path: &Path) -> PathBuf {
        if path.is_absolute() { path.to_owned() } else { self.dir.join(path) }
    }

    fn guid(&self, key: &str, value: &str, hint: &str) -> Result<Uuid, BrokerFileError> {
        Uuid::parse_str(value.trim()).map_err(|_| self.error(key, format!("{key} {} is not a GUID: {hint}", quoted(value))))
    }

    /// An `https` URL (or `http` on loopback, for a local stand-in) with a host and no
    /// query: the base of every Entra or Graph URL.
    fn base_url(&self, key: &str, value: Option<&str>, default: &str) -> Result<Url, BrokerFileError> {
        let value = value.unwrap_or(default);
        let bad = |why: &str| self.error(key, format!("{key} {} {why}: use {default} (or your national cloud's)", quoted(value)));
        let url = Url::parse(value.trim()).map_err(|_| bad("is not a URL"))?;
        let loopback = matches!(url.host(), Some(url::Host::Domain("localhost"))) || matches!(url.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback()) || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback());
        if !(url.scheme() == "https" || (url.scheme() == "http" && loopback)) {
            return Err(bad("is not https"));
        }
        if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
            return Err(bad("must be the host alone, without a query or user"));
        }
        Ok(url)
    }

    fn config(&self, file: File, env: &impl Fn(&str) -> Option<OsString>) -> Result<ServerConfig, BrokerFileError> {
        let bind_text = file.bind.as_deref().unwrap_or(DEFAULT_BIND);
        let bind: SocketAddr = bind_text
            .trim()
            .parse()
            .map_err(|_| self.error("bind", format!("bind {} is not an address with a port: e.g. {DEFAULT_BIND} behind a reverse proxy on this machine, 0.0.0.0:8400 in a container", quoted(bind_text))))?;
        if file.database.as_os_str().is_empty() {
            return Err(self.error("database", "database is empty: name the SQLite file, e.g. /var/lib/tap2key/broker.sqlite3"));
        }
        let tenant_id = self.guid("tenant_id", &file.tenant_id, TENANT_HINT)?.hyphenated().to_string();
        let client_id = self.guid("client_id", &file.client_id, CLIENT_HINT)?.hyphenated().to_string();
        if file.accepted_client_ids.is_empty() {
            return Err(self.error("accepted_client_ids", format!("accepted_client_ids is empty, so no app could use the service: {DESKTOP_HINT}")));
        }
        let accepted_client_ids =
            file.accepted_client_ids.iter().map(|id| Ok(self.guid("accepted_client_ids", id, DESKTOP_HINT)?.hyphenated().to_string())).collect::<Result<Vec<_>, _>>()?;
        let app_id_uri = file.app_id_uri.map(|uri| self.app_id_uri(&uri)).transpose()?;
        let scope = self.scope(file.scope.as_deref().unwrap_or(DEFAULT_SCOPE))?;
        let authority = self.base_url("authority", file.authority.as_deref(), PUBLIC_CLOUD_AUTHORITY)?;
        let graph = self.base_url("graph", file.graph.as_deref(), PUBLIC_CLOUD_GRAPH)?;
        let freshness = self.freshness(file.sign_in)?;
        let attestation = self.keys(file.keys)?;
        let credential = self.credential(file.credential, env)?;

        let mut broker = BrokerConfig::new(&tenant_id, &client_id, &scope, accepted_client_ids.clone(), credential);
        broker.authority = authority;
        broker.graph = graph;
        broker.app_id_uri = app_id_uri.clone();
        broker.freshness = freshness;

        let mut config = ServerConfig::demo(self.path(&file.database));
        config.bind = bind;
        config.tenant = tenant_id;
        config.client_ids = accepted_client_ids;
        config.audience = app_id_uri.unwrap_or_else(|| format!("api://{client_id}"));
        config.scope = scope;
        config.rp_id = ENTRA_RP_ID.to_owned();
        config.rp_name = ENTRA_RP_NAME.to_owned();
        config.attestation = attestation;
        config.broker = Some(broker);
        Ok(config)
    }

    fn app_id_uri(&self, uri: &str) -> Result<String, BrokerFileError> {
        let uri = uri.trim();
        if Url::parse(uri).is_err() || uri.contains(char::is_whitespace) {
            return Err(self.error("app_id_uri", format!("app_id_uri {} is not a URI: use the Application ID URI from the service's Expose an API page, e.g. api://tap2key-broker, or leave it out", quoted(uri))));
        }
        Ok(uri.to_owned())
    }

    fn scope(&self, scope: &str) -> Result<String, BrokerFileError> {
        let scope = scope.trim();
        if scope.contains('/') {
            return Err(self.error("scope", format!("scope {} should be the scope's name alone, as in the token's scp, e.g. {DEFAULT_SCOPE} (the desktop app's broker_scope takes the full api://…/{DEFAULT_SCOPE})", quoted(scope))));
        }
        if scope.is_empty() || scope.contains(char::is_whitespace) {
            return Err(self.error("scope", format!("scope {} is not one scope name: use {DEFAULT_SCOPE} (the scope added under Expose an API), or leave it out", quoted(scope))));
        }
        Ok(scope.to_owned())
    }

    fn freshness(&self, sign_in: SignIn) -> Result<Freshness, BrokerFileError> {
        let max_auth_age = match sign_in.max_age_minutes {
            None => DEFAULT_MAX_AUTH_AGE,
            Some(minutes @ 1..=60) => time::Duration::minutes(minutes),
            Some(minutes) => {
                return Err(self.error(
                    "sign_in.max_age_minutes",
                    format!("sign_in.max_age_minutes {minutes} is out of range: use 1 to 60 (Entra itself asks for a sign-in within 10 minutes to add a security key)"),
                ));
            }
        };
        let required_amr = match sign_in.required_amr {
            None => None,
            Some(amr) if amr.is_empty() => {
                return Err(self.error("sign_in.required_amr", "sign_in.required_amr is empty, which would refuse every sign-in: list the methods (e.g. [\"mfa\"]) or leave it out"));
            }
            Some(amr) if amr.iter().any(|value| value.trim().is_empty()) => {
                return Err(self.error("sign_in.required_amr", "sign_in.required_amr has an empty entry: list method names such as \"mfa\""));
            }
            Some(amr) => Some(amr.into_iter().map(|value| value.trim().to_owned()).collect()),
        };
        Ok(Freshness { max_auth_age, required_amr })
    }

    fn keys(&self, keys: Keys) -> Result<AttestationPolicy, BrokerFileError> {
        let mut roots = Vec::new();
        for path in &keys.attestation_roots {
            roots.extend(self.roots(&self.path(path))?);
        }
        let aaguids = |key: &str, list: &[String]| list.iter().map(|id| self.guid(key, id, AAGUID_HINT)).collect::<Result<Vec<_>, _>>();
        let allowed_aaguids = keys.allowed_aaguids.as_deref().map(|list| aaguids("keys.allowed_aaguids", list)).transpose()?;
        if allowed_aaguids.as_ref().is_some_and(Vec::is_empty) {
            return Err(self.error("keys.allowed_aaguids", "keys.allowed_aaguids is empty, which would refuse every key: list the models you hand out, or leave it out to allow every model"));
        }
        let blocked_aaguids = aaguids("keys.blocked_aaguids", &keys.blocked_aaguids)?;
        if let Some(both) = allowed_aaguids.iter().flatten().find(|id| blocked_aaguids.contains(id)) {
            return Err(self.error("keys.blocked_aaguids", format!("keys.blocked_aaguids has {both}, which keys.allowed_aaguids allows: keep it in one list")));
        }
        let mut model_names = BTreeMap::new();
        for (aaguid, name) in keys.models {
            let key = format!("keys.models.\"{aaguid}\"");
            let id = self.guid(&key, &aaguid, AAGUID_HINT)?;
            if name.trim().is_empty() {
                return Err(self.error(&key, format!("{key} is empty: give the model's name, e.g. \"YubiKey 5 Series\"")));
            }
            model_names.insert(id, name.trim().to_owned());
        }
        Ok(AttestationPolicy { roots, allowed_aaguids, blocked_aaguids, model_names })
    }

    /// The certificates in one root file: every `CERTIFICATE` block of a PEM file, or the
    /// file itself as DER; each checked the way registrations will use it.
    fn roots(&self, path: &Path) -> Result<Vec<Vec<u8>>, BrokerFileError> {
        const KEY: &str = "keys.attestation_roots";
        let bytes = std::fs::read(path).map_err(|error| self.error(KEY, format!("{KEY}: {} cannot be read ({})", path.display(), error.kind())))?;
        let not_a_certificate = || self.error(KEY, format!("{KEY}: {} does not hold an X.509 certificate (PEM or DER): use the key vendor's attestation root certificate", path.display()));
        let roots = match std::str::from_utf8(&bytes).ok().filter(|text| text.contains("-----BEGIN CERTIFICATE-----")) {
            Some(text) => pem_certificates(text).ok_or_else(not_a_certificate)?,
            None => vec![bytes],
        };
        for root in &roots {
            AttestationPolicy { roots: vec![root.clone()], ..AttestationPolicy::default() }.validate().map_err(|_| not_a_certificate())?;
        }
        Ok(roots)
    }

    /// Exactly one way: a certificate and its key, or a secret file; the secret from the
    /// environment only when the file names neither.
    fn credential(&self, credential: Credential, env: &impl Fn(&str) -> Option<OsString>) -> Result<GraphCredential, BrokerFileError> {
        let Credential { certificate_file, private_key_file, client_secret_file } = credential;
        let key_from_env = env(PRIVATE_KEY_FILE_ENV).filter(|value| !value.is_empty()).map(PathBuf::from);
        let bad = |key: &str, error: &dyn Display| self.error(key, format!("{key}: {error}"));
        match (certificate_file, client_secret_file) {
            (Some(_), Some(_)) => Err(self.error(
                "credential",
                "[credential] names both certificate_file and client_secret_file: keep one (the certificate is the better choice; remove the secret from the app registration once it works)",
            )),
            (Some(certificate), None) => {
                let key = match (private_key_file, key_from_env) {
                    (Some(_), Some(_)) => {
                        return Err(self.error(
                            "credential.private_key_file",
                            format!("both credential.private_key_file and {PRIVATE_KEY_FILE_ENV} name the private key: keep one"),
                        ));
                    }
                    (Some(file), None) => self.path(&file),
                    (None, Some(file)) => file,
                    (None, None) => {
                        return Err(self.error(
                            "credential.private_key_file",
                            format!("credential.certificate_file needs its private key: set credential.private_key_file or {PRIVATE_KEY_FILE_ENV}"),
                        ));
                    }
                };
                GraphCredential::certificate_from_files(&key, self.path(&certificate)).map_err(|error| bad("credential", &error))
            }
            (None, secret_file) => {
                if private_key_file.is_some() || key_from_env.is_some() {
                    let which = if private_key_file.is_some() { "credential.private_key_file" } else { PRIVATE_KEY_FILE_ENV };
                    return Err(self.error("credential.certificate_file", format!("{which} is set but credential.certificate_file is not: name the certificate uploaded to the app registration")));
                }
                match secret_file {
                    Some(file) => GraphCredential::secret_from_file(self.path(&file)).map_err(|error| bad("credential.client_secret_file", &error)),
                    None => self.secret_from_env(env),
                }
            }
        }
    }

    fn secret_from_env(&self, env: &impl Fn(&str) -> Option<OsString>) -> Result<GraphCredential, BrokerFileError> {
        let missing = || {
            self.error(
                "credential",
                format!("no credential for Microsoft Graph: set [credential] certificate_file and private_key_file (or {PRIVATE_KEY_FILE_ENV}), or client_secret_file, or the environment variable {CLIENT_SECRET_ENV}"),
            )
        };
        let value = env(CLIENT_SECRET_ENV).ok_or_else(missing)?;
        let value = Zeroizing::new(value.into_string().map_err(|_| self.error("credential", format!("{CLIENT_SECRET_ENV} is not text: set it to the client secret's value")))?);
        match value.trim() {
            "" => Err(self.error("credential", format!("{CLIENT_SECRET_ENV} is empty: set it to the client secret's value, or name a credential in [credential]"))),
            secret => Ok(GraphCredential::Secret(Zeroizing::new(secret.to_owned()))),
        }
    }
}

/// Every `CERTIFICATE` block's DER; `None` if one is not base64.
fn pem_certificates(text: &str) -> Option<Vec<Vec<u8>>> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut certificates = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(BEGIN) {
        let body = &rest[at + BEGIN.len()..];
        let end = body.find(END)?;
        let base64: String = body[..end].chars().filter(|c| !c.is_ascii_whitespace()).collect();
        certificates.push(STANDARD.decode(base64).ok()?);
        rest = &body[end + END.len()..];
    }
    Some(certificates)
}

/// A value from the file for a message: quoted, and cut short.
fn quoted(value: &str) -> String {
    let short: String = value.chars().take(80).collect();
    format!("{:?}", if short.len() < value.len() { short + "…" } else { short })
}

/// `string "..."` in serde's messages (`invalid type: string "…", expected …`) without the
/// value.
fn redact_strings(message: &str) -> String {
    const MARK: &str = "string \"";
    let mut out = String::new();
    let mut rest = message;
    while let Some(at) = rest.find(MARK) {
        out.push_str(&rest[..at + MARK.len()]);
        let after = &rest[at + MARK.len()..];
        match after.find('"') {
            Some(end) => {
                out.push_str("…\"");
                rest = &after[end + 1..];
            }
            None => {
                out.push('…');
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests;
