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
    /// Broker mode: the user handle Entra's options gave this user. `None` in the demo
    /// directory (see [`User::handle`]).
    pub entra_handle: Option<Vec<u8>>,
}

impl User {
    /// The user handle their passkeys carry: Entra's, or the demo directory's own.
    pub fn handle(&self) -> Vec<u8> {
        self.entra_handle.clone().unwrap_or_else(|| crate::graph::user_handle(self.id))
    }
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
        entra_handle: row.try_get("user_handle")?,
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
            entra_handle: None,
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
        sqlx::query("SELECT id, upn, display_name, created, user_handle FROM users WHERE upn_lower = ?")
            .bind(upn_key(upn))
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(user_from_row)
            .transpose()
    }

    /// Broker mode: records the Entra user `id` (their object id) who is acting, so their
    /// ceremonies, passkeys and audit events have a row to belong to. The UPN and name
    /// are refreshed from the token each time. A UPN another object id held (Entra lets
    /// UPNs be renamed and reused) is taken over: the stale row keeps its object id as its
    /// UPN, so nothing of it is lost.
    pub async fn remember_user(
        &self,
        id: uuid::Uuid,
        upn: &str,
        display_name: &str,
        now: OffsetDateTime,
    ) -> StoreResult<User> {
        let mut transaction = self.pool.begin().await?;
        sqlx::query("UPDATE users SET upn = id, upn_lower = id WHERE upn_lower = ? AND id <> ?")
            .bind(upn_key(upn))
            .bind(encode_uuid(id))
            .execute(&mut *transaction)
            .await?;
        sqlx::query(
            "INSERT INTO users (id, upn, upn_lower, display_name, created) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET upn = excluded.upn, upn_lower = excluded.upn_lower,
                                            display_name = excluded.display_name",
        )
        .bind(encode_uuid(id))
        .bind(upn)
        .bind(upn_key(upn))
        .bind(display_name)
        .bind(encode_time(now)?)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        self.user_by_id(id).await?.ok_or_else(|| StoreError::Corrupt("a user just remembered".into()))
    }

    /// Broker mode: keeps the user handle Entra gave the user (it does not change).
    pub async fn set_entra_handle(&self, id: uuid::Uuid, handle: &[u8]) -> StoreResult<()> {
        sqlx::query("UPDATE users SET user_handle = ? WHERE id = ?").bind(handle).bind(encode_uuid(id)).execute(&self.pool).await?;
        Ok(())
    }

    pub async fn user_by_id(&self, id: uuid::Uuid) -> StoreResult<Option<User>> {
        sqlx::query("SELECT id, upn, display_name, created, user_handle FROM users WHERE id = ?")
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
    async fn remembered_users_follow_their_token() {
        let (_db, store, ada) = testing::store_with_user("users-remember").await;
        let (oid, later) = (uuid::Uuid::new_v4(), testing::now() + time::Duration::hours(1));
        let grace = store.remember_user(oid, "grace@example.com", "Grace", testing::now()).await.unwrap();
        assert_eq!((grace.id, grace.upn.as_str(), grace.created), (oid, "grace@example.com", testing::now()));
        // Renamed in the directory: same row, new name, created kept.
        let renamed = store.remember_user(oid, "grace.hopper@example.com", "Grace Hopper", later).await.unwrap();
        assert_eq!((renamed.upn.as_str(), renamed.display_name.as_str(), renamed.created), ("grace.hopper@example.com", "Grace Hopper", testing::now()));
        // Ada's old UPN reused by another object id: the newcomer gets it, Ada keeps her row.
        let newcomer = store.remember_user(uuid::Uuid::new_v4(), &ada.upn.to_uppercase(), "New", later).await.unwrap();
        assert_eq!(store.user_by_upn(&ada.upn).await.unwrap(), Some(newcomer));
        assert_eq!(store.user_by_id(ada.id).await.unwrap().unwrap().upn, ada.id.to_string());
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
