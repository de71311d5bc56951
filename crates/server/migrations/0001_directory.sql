-- The demo directory: users, their Temporary Access Passes and passkeys, the one-use
-- OAuth authorization codes and WebAuthn ceremony states, and the audit trail.
--
-- Encodings (see crates/server/src/store/mod.rs):
--   * ids (uuid)   TEXT, lower-case hyphenated
--   * timestamps   TEXT, RFC 3339 in UTC with exactly nine fractional digits
--                  ('2025-01-02T03:04:05.000000000Z'), so text order is time order
--   * bytes        BLOB (credential ids, SHA-256 hashes of codes and challenges)
--   * booleans     INTEGER 0 / 1

CREATE TABLE users (
    id            TEXT    NOT NULL PRIMARY KEY,
    upn           TEXT    NOT NULL,            -- as given, for display
    upn_lower     TEXT    NOT NULL UNIQUE,     -- lower-cased, for lookup
    display_name  TEXT    NOT NULL,
    created       TEXT    NOT NULL
) STRICT;

-- At most one pass per user: issuing a new one replaces the row (and its method id).
CREATE TABLE taps (
    id            TEXT    NOT NULL PRIMARY KEY, -- the authentication method id
    user_id       TEXT    NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    pass_hash     TEXT    NOT NULL,             -- argon2id, PHC string format; never the pass
    start         TEXT    NOT NULL,
    expires       TEXT    NOT NULL,
    one_time      INTEGER NOT NULL CHECK (one_time IN (0, 1)),
    used_at       TEXT,                         -- when a one-time pass was spent
    created       TEXT    NOT NULL,
    CHECK (start <= expires)
) STRICT;

-- Failed sign-in attempts, for per-user rate limiting.
CREATE TABLE failed_sign_ins (
    id            INTEGER NOT NULL PRIMARY KEY,
    user_id       TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    at            TEXT    NOT NULL
) STRICT;
CREATE INDEX failed_sign_ins_by_user ON failed_sign_ins (user_id, at);

-- OAuth authorization codes, under the SHA-256 of the code; taking one deletes it.
CREATE TABLE authorization_codes (
    code_hash      BLOB    NOT NULL PRIMARY KEY CHECK (length(code_hash) = 32),
    user_id        TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id      TEXT    NOT NULL,
    redirect_uri   TEXT    NOT NULL,
    code_challenge TEXT    NOT NULL,
    scope          TEXT    NOT NULL,
    nonce          TEXT,
    auth_time      TEXT    NOT NULL,
    expires        TEXT    NOT NULL
) STRICT;
CREATE INDEX authorization_codes_by_expiry ON authorization_codes (expires);

-- Passkeys: the user's fido2 authentication methods.
CREATE TABLE passkeys (
    method_id         TEXT    NOT NULL PRIMARY KEY,
    user_id           TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id     BLOB    NOT NULL UNIQUE,
    credential_json   TEXT    NOT NULL,          -- the verifier's serialized credential (public key, counter, ...)
    aaguid            TEXT    NOT NULL,
    model             TEXT    NOT NULL,
    display_name      TEXT    NOT NULL,
    attestation_level TEXT    NOT NULL,
    created           TEXT    NOT NULL,
    sign_count        INTEGER NOT NULL CHECK (sign_count BETWEEN 0 AND 4294967295)
) STRICT;
CREATE INDEX passkeys_by_user ON passkeys (user_id, created);

-- WebAuthn ceremonies under way, under the SHA-256 of their challenge; taking one deletes it.
CREATE TABLE ceremonies (
    challenge_hash BLOB    NOT NULL PRIMARY KEY CHECK (length(challenge_hash) = 32),
    user_id        TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind           TEXT    NOT NULL CHECK (kind IN ('registration', 'authentication')),
    state_json     TEXT    NOT NULL,
    method_id      TEXT,
    expires        TEXT    NOT NULL
) STRICT;
CREATE INDEX ceremonies_by_expiry ON ceremonies (expires);

-- The audit trail. No foreign key: it outlives what it speaks of, and records refusals
-- for users that do not exist. Never holds a secret.
CREATE TABLE audit_events (
    id        INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    at        TEXT    NOT NULL,
    user_id   TEXT,
    upn       TEXT,
    action    TEXT    NOT NULL CHECK (action IN
                  ('user_created', 'tap_issued', 'sign_in', 'registration', 'test_sign_in', 'deletion')),
    outcome   TEXT    NOT NULL,
    detail    TEXT    NOT NULL
) STRICT;
CREATE INDEX audit_events_by_time ON audit_events (at, id);
CREATE INDEX audit_events_by_user ON audit_events (user_id, at, id);
