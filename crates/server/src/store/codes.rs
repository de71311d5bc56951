//! OAuth 2.0 authorization codes, stored under the SHA-256 of the code (never the code
//! itself) and good for one exchange.

use sqlx::Row;

use super::{
    OffsetDateTime, Store, StoreResult, decode_time, decode_uuid, encode_time, encode_uuid,
};

/// What an authorization code stands for, until the token endpoint takes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizationCode {
    pub user: uuid::Uuid,
    pub client_id: String,
    pub redirect_uri: String,
    /// The PKCE S256 challenge from the authorization request.
    pub code_challenge: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub auth_time: OffsetDateTime,
    pub expires: OffsetDateTime,
}

impl Store {
    /// Saves a code under its hash. An unknown user, or a hash already saved, is `Err(Database)`.
    pub async fn save_code(
        &self,
        code_hash: &[u8; 32],
        code: &AuthorizationCode,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO authorization_codes
                 (code_hash, user_id, client_id, redirect_uri, code_challenge, scope, nonce,
                  auth_time, expires)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&code_hash[..])
        .bind(encode_uuid(code.user))
        .bind(&code.client_id)
        .bind(&code.redirect_uri)
        .bind(&code.code_challenge)
        .bind(&code.scope)
        .bind(&code.nonce)
        .bind(encode_time(code.auth_time)?)
        .bind(encode_time(code.expires)?)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Takes the code: deletes it and returns it, in one statement, so of concurrent takers at
    /// most one gets it. `None` if it is unknown, already taken, or expired at `now`
    /// (`now >= expires`; an expired code is deleted all the same). Also sweeps away every
    /// other expired code.
    pub async fn take_code(
        &self,
        code_hash: &[u8; 32],
        now: OffsetDateTime,
    ) -> StoreResult<Option<AuthorizationCode>> {
        let now_text = encode_time(now)?;
        let taken = sqlx::query(
            "DELETE FROM authorization_codes WHERE code_hash = ?
             RETURNING user_id, client_id, redirect_uri, code_challenge, scope, nonce,
                       auth_time, expires",
        )
        .bind(&code_hash[..])
        .fetch_optional(&self.pool)
        .await?;
        sqlx::query("DELETE FROM authorization_codes WHERE expires <= ?")
            .bind(&now_text)
            .execute(&self.pool)
            .await?;

        let Some(row) = taken else { return Ok(None) };
        let code = AuthorizationCode {
            user: decode_uuid(row.try_get("user_id")?)?,
            client_id: row.try_get("client_id")?,
            redirect_uri: row.try_get("redirect_uri")?,
            code_challenge: row.try_get("code_challenge")?,
            scope: row.try_get("scope")?,
            nonce: row.try_get("nonce")?,
            auth_time: decode_time(row.try_get("auth_time")?)?,
            expires: decode_time(row.try_get("expires")?)?,
        };
        Ok((now < code.expires).then_some(code))
    }
}

#[cfg(test)]
mod tests {
    use time::Duration;

    use super::super::StoreError;
    use super::super::testing;
    use super::*;

    fn code_for(user: uuid::Uuid, nonce: Option<&str>) -> AuthorizationCode {
        let now = testing::now();
        AuthorizationCode {
            user,
            client_id: "tap2key".into(),
            redirect_uri: "http://127.0.0.1:4711/callback".into(),
            code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
            scope: "openid UserAuthenticationMethod.ReadWrite".into(),
            nonce: nonce.map(str::to_owned),
            auth_time: now,
            expires: now + Duration::MINUTE,
        }
    }

    #[tokio::test]
    async fn a_code_is_taken_once() {
        let (_db, store, user) = testing::store_with_user("codes-once").await;
        let now = testing::now();
        let (hash_a, hash_b) = ([1_u8; 32], [2_u8; 32]);
        let (a, b) = (
            code_for(user.id, Some("n-0S6_WzA2Mj")),
            code_for(user.id, None),
        );
        store.save_code(&hash_a, &a).await.unwrap();
        store.save_code(&hash_b, &b).await.unwrap();

        assert_eq!(
            store.take_code(&hash_a, now).await.unwrap(),
            Some(a.clone())
        );
        assert_eq!(
            store.take_code(&hash_a, now).await.unwrap(),
            None,
            "second take"
        );
        assert_eq!(
            store.take_code(&[3_u8; 32], now).await.unwrap(),
            None,
            "unknown"
        );
        assert_eq!(
            store.take_code(&hash_b, now).await.unwrap(),
            Some(b),
            "no nonce"
        );

        // The same hash can't be saved twice while the first is there.
        store.save_code(&hash_a, &a).await.unwrap();
        assert!(matches!(
            store.save_code(&hash_a, &a).await,
            Err(StoreError::Database(_))
        ));
    }

    #[tokio::test]
    async fn an_expired_code_is_none_and_gone() {
        let (_db, store, user) = testing::store_with_user("codes-expired").await;
        let code = code_for(user.id, None);
        let (hash, other) = ([7_u8; 32], [8_u8; 32]);
        store.save_code(&hash, &code).await.unwrap();
        store.save_code(&other, &code).await.unwrap();

        assert_eq!(
            store.take_code(&hash, code.expires).await.unwrap(),
            None,
            "expired at expiry"
        );
        assert_eq!(
            store.take_code(&hash, testing::now()).await.unwrap(),
            None,
            "deleted"
        );
        // The sweep took the other expired code too.
        let left: i64 = sqlx::query_scalar("SELECT count(*) FROM authorization_codes")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(left, 0);

        store.save_code(&hash, &code).await.unwrap();
        let just_in_time = code.expires - Duration::nanoseconds(1);
        assert_eq!(
            store.take_code(&hash, just_in_time).await.unwrap(),
            Some(code)
        );
    }

    #[tokio::test]
    async fn a_code_for_an_unknown_user_is_refused() {
        let (_db, store, _user) = testing::store_with_user("codes-fk").await;
        let saved = store
            .save_code(&[9_u8; 32], &code_for(uuid::Uuid::new_v4(), None))
            .await;
        assert!(matches!(saved, Err(StoreError::Database(_))), "{saved:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_takes_get_the_code_once() {
        let (_db, store, user) = testing::store_with_user("codes-race").await;
        let hash = [5_u8; 32];
        store
            .save_code(&hash, &code_for(user.id, None))
            .await
            .unwrap();
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move { store.take_code(&hash, testing::now()).await.unwrap() })
            })
            .collect();
        let mut taken = 0;
        for task in tasks {
            taken += usize::from(task.await.unwrap().is_some());
        }
        assert_eq!(taken, 1);
    }
}
