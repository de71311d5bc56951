//! Users: object id, UPN, display name. UPNs match case-insensitively: the table keeps the
//! UPN as given (for display) and a lower-cased copy under a UNIQUE constraint (for lookup).

use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::{
    OffsetDateTime, Store, StoreError, StoreResult, decode_time, decode_uuid, encode_time,
    encode_uuid, is_unique_violation,
};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub id: uuid::Uuid,
    pub upn: String,
    pub display_name: String,
    pub created: OffsetDateTime,
}

/// The form of a UPN that lookups and the uniqueness constraint use.
fn upn_key(upn: &str) -> String {
    upn.to_lowercase()
}

fn user_from_row(row: &SqliteRow) -> StoreResult<User> {
    Ok(User {
        id: decode_uuid(row.try_get("id")?)?,
        upn: row.try_get("upn")?,
        display_name: row.try_get("display_name")?,
        created: decode_time(row.try_get("created")?)?,
    })
}

impl Store {
    /// Creates a user with a fresh object id. `Err(UserExists)` if the UPN is taken, in any case.
    pub async fn create_user(
        &self,
        upn: &str,
        display_name: &str,
        now: OffsetDateTime,
    ) -> StoreResult<User> {
        let user = User {
            id: uuid::Uuid::new_v4(),
            upn: upn.to_owned(),
            display_name: display_name.to_owned(),
            created: now,
        };
        let inserted = sqlx::query(
            "INSERT INTO users (id, upn, upn_lower, display_name, created)
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(encode_uuid(user.id))
        .bind(&user.upn)
        .bind(upn_key(upn))
        .bind(&user.display_name)
        .bind(encode_time(now)?)
        .execute(&self.pool)
        .await;
        match inserted {
            Ok(_) => Ok(user),
            Err(e) if is_unique_violation(&e, "users.upn_lower") => Err(StoreError::UserExists),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn user_by_upn(&self, upn: &str) -> StoreResult<Option<User>> {
        sqlx::query("SELECT id, upn, display_name, created FROM users WHERE upn_lower = ?")
            .bind(upn_key(upn))
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(user_from_row)
            .transpose()
    }

    pub async fn user_by_id(&self, id: uuid::Uuid) -> StoreResult<Option<User>> {
        sqlx::query("SELECT id, upn, display_name, created FROM users WHERE id = ?")
            .bind(encode_uuid(id))
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(user_from_row)
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{self, TempDb};
    use super::*;

    #[tokio::test]
    async fn create_and_look_up_users() {
        let db = TempDb::new("users");
        let store = Store::open(db.path()).await.unwrap();
        let now = testing::now();

        let ada = store
            .create_user("Ada.Lovelace@Example.com", "Ada Lovelace", now)
            .await
            .unwrap();
        assert_eq!(ada.upn, "Ada.Lovelace@Example.com");
        assert_eq!(ada.display_name, "Ada Lovelace");
        assert_eq!(ada.created, now);

        // Any case finds her; the UPN keeps the case it was created with.
        for upn in [
            "ada.lovelace@example.com",
            "ADA.LOVELACE@EXAMPLE.COM",
            "Ada.Lovelace@Example.com",
        ] {
            assert_eq!(
                store.user_by_upn(upn).await.unwrap().as_ref(),
                Some(&ada),
                "{upn}"
            );
        }
        assert_eq!(store.user_by_id(ada.id).await.unwrap(), Some(ada.clone()));
        assert_eq!(store.user_by_upn("grace@example.com").await.unwrap(), None);
        assert_eq!(store.user_by_id(uuid::Uuid::new_v4()).await.unwrap(), None);

        // Non-ASCII letters fold too (SQLite's own lower() would not).
        let eve = store
            .create_user("ÉVE@example.com", "Ève", now)
            .await
            .unwrap();
        assert_eq!(
            store.user_by_upn("éve@EXAMPLE.com").await.unwrap(),
            Some(eve)
        );
    }

    #[tokio::test]
    async fn duplicate_upn_in_any_case_is_user_exists() {
        let (_db, store, ada) = testing::store_with_user("users-dup").await;
        let again = store
            .create_user("ada.lovelace@EXAMPLE.com", "Another Ada", testing::now())
            .await;
        assert!(matches!(again, Err(StoreError::UserExists)), "{again:?}");
        // The first one is untouched.
        assert_eq!(store.user_by_upn(&ada.upn).await.unwrap(), Some(ada));
    }
}
