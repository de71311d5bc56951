//! The broker's client credentials grant ("Microsoft identity platform and the OAuth 2.0
//! client credentials flow"; "Microsoft identity platform application authentication
//! certificate credentials"): `scope=https://graph.microsoft.com/.default` and either a
//! `client_secret` or a `client_assertion` JWT signed with a registered certificate.
//!
//! The assertion is checked as Entra checks it: header `alg` PS256 or RS256 and
//! `x5t#S256` (or the legacy SHA-1 `x5t`) naming a registered certificate; the signature
//! with that certificate's key; `aud` the token endpoint; `iss` = `sub` = the client id;
//! `exp` in the future and `nbf` not; a `jti` never seen before.
//!
//! AADSTS codes: documented (reference-error-codes and the Azure SDK's "Troubleshoot
//! service principal authentication" page): 700016 unknown application, 7000215 invalid
//! client secret, 700027 invalid assertion signature / unknown key, 700021 assertion
//! `iss`/`sub` not the client id, 700023 assertion audience, 700024 assertion outside its
//! valid time range, 1002012 client credentials scope without `/.default`, 5002738
//! unsupported JWT algorithm, 7000218 no client credential. NOT documented for this
//! purpose: the replayed or missing `jti` answer (50013, InvalidAssertion, is the closest
//! documented code; Entra's real answer to a replay is not published) and 900023 for a
//! request carrying both a secret and an assertion (ours).
//!
//! Violations (the broker must never send them): a scope other than exactly
//! `https://graph.microsoft.com/.default`, both credentials at once, an assertion without
//! `jti`. Not checked: Entra also accepts a request without `client_id` when the
//! assertion names the client; MSAL and the broker always send it, so it is required here.

use axum::response::Response;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

use crate::{
    entra_error::EntraError,
    keys::BrokerCertificate,
    state::Shared,
    token_endpoint::{Form, field, token_response},
};

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";

pub(crate) fn grant(shared: &Shared, form: &Form) -> Response {
    let now = shared.now();
    match check(shared, form) {
        Ok(with_certificate) => {
            let (access_token, expires) = shared.app_token(with_certificate);
            let lifetime = (expires - now).whole_seconds();
            token_response(
                json!({ "token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": access_token }),
            )
        }
        Err(error) => error.respond(now),
    }
}

/// `Ok(true)` for a certificate, `Ok(false)` for a secret.
fn check(shared: &Shared, form: &Form) -> Result<bool, EntraError> {
    let broker = shared.config.broker_client_id.to_string();
    let client_id = field(form, "client_id").unwrap_or_default();
    if client_id.is_empty() {
        return Err(EntraError::new(
            "invalid_request",
            900_144,
            "The request body must contain the following parameter: 'client_id'.",
        ));
    }
    if !client_id.eq_ignore_ascii_case(&broker) {
        return Err(EntraError::new(
            "unauthorized_client",
            700_016,
            format!(
                "Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.",
                shared.config.tenant_domain
            ),
        ));
    }
    let scope = field(form, "scope").unwrap_or_default();
    if scope != GRAPH_DEFAULT {
        shared.violation(format!("client credentials token request with scope {scope:?} (the broker asks for exactly {GRAPH_DEFAULT})"));
        return Err(EntraError::new(
            "invalid_scope",
            1_002_012,
            format!(
                "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
            ),
        ));
    }
    match (
        field(form, "client_secret"),
        field(form, "client_assertion"),
    ) {
        (Some(_), Some(_)) => {
            shared.violation(
                "client credentials token request with both client_secret and client_assertion",
            );
            Err(EntraError::new(
                "invalid_request",
                900_023,
                "Specified client credentials are ambiguous: send either client_secret or client_assertion.",
            ))
        }
        (Some(secret), None) => {
            if shared.lock().secrets.iter().any(|s| s == secret) {
                Ok(false)
            } else {
                Err(EntraError::new(
                    "invalid_client",
                    7_000_215,
                    format!(
                        "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{broker}'."
                    ),
                ))
            }
        }
        (None, Some(assertion)) => {
            if field(form, "client_assertion_type") != Some(ASSERTION_TYPE) {
                return Err(EntraError::new(
                    "invalid_request",
                    900_144,
                    format!(
                        "The request body must contain the following parameter: 'client_assertion_type' with the value {ASSERTION_TYPE}."
                    ),
                ));
            }
            check_assertion(shared, assertion, &broker).map(|()| true)
        }
        (None, None) => Err(EntraError::new(
            "invalid_client",
            7_000_218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        )),
    }
}

