//! Passkeys: the users' fido2 authentication methods. A credential id is registered once
//! across the whole directory (UNIQUE), as Entra does.

use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::{
    OffsetDateTime, Store, StoreError, StoreResult, decode_time, decode_u32, decode_uuid,
    encode_time, encode_uuid, is_unique_violation,
};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Passkey {
    /// Graph's `id` of the method: a UUID in the demo directory, an opaque string in Entra.
    pub method_id: String,
    pub user: uuid::Uuid,
    pub credential_id: Vec<u8>,
    /// The verifier's serialized credential (public key, counter, flags), opaque here.
    pub credential_json: String,
    pub aaguid: uuid::Uuid,
    pub model: String,
    pub display_name: String,
    pub attestation_level: String,
    pub created: OffsetDateTime,
    pub sign_count: u32,
}

fn passkey_from_row(row: &SqliteRow) -> StoreResult<Passkey> {
    Ok(Passkey {
        method_id: row.try_get("method_id")?,
        user: decode_uuid(row.try_get("user_id")?)?,
        credential_id: row.try_get("credential_id")?,
        credential_json: row.try_get("credential_json")?,
        aaguid: decode_uuid(row.try_get("aaguid")?)?,
        model: row.try_get("model")?,
        display_name: row.try_get("display_name")?,
        attestation_level: row.try_get("attestation_level")?,
        created: decode_time(row.try_get("created")?)?,
        sign_count: decode_u32(row.try_get("sign_count")?, "sign count")?,
    })
}

