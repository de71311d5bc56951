//! Temporary Access Passes, as Entra has them: at most one per user (issuing replaces the old
//! one), a start time and a lifetime, one-time or not. The pass is generated here, handed out
//! once, and stored only as an argon2id hash. Also: failed sign-in attempts, for rate limiting.

use std::fmt;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngExt;
use sqlx::Row;
use zeroize::Zeroizing;

use super::{
    OffsetDateTime, Store, StoreError, StoreResult, decode_optional_time, decode_time, decode_uuid,
    encode_time, encode_uuid,
};

/// A pass just issued. The only place the pass ever exists in clear; `Debug` redacts it.
pub struct IssuedTap {
    pub method_id: uuid::Uuid,
    pub pass: Zeroizing<String>,
    pub start: OffsetDateTime,
    pub expires: OffsetDateTime,
    pub one_time: bool,
}

impl fmt::Debug for IssuedTap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedTap")
            .field("method_id", &self.method_id)
            .field("pass", &"<redacted>")
            .field("start", &self.start)
            .field("expires", &self.expires)
            .field("one_time", &self.one_time)
            .finish()
    }
}

/// A user's pass without its secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TapInfo {
    pub method_id: uuid::Uuid,
    pub start: OffsetDateTime,
    pub expires: OffsetDateTime,
    pub one_time: bool,
    /// A one-time pass that has been spent. (A multi-use pass never counts as used.)
    pub used: bool,
    pub created: OffsetDateTime,
}

/// What a typed pass is worth, checked in this order: is there a pass, does it match, has it
/// started, has it expired, is a one-time pass already spent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TapCheck {
    Accepted {
        method_id: uuid::Uuid,
        one_time: bool,
    },
    Wrong,
    NotYetValid,
    Expired,
    Used,
    NoPass,
}

/// Unambiguous characters: no 0/O, 1/I/l.
const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
/// 12 characters of 57: about 70 bits.
const PASS_LENGTH: usize = 12;

/// OWASP's argon2id parameters: 19 MiB, two passes, one lane.
const ARGON2_MEMORY_KIB: u32 = 19_456;
const ARGON2_ITERATIONS: u32 = 2;
const ARGON2_LANES: u32 = 1;

fn generate_pass() -> Zeroizing<String> {
    let mut rng = rand::rng(); // ChaCha12, seeded and reseeded from the OS: a CSPRNG
    let mut pass = Zeroizing::new(String::with_capacity(PASS_LENGTH));
    for _ in 0..PASS_LENGTH {
        pass.push(char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]));
    }
    pass
}

fn argon2id() -> Argon2<'static> {
    let params = Params::new(ARGON2_MEMORY_KIB, ARGON2_ITERATIONS, ARGON2_LANES, None)
        .expect("the OWASP argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The pass as a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`), with a fresh
/// 16-byte salt. CPU- and memory-heavy: call it off the async threads.
fn hash_pass(pass: &str) -> StoreResult<String> {
    let mut salt = [0_u8; 16];
    rand::rng().fill(&mut salt[..]);
    let salt = SaltString::encode_b64(&salt).map_err(encode_error)?;
    let hash = argon2id()
        .hash_password(pass.as_bytes(), &salt)
        .map_err(encode_error)?;
    Ok(hash.to_string())
}

/// Whether `typed` is the pass behind `phc` (parameters and salt come from the string).
fn verify_pass(typed: &str, phc: &str) -> StoreResult<bool> {
    let parsed = PasswordHash::new(phc)
        .map_err(|e| StoreError::Corrupt(format!("TAP hash is not a PHC string: {e}")))?;
    if parsed.algorithm != argon2::ARGON2ID_IDENT {
        return Err(StoreError::Corrupt(format!(
            "TAP hash uses {}",
            parsed.algorithm
        )));
    }
    match argon2id().verify_password(typed.as_bytes(), &parsed) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::Password) => Ok(false),
        Err(e) => Err(StoreError::Corrupt(format!("TAP hash: {e}"))),
    }
}

fn encode_error(e: argon2::password_hash::Error) -> StoreError {
    StoreError::Database(sqlx::Error::Encode(e.to_string().into()))
}

/// Argon2 hashes at most this many passes at once: each takes 19 MiB and a core, so a burst
/// of sign-ins queues here instead of exhausting memory and starving the database.
static HASHING_SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