fn check_assertion(shared: &Shared, assertion: &str, broker: &str) -> Result<(), EntraError> {
    let invalid = |reason: &str| {
        EntraError::new(
            "invalid_client",
            700_027,
            format!("Client assertion contains an invalid signature. [Reason - {reason}]"),
        )
    };
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| EntraError::new("invalid_client", 50_013, "Assertion failed signature validation. [Reason - The assertion is not a well-formed JWT.]"))?;
    if !matches!(header.alg, Algorithm::PS256 | Algorithm::RS256) {
        return Err(EntraError::new(
            "invalid_request",
            5_002_738,
            format!(
                "Invalid JWT token. '{:?}' is not a supported signature algorithm.",
                header.alg
            ),
        ));
    }
    let certificate = {
        let inner = shared.lock();
        let by_s256 = header
            .x5t_s256
            .as_ref()
            .and_then(|t| inner.certificates.iter().find(|c| &c.x5t_s256 == t));
        let by_sha1 = header
            .x5t
            .as_ref()
            .and_then(|t| inner.certificates.iter().find(|c| &c.x5t == t));
        by_s256.or(by_sha1).cloned()
    };
    let Some(BrokerCertificate {
        public_key_pkcs1, ..
    }) = certificate
    else {
        let named = header.x5t_s256.or(header.x5t).unwrap_or_default();
        return Err(invalid(&format!(
            "The key was not found., Thumbprint of key used by client: '{named}'. Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{broker}'."
        )));
    };
    let mut validation = Validation::new(header.alg);
    validation.validate_aud = false;
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.required_spec_claims.clear();
    let claims: Value = jsonwebtoken::decode::<Value>(
        assertion,
        &DecodingKey::from_rsa_der(&public_key_pkcs1),
        &validation,
    )
    .map_err(|_| {
        invalid("The provided signature value did not match the expected signature value.")
    })?
    .claims;

    if claims["aud"].as_str() != Some(shared.token_url().as_str()) {
        return Err(EntraError::new(
            "invalid_client",
            700_023,
            format!(
                "Client assertion audience claim does not match Realm issuer. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials. (aud {}, expected {})",
                claims["aud"],
                shared.token_url()
            ),
        ));
    }
    if claims["iss"].as_str() != Some(broker) || claims["sub"].as_str() != Some(broker) {
        return Err(EntraError::new(
            "invalid_client",
            700_021,
            "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials.",
        ));
    }
    let now = shared.now().unix_timestamp();
    let exp = claims["exp"].as_i64();
    let nbf = claims["nbf"].as_i64();
    let in_range = exp.is_some_and(|exp| exp > now) && nbf.is_none_or(|nbf| nbf <= now + 300);
    if !in_range {
        return Err(EntraError::new(
            "invalid_client",
            700_024,
            "Client assertion is not within its valid time range. Ensure that the access token isn't expired before using it to request a token.",
        ));
    }
    let Some(jti) = claims["jti"].as_str().filter(|j| !j.is_empty()) else {
        shared.violation("client assertion without a jti");
        return Err(EntraError::new(
            "invalid_client",
            50_013,
            "Assertion is invalid: the jti claim is required.",
        ));
    };
    if !shared.lock().seen_jtis.insert(jti.to_owned()) {
        return Err(EntraError::new(
            "invalid_client",
            50_013,
            "Assertion is invalid: the assertion was already used (jti replayed). Create a new assertion with a new jti for every request.",
        ));
    }
    Ok(())
}
