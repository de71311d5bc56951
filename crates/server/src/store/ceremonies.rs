//! WebAuthn ceremonies under way (registration options handed out, test sign-ins begun),
//! stored under the SHA-256 of their challenge and good for one finish.

use sqlx::Row;

use super::{
    OffsetDateTime, Store, StoreError, StoreResult, decode_time, decode_uuid,
    encode_time, encode_uuid,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CeremonyKind {
    Registration,
    Authentication,
}

impl CeremonyKind {
    fn as_str(self) -> &'static str {
        match self {
            CeremonyKind::Registration => "registration",
            CeremonyKind::Authentication => "authentication",
        }
    }

    fn parse(text: &str) -> StoreResult<CeremonyKind> {
        match text {
            "registration" => Ok(CeremonyKind::Registration),
            "authentication" => Ok(CeremonyKind::Authentication),
            other => Err(StoreError::Corrupt(format!("ceremony kind {other:?}"))),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ceremony {
    pub user: uuid::Uuid,
    pub kind: CeremonyKind,
    /// The verifier's serialized ceremony state, opaque here.
    pub state_json: String,
    /// The authentication method the ceremony is about, if any.
    pub method_id: Option<String>,
    pub expires: OffsetDateTime,
}

impl Store {
    /// Saves a ceremony under its challenge's hash. An unknown user, or a hash already saved,
    /// is `Err(Database)`.
    pub async fn save_ceremony(
        &self,
        challenge_hash: &[u8; 32],
        ceremony: &Ceremony,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO ceremonies (challenge_hash, user_id, kind, state_json, method_id, expires)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&challenge_hash[..])
        .bind(encode_uuid(ceremony.user))
        .bind(ceremony.kind.as_str())
        .bind(&ceremony.state_json)
        .bind(ceremony.method_id.as_deref())
        .bind(encode_time(ceremony.expires)?)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Takes the ceremony: deletes it and returns it, in one statement, if it is this user's
    /// and of this kind, so of concurrent finishers at most one gets it. `None` for a replay,
    /// an unknown challenge, another user's or another kind's ceremony (which is left in
    /// place for its owner), or one expired at `now` (`now >= expires`; deleted all the same).
    /// Also sweeps away every other expired ceremony.
    pub async fn take_ceremony(
        &self,
        challenge_hash: &[u8; 32],
        user: uuid::Uuid,
        kind: CeremonyKind,
        now: OffsetDateTime,
    ) -> StoreResult<Option<Ceremony>> {
        let now_text = encode_time(now)?;
        let taken = sqlx::query(
            "DELETE FROM ceremonies WHERE challenge_hash = ? AND user_id = ? AND kind = ?
             RETURNING user_id, kind, state_json, method_id, expires",
        )
        .bind(&challenge_hash[..])
        .bind(encode_uuid(user))
        .bind(kind.as_str())
        .fetch_optional(&self.pool)
        .await?;
        sqlx::query("DELETE FROM ceremonies WHERE expires <= ?")
            .bind(&now_text)
            .execute(&self.pool)
            .await?;

        let Some(row) = taken else { return Ok(None) };
        let ceremony = Ceremony {
            user: decode_uuid(row.try_get("user_id")?)?,
            kind: CeremonyKind::parse(row.try_get("kind")?)?,
            state_json: row.try_get("state_json")?,
            method_id: row.try_get("method_id")?,
            expires: decode_time(row.try_get("expires")?)?,
        };
        Ok((now < ceremony.expires).then_some(ceremony))
    }
}

#[cfg(test)]
mod tests {
    use time::Duration;

    use super::super::testing;
    use super::*;

    fn ceremony(user: uuid::Uuid, kind: CeremonyKind, method_id: Option<String>) -> Ceremony {
        Ceremony {
            user,
            kind,
            state_json: r#"{"challenge":"opaque"}"#.into(),
            method_id,
            expires: testing::now() + 5 * Duration::MINUTE,
        }
    }

    #[tokio::test]
    async fn a_ceremony_is_taken_once_by_its_user_for_its_kind() {
        let (_db, store, ada) = testing::store_with_user("ceremonies").await;
        let now = testing::now();
        let grace = store
            .create_user("grace@example.com", "Grace", now)
            .await
            .unwrap();
        let registration = ceremony(ada.id, CeremonyKind::Registration, None);
        let test_sign_in = ceremony(
            ada.id,
            CeremonyKind::Authentication,
            Some(uuid::Uuid::new_v4().to_string()),
        );
        let (reg_hash, auth_hash) = ([1_u8; 32], [2_u8; 32]);
        store.save_ceremony(&reg_hash, &registration).await.unwrap();
        store
            .save_ceremony(&auth_hash, &test_sign_in)
            .await
            .unwrap();

        // Another user's or another kind's take gets nothing and leaves it.
        let take = |hash: [u8; 32], user, kind| {
            let store = store.clone();
            async move { store.take_ceremony(&hash, user, kind, now).await.unwrap() }
        };
        assert_eq!(
            take(reg_hash, grace.id, CeremonyKind::Registration).await,
            None,
            "wrong user"
        );
        assert_eq!(
            take(reg_hash, ada.id, CeremonyKind::Authentication).await,
            None,
            "wrong kind"
        );
        assert_eq!(
            take([3; 32], ada.id, CeremonyKind::Registration).await,
            None,
            "unknown"
        );

        assert_eq!(
            take(reg_hash, ada.id, CeremonyKind::Registration).await,
            Some(registration)
        );
        assert_eq!(
            take(reg_hash, ada.id, CeremonyKind::Registration).await,
            None,
            "replay"
        );
        assert_eq!(
            take(auth_hash, ada.id, CeremonyKind::Authentication).await,
            Some(test_sign_in)
        );
        assert_eq!(
            take(auth_hash, ada.id, CeremonyKind::Authentication).await,
            None,
            "replay"
        );
    }

    #[tokio::test]
    async fn an_expired_ceremony_is_none_and_gone() {
        let (_db, store, ada) = testing::store_with_user("ceremonies-expired").await;
        let c = ceremony(ada.id, CeremonyKind::Registration, None);
        let (hash, other) = ([4_u8; 32], [5_u8; 32]);
        store.save_ceremony(&hash, &c).await.unwrap();
        store.save_ceremony(&other, &c).await.unwrap();

        let kind = CeremonyKind::Registration;
        assert_eq!(
            store
                .take_ceremony(&hash, ada.id, kind, c.expires)
                .await
                .unwrap(),
            None
        );
        let before = testing::now();
        assert_eq!(
            store
                .take_ceremony(&hash, ada.id, kind, before)
                .await
                .unwrap(),
            None,
            "deleted"
        );
        assert_eq!(
            store
                .take_ceremony(&other, ada.id, kind, before)
                .await
                .unwrap(),
            None,
            "swept"
        );

        store.save_ceremony(&hash, &c).await.unwrap();
        let just_in_time = c.expires - Duration::nanoseconds(1);
        assert_eq!(
            store
                .take_ceremony(&hash, ada.id, kind, just_in_time)
                .await
                .unwrap(),
            Some(c)
        );
    }

    #[tokio::test]
    async fn a_ceremony_needs_a_known_user() {
        let (_db, store, _ada) = testing::store_with_user("ceremonies-fk").await;
        let orphan = ceremony(uuid::Uuid::new_v4(), CeremonyKind::Registration, None);
        let saved = store.save_ceremony(&[6_u8; 32], &orphan).await;
        assert!(matches!(saved, Err(StoreError::Database(_))), "{saved:?}");
    }
}