/// Runs CPU-heavy work on tokio's blocking pool; a panic there is resumed here.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    let _slot = HASHING_SLOTS.acquire().await.expect("the semaphore is never closed");
    match tokio::task::spawn_blocking(work).await {
        Ok(value) => value,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => panic!("blocking task did not finish: {e}"),
    }
}

impl Store {
    /// Issues a new pass for `user`, valid from `start` for `lifetime`, replacing any pass the
    /// user had (a new method id too). The pass is in the result and nowhere else.
    /// A negative lifetime or an unknown user is `Err(Database)`.
    pub async fn issue_tap(
        &self,
        user: uuid::Uuid,
        start: OffsetDateTime,
        lifetime: time::Duration,
        one_time: bool,
        now: OffsetDateTime,
    ) -> StoreResult<IssuedTap> {
        let expires = start.checked_add(lifetime).ok_or_else(|| {
            StoreError::Database(sqlx::Error::Encode(
                "the pass would expire after 9999".into(),
            ))
        })?;
        let pass = generate_pass();
        let hash = {
            let pass = pass.clone();
            blocking(move || hash_pass(&pass)).await?
        };
        let method_id = uuid::Uuid::new_v4();
        sqlx::query(
            "INSERT INTO taps (id, user_id, pass_hash, start, expires, one_time, used_at, created)
             VALUES (?, ?, ?, ?, ?, ?, NULL, ?)
             ON CONFLICT (user_id) DO UPDATE SET
                 id = excluded.id,
                 pass_hash = excluded.pass_hash,
                 start = excluded.start,
                 expires = excluded.expires,
                 one_time = excluded.one_time,
                 used_at = NULL,
                 created = excluded.created",
        )
        .bind(encode_uuid(method_id))
        .bind(encode_uuid(user))
        .bind(hash)
        .bind(encode_time(start)?)
        .bind(encode_time(expires)?)
        .bind(one_time)
        .bind(encode_time(now)?)
        .execute(&self.pool)
        .await?;
        Ok(IssuedTap {
            method_id,
            pass,
            start,
            expires,
            one_time,
        })
    }

    /// Checks a typed pass; spends a one-time pass that is accepted. Of concurrent checks of
    /// the same one-time pass exactly one is `Accepted`, the others `Used`.
    pub async fn check_tap(
        &self,
        user: uuid::Uuid,
        typed: &str,
        now: OffsetDateTime,
    ) -> StoreResult<TapCheck> {
        let Some(row) = sqlx::query(
            "SELECT id, pass_hash, start, expires, one_time, used_at FROM taps WHERE user_id = ?",
        )
        .bind(encode_uuid(user))
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(TapCheck::NoPass);
        };
        let method_id: String = row.try_get("id")?;
        let hash: String = row.try_get("pass_hash")?;
        let start = decode_time(row.try_get("start")?)?;
        let expires = decode_time(row.try_get("expires")?)?;
        let one_time: bool = row.try_get("one_time")?;
        let used = decode_optional_time(row.try_get("used_at")?)?.is_some();