impl Store {
    /// Stores a new passkey. `Err(CredentialExists)` if its credential id is registered
    /// already (to anyone); `Err(Database)` for an unknown user or a method id in use.
    pub async fn add_passkey(&self, passkey: &Passkey) -> StoreResult<()> {
        let inserted = sqlx::query(
            "INSERT INTO passkeys
                 (method_id, user_id, credential_id, credential_json, aaguid, model,
                  display_name, attestation_level, created, sign_count)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&passkey.method_id)
        .bind(encode_uuid(passkey.user))
        .bind(&passkey.credential_id)
        .bind(&passkey.credential_json)
        .bind(encode_uuid(passkey.aaguid))
        .bind(&passkey.model)
        .bind(&passkey.display_name)
        .bind(&passkey.attestation_level)
        .bind(encode_time(passkey.created)?)
        .bind(i64::from(passkey.sign_count))
        .execute(&self.pool)
        .await;
        match inserted {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e, "passkeys.credential_id") => {
                Err(StoreError::CredentialExists)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The user's passkeys, oldest first.
    pub async fn passkeys(&self, user: uuid::Uuid) -> StoreResult<Vec<Passkey>> {
        sqlx::query(
            "SELECT method_id, user_id, credential_id, credential_json, aaguid, model,
                    display_name, attestation_level, created, sign_count
             FROM passkeys
             WHERE user_id = ? ORDER BY created, rowid",
        )
        .bind(encode_uuid(user))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(passkey_from_row)
        .collect()
    }

    /// One of the user's passkeys; `None` if there is no such method or it is someone else's.
    pub async fn passkey(
        &self,
        user: uuid::Uuid,
        method_id: &str,
    ) -> StoreResult<Option<Passkey>> {
        sqlx::query(
            "SELECT method_id, user_id, credential_id, credential_json, aaguid, model,
                    display_name, attestation_level, created, sign_count
             FROM passkeys
             WHERE user_id = ? AND method_id = ?",
        )
        .bind(encode_uuid(user))
        .bind(method_id)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(passkey_from_row)
        .transpose()
    }

    pub async fn passkey_by_credential_id(
        &self,
        credential_id: &[u8],
    ) -> StoreResult<Option<Passkey>> {
        sqlx::query(
            "SELECT method_id, user_id, credential_id, credential_json, aaguid, model,
                    display_name, attestation_level, created, sign_count
             FROM passkeys
             WHERE credential_id = ?",
        )
        .bind(credential_id)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(passkey_from_row)
        .transpose()
    }

    /// Deletes one of the user's passkeys; `false` if there was no such method for this user.
    pub async fn delete_passkey(
        &self,
        user: uuid::Uuid,
        method_id: &str,
    ) -> StoreResult<bool> {
        let deleted = sqlx::query("DELETE FROM passkeys WHERE user_id = ? AND method_id = ?")
            .bind(encode_uuid(user))
            .bind(method_id)
            .execute(&self.pool)
            .await?;
        Ok(deleted.rows_affected() == 1)
    }

    /// Records what a verified sign-in changed. A method deleted meanwhile is left deleted,
    /// and a counter never goes back (two sign-ins finishing together: the higher count
    /// stays); either way nothing changes and it is logged, not an error.
    pub async fn update_passkey_credential(
        &self,
        method_id: &str,
        credential_json: &str,
        sign_count: u32,
    ) -> StoreResult<()> {
        let updated = sqlx::query(
            "UPDATE passkeys SET credential_json = ?, sign_count = ? WHERE method_id = ? AND sign_count <= ?",
        )
        .bind(credential_json)
        .bind(i64::from(sign_count))
        .bind(method_id)
        .bind(i64::from(sign_count))
        .execute(&self.pool)
        .await?;
        if updated.rows_affected() == 0 {
            tracing::warn!(%method_id, "passkey not updated: gone, or its counter is already higher");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use time::Duration;

    use super::super::testing;
    use super::*;

    fn passkey(user: uuid::Uuid, credential_id: &[u8], created: OffsetDateTime) -> Passkey {
        Passkey {
            method_id: uuid::Uuid::new_v4().to_string(),
            user,
            credential_id: credential_id.to_vec(),
            credential_json: r#"{"cred":"opaque"}"#.into(),
            aaguid: uuid::Uuid::from_u128(0x2fc0579f_8113_47ea_b116_bb5a8db9202a),
            model: "YubiKey 5 Series with NFC".into(),
            display_name: "My key".into(),
            attestation_level: "attested".into(),
            created,
            sign_count: 0,
        }
    }

    #[tokio::test]
    async fn add_list_get_update_delete() {
        let (_db, store, ada) = testing::store_with_user("passkeys").await;
        let now = testing::now();
        let grace = store
            .create_user("grace@example.com", "Grace", now)
            .await
            .unwrap();

        // Added newest first; listed oldest first.
        let second = passkey(ada.id, &[2, 0, 0xff], now + Duration::MINUTE);
        let first = passkey(ada.id, &[1; 64], now);
        let graces = passkey(grace.id, b"grace", now);
        for p in [&second, &first, &graces] {
            store.add_passkey(p).await.unwrap();
        }
        assert_eq!(
            store.passkeys(ada.id).await.unwrap(),
            [first.clone(), second.clone()]
        );
        assert_eq!(
            store.passkeys(grace.id).await.unwrap(),
            std::slice::from_ref(&graces)
        );
        assert_eq!(store.passkeys(uuid::Uuid::new_v4()).await.unwrap(), []);

        assert_eq!(
            store.passkey(ada.id, &first.method_id).await.unwrap(),
            Some(first.clone())
        );
        assert_eq!(
            store.passkey(grace.id, &first.method_id).await.unwrap(),
            None,
            "not hers"
        );
        assert_eq!(
            store.passkey(ada.id, &uuid::Uuid::new_v4().to_string()).await.unwrap(),
            None
        );

        assert_eq!(
            store.passkey_by_credential_id(&[2, 0, 0xff]).await.unwrap(),
            Some(second.clone())
        );
        assert_eq!(store.passkey_by_credential_id(&[2, 0]).await.unwrap(), None);

        store
            .update_passkey_credential(&second.method_id, r#"{"cred":"newer"}"#, u32::MAX)
            .await
            .unwrap();
        let updated = store
            .passkey(ada.id, &second.method_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(updated.credential_json, r#"{"cred":"newer"}"#);
        assert_eq!(updated.sign_count, u32::MAX);
        assert_eq!(
            Passkey {
                credential_json: second.credential_json.clone(),
                sign_count: 0,
                ..updated
            },
            second
        );
        // Updating a method that is gone changes nothing and is no error.
        store
            .update_passkey_credential(&uuid::Uuid::new_v4().to_string(), "{}", 1)
            .await
            .unwrap();

        assert!(
            !store
                .delete_passkey(grace.id, &first.method_id)
                .await
                .unwrap(),
            "not hers"
        );
        assert!(store.delete_passkey(ada.id, &first.method_id).await.unwrap());
        assert!(
            !store.delete_passkey(ada.id, &first.method_id).await.unwrap(),
            "gone already"
        );
        assert_eq!(store.passkeys(ada.id).await.unwrap().len(), 1);
        assert_eq!(
            store.passkey_by_credential_id(&[1; 64]).await.unwrap(),
            None
        );
        // Once deleted, the credential can be registered again.
        store
            .add_passkey(&passkey(ada.id, &[1; 64], now))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_credential_id_is_registered_once() {
        let (_db, store, ada) = testing::store_with_user("passkeys-dup").await;
        let now = testing::now();
        let grace = store
            .create_user("grace@example.com", "Grace", now)
            .await
            .unwrap();
        store
            .add_passkey(&passkey(ada.id, b"credential", now))
            .await
            .unwrap();
        for user in [ada.id, grace.id] {
            let again = store.add_passkey(&passkey(user, b"credential", now)).await;
            assert!(
                matches!(again, Err(StoreError::CredentialExists)),
                "{again:?}"
            );
        }
        // A reused method id is another matter.
        let mut reused = passkey(ada.id, b"other", now);
        reused.method_id = store.passkeys(ada.id).await.unwrap()[0].method_id.clone();
        assert!(matches!(
            store.add_passkey(&reused).await,
            Err(StoreError::Database(_))
        ));
    }

    #[tokio::test]
    async fn a_passkey_needs_a_known_user() {
        let (_db, store, _ada) = testing::store_with_user("passkeys-fk").await;
        let orphan = passkey(uuid::Uuid::new_v4(), b"orphan", testing::now());
        let added = store.add_passkey(&orphan).await;
        assert!(matches!(added, Err(StoreError::Database(_))), "{added:?}");
        assert_eq!(
            store.passkey_by_credential_id(b"orphan").await.unwrap(),
            None
        );
    }
}