        let typed = Zeroizing::new(typed.to_owned());
        if !blocking(move || verify_pass(&typed, &hash)).await? {
            return Ok(TapCheck::Wrong);
        }
        if now < start {
            return Ok(TapCheck::NotYetValid);
        }
        if now >= expires {
            return Ok(TapCheck::Expired);
        }
        let accepted = TapCheck::Accepted {
            method_id: decode_uuid(&method_id)?,
            one_time,
        };
        if !one_time {
            return Ok(accepted);
        }
        if used {
            return Ok(TapCheck::Used);
        }
        // Spend it. The row may have been spent, or replaced by a new pass, since it was
        // read: then no row matches, and the pass that was typed is no longer good.
        let spent = sqlx::query("UPDATE taps SET used_at = ? WHERE id = ? AND used_at IS NULL")
            .bind(encode_time(now)?)
            .bind(&method_id)
            .execute(&self.pool)
            .await?;
        Ok(if spent.rows_affected() == 1 {
            accepted
        } else {
            TapCheck::Used
        })
    }

    pub async fn tap_of(&self, user: uuid::Uuid) -> StoreResult<Option<TapInfo>> {
        let Some(row) = sqlx::query(
            "SELECT id, start, expires, one_time, used_at, created FROM taps WHERE user_id = ?",
        )
        .bind(encode_uuid(user))
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        Ok(Some(TapInfo {
            method_id: decode_uuid(row.try_get("id")?)?,
            start: decode_time(row.try_get("start")?)?,
            expires: decode_time(row.try_get("expires")?)?,
            one_time: row.try_get("one_time")?,
            used: decode_optional_time(row.try_get("used_at")?)?.is_some(),
            created: decode_time(row.try_get("created")?)?,
        }))
    }

    pub async fn record_failed_sign_in(
        &self,
        user: uuid::Uuid,
        now: OffsetDateTime,
    ) -> StoreResult<()> {
        sqlx::query("INSERT INTO failed_sign_ins (user_id, at) VALUES (?, ?)")
            .bind(encode_uuid(user))
            .bind(encode_time(now)?)
            .execute(&self.pool)
            .await?;
        // Nothing older than a day matters to any lockout window; keep the table small.
        sqlx::query("DELETE FROM failed_sign_ins WHERE at < ?")
            .bind(encode_time(now - time::Duration::days(1))?)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Failed attempts recorded at or after `since`.
    pub async fn failed_sign_ins_since(
        &self,
        user: uuid::Uuid,
        since: OffsetDateTime,
    ) -> StoreResult<u32> {
        let count: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM failed_sign_ins WHERE user_id = ? AND at >= ?",
        )
        .bind(encode_uuid(user))
        .bind(encode_time(since)?)
        .fetch_one(&self.pool)
        .await?;
        // More than u32::MAX failures can't be told apart from u32::MAX for rate limiting.
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use time::Duration;

    use super::super::testing::{self, TempDb};
    use super::*;

    const HOUR: Duration = Duration::HOUR;

    async fn stored_hash(store: &Store, user: uuid::Uuid) -> String {
        sqlx::query_scalar("SELECT pass_hash FROM taps WHERE user_id = ?")
            .bind(encode_uuid(user))
            .fetch_one(&store.pool)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn issued_pass_is_twelve_unambiguous_characters_and_only_its_hash_is_stored() {
        let (db, store, user) = testing::store_with_user("tap-issue").await;
        let now = testing::now();
        let tap = store
            .issue_tap(user.id, now, HOUR, true, now)
            .await
            .unwrap();

        assert_eq!(tap.pass.len(), PASS_LENGTH);
        assert!(
            tap.pass.bytes().all(|c| ALPHABET.contains(&c)),
            "{}",
            tap.pass.as_str()
        );
        assert_eq!(
            (tap.start, tap.expires, tap.one_time),
            (now, now + HOUR, true)
        );

        let hash = stored_hash(&store, user.id).await;
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(!hash.contains(tap.pass.as_str()));

        // Not in any byte SQLite wrote (main file, WAL, shared memory), in any case.
        let raw = testing_bytes_lowercase(&db);
        let pass = tap.pass.to_lowercase();
        assert!(
            !raw.windows(pass.len()).any(|w| w == pass.as_bytes()),
            "the pass is on disk"
        );

        // Nor in the Debug output.
        let debug = format!("{tap:?}");
        assert!(
            !debug.contains(tap.pass.as_str()) && debug.contains("<redacted>"),
            "{debug}"
        );

        assert_eq!(
            store.tap_of(user.id).await.unwrap(),
            Some(TapInfo {
                method_id: tap.method_id,
                start: now,
                expires: now + HOUR,
                one_time: true,
                used: false,
                created: now,
            })
        );
    }

    fn testing_bytes_lowercase(db: &TempDb) -> Vec<u8> {
        db.raw_bytes().to_ascii_lowercase()
    }

    #[test]
    fn generated_passes_use_the_whole_alphabet_and_differ() {
        let passes: Vec<_> = (0..500).map(|_| generate_pass()).collect();
        let mut seen = std::collections::HashSet::new();
        for pass in &passes {
            assert_eq!(pass.len(), PASS_LENGTH);
            assert!(pass.bytes().all(|c| ALPHABET.contains(&c)));
            seen.extend(pass.bytes());
        }
        // 6000 draws from 57 symbols: every one shows up (missing one has odds ~e^-105).
        assert_eq!(seen.len(), ALPHABET.len());
        let distinct: std::collections::HashSet<_> = passes.iter().map(|p| p.as_str()).collect();
        assert_eq!(distinct.len(), passes.len());
        assert_eq!(ALPHABET.len(), 57);
    }

    #[tokio::test]
    async fn check_tap_outcomes_in_order() {
        let (_db, store, user) = testing::store_with_user("tap-check").await;
        let now = testing::now();

        // No pass: whatever is typed.
        assert_eq!(
            store.check_tap(user.id, "anything", now).await.unwrap(),
            TapCheck::NoPass
        );
        assert_eq!(
            store
                .check_tap(uuid::Uuid::new_v4(), "anything", now)
                .await
                .unwrap(),
            TapCheck::NoPass
        );

        // A one-time pass from now + 1 h to now + 2 h.
        let start = now + HOUR;
        let tap = store
            .issue_tap(user.id, start, HOUR, true, now)
            .await
            .unwrap();
        let pass = tap.pass.as_str();
        let check = |typed: &str, at| {
            let store = store.clone();
            let typed = typed.to_owned();
            async move { store.check_tap(user.id, &typed, at).await.unwrap() }
        };

        // A wrong pass is Wrong before anything else is told.
        assert_eq!(check("WRONGWRONG23", now).await, TapCheck::Wrong);
        assert_eq!(check("", start).await, TapCheck::Wrong);
        assert_eq!(
            check(&pass.to_lowercase(), start).await,
            TapCheck::Wrong,
            "case matters"
        );
        assert_eq!(
            check("WRONGWRONG23", start + 2 * HOUR).await,
            TapCheck::Wrong
        );

        // Right pass: not yet valid up to start, expired from the end.
        assert_eq!(check(pass, now).await, TapCheck::NotYetValid);
        assert_eq!(
            check(pass, start - Duration::nanoseconds(1)).await,
            TapCheck::NotYetValid
        );
        assert_eq!(check(pass, start + HOUR).await, TapCheck::Expired);
        assert!(
            !store.tap_of(user.id).await.unwrap().unwrap().used,
            "refusals spend nothing"
        );

        // Accepted at the very start, then spent.
        let accepted = TapCheck::Accepted {
            method_id: tap.method_id,
            one_time: true,
        };
        assert_eq!(check(pass, start).await, accepted);
        assert!(store.tap_of(user.id).await.unwrap().unwrap().used);
        assert_eq!(check(pass, start + Duration::MINUTE).await, TapCheck::Used);
        // Spent, the other checks still come first.
        assert_eq!(
            check("WRONGWRONG23", start + Duration::MINUTE).await,
            TapCheck::Wrong
        );
        assert_eq!(check(pass, start + 2 * HOUR).await, TapCheck::Expired);
        assert_eq!(check(pass, now).await, TapCheck::NotYetValid);
    }

    #[tokio::test]
    async fn issuing_a_new_pass_replaces_the_old_one() {
        let (_db, store, user) = testing::store_with_user("tap-replace").await;
        let now = testing::now();
        let old = store
            .issue_tap(user.id, now, HOUR, true, now)
            .await
            .unwrap();
        assert!(matches!(
            store.check_tap(user.id, &old.pass, now).await.unwrap(),
            TapCheck::Accepted { .. }
        ));

        let later = now + Duration::MINUTE;
        let new = store
            .issue_tap(user.id, later, 8 * HOUR, false, later)
            .await
            .unwrap();
        assert_ne!(new.method_id, old.method_id);
        assert_ne!(*new.pass, *old.pass);
        assert_eq!(
            store.check_tap(user.id, &old.pass, later).await.unwrap(),
            TapCheck::Wrong
        );
        assert_eq!(
            store.check_tap(user.id, &new.pass, later).await.unwrap(),
            TapCheck::Accepted {
                method_id: new.method_id,
                one_time: false
            }
        );
        let info = store.tap_of(user.id).await.unwrap().unwrap();
        assert_eq!(
            (info.method_id, info.used, info.one_time),
            (new.method_id, false, false)
        );
        assert_eq!(
            (info.start, info.expires, info.created),
            (later, later + 8 * HOUR, later)
        );

        let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM taps")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(rows, 1);
    }

    #[tokio::test]
    async fn a_multi_use_pass_works_again_and_again() {
        let (_db, store, user) = testing::store_with_user("tap-multi").await;
        let now = testing::now();
        let tap = store
            .issue_tap(user.id, now, HOUR, false, now)
            .await
            .unwrap();
        let accepted = TapCheck::Accepted {
            method_id: tap.method_id,
            one_time: false,
        };
        assert_eq!(
            store.check_tap(user.id, &tap.pass, now).await.unwrap(),
            accepted
        );
        let later = now + Duration::MINUTE;
        assert_eq!(
            store.check_tap(user.id, &tap.pass, later).await.unwrap(),
            accepted
        );
        assert!(!store.tap_of(user.id).await.unwrap().unwrap().used);
        assert_eq!(
            store
                .check_tap(user.id, &tap.pass, now + HOUR)
                .await
                .unwrap(),
            TapCheck::Expired
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_sign_ins_with_one_one_time_pass_spend_it_exactly_once() {
        let (_db, store, user) = testing::store_with_user("tap-race").await;
        let now = testing::now();
        let tap = store
            .issue_tap(user.id, now, HOUR, true, now)
            .await
            .unwrap();

        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(8));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (store, barrier, pass) = (store.clone(), barrier.clone(), tap.pass.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    store.check_tap(user.id, &pass, now).await.unwrap()
                })
            })
            .collect();
        let mut outcomes = Vec::new();
        for task in tasks {
            outcomes.push(task.await.unwrap());
        }
        let accepted = TapCheck::Accepted {
            method_id: tap.method_id,
            one_time: true,
        };
        assert_eq!(
            outcomes.iter().filter(|o| **o == accepted).count(),
            1,
            "{outcomes:?}"
        );
        assert_eq!(
            outcomes.iter().filter(|o| **o == TapCheck::Used).count(),
            7,
            "{outcomes:?}"
        );
    }

    #[tokio::test]
    async fn issuing_for_an_unknown_user_or_backwards_fails() {
        let (_db, store, user) = testing::store_with_user("tap-bad").await;
        let now = testing::now();
        let unknown = store
            .issue_tap(uuid::Uuid::new_v4(), now, HOUR, true, now)
            .await;
        assert!(
            matches!(unknown, Err(StoreError::Database(_))),
            "{unknown:?}"
        );
        let backwards = store.issue_tap(user.id, now, -HOUR, true, now).await;
        assert!(
            matches!(backwards, Err(StoreError::Database(_))),
            "{backwards:?}"
        );
        assert_eq!(store.tap_of(user.id).await.unwrap(), None);
    }

    #[tokio::test]
    async fn failed_sign_ins_are_counted_per_user_within_a_window() {
        let (_db, store, ada) = testing::store_with_user("tap-failures").await;
        let now = testing::now();
        let grace = store
            .create_user("grace@example.com", "Grace", now)
            .await
            .unwrap();

        for minutes in [0, 1, 2, 10, 30] {
            store
                .record_failed_sign_in(ada.id, now + Duration::minutes(minutes))
                .await
                .unwrap();
        }
        store
            .record_failed_sign_in(grace.id, now + Duration::minutes(30))
            .await
            .unwrap();

        let count = |user, since| {
            let store = store.clone();
            async move { store.failed_sign_ins_since(user, since).await.unwrap() }
        };
        assert_eq!(count(ada.id, now - HOUR).await, 5);
        assert_eq!(count(ada.id, now).await, 5, "the window includes its start");
        assert_eq!(count(ada.id, now + Duration::nanoseconds(1)).await, 4);
        assert_eq!(count(ada.id, now + Duration::minutes(5)).await, 2);
        assert_eq!(count(ada.id, now + HOUR).await, 0);
        assert_eq!(count(grace.id, now - HOUR).await, 1);
        assert_eq!(count(uuid::Uuid::new_v4(), now - HOUR).await, 0);

        // A failure two days later prunes everything older than a day, for every user.
        store.record_failed_sign_in(ada.id, now + Duration::days(2)).await.unwrap();
        assert_eq!(count(ada.id, now - HOUR).await, 1);
        assert_eq!(count(grace.id, now - HOUR).await, 0);
    }

    /// Prints how long one argon2id hash and one verification take here
    /// (`cargo test -p tap2key-server argon2_timing -- --nocapture`). Asserts nothing on time.
    #[test]
    fn argon2_timing() {
        let pass = generate_pass();
        let started = Instant::now();
        let hash = hash_pass(&pass).unwrap();
        let hashed = started.elapsed();
        let started = Instant::now();
        assert!(verify_pass(&pass, &hash).unwrap());
        let verified = started.elapsed();
        assert!(!verify_pass("WRONGWRONG23", &hash).unwrap());
        println!(
            "argon2id m=19456 KiB t=2 p=1 ({} build): hash {hashed:?}, verify {verified:?}",
            if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            }
        );
    }

    #[test]
    fn corrupt_hashes_are_reported() {
        assert!(matches!(
            verify_pass("x", "not a hash"),
            Err(StoreError::Corrupt(_))
        ));
        let argon2i = "$argon2i$v=19$m=16,t=2,p=1$c29tZXNhbHQ$kXr2c9JxIEfgHsv6RUJHtg";
        assert!(matches!(
            verify_pass("x", argon2i),
            Err(StoreError::Corrupt(_))
        ));
    }
}
