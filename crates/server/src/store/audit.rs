//! The audit trail: who did what, when, and how it went. It holds no secret: callers put no
//! pass, code, token or challenge in `outcome` or `detail`.

use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::{
    OffsetDateTime, Store, StoreError, StoreResult, decode_optional_uuid, decode_time, encode_time,
    encode_uuid,
};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuditAction {
    UserCreated,
    TapIssued,
    SignIn,
    Registration,
    TestSignIn,
    Deletion,
}

impl AuditAction {
    fn as_str(&self) -> &'static str {
        match self {
            AuditAction::UserCreated => "user_created",
            AuditAction::TapIssued => "tap_issued",
            AuditAction::SignIn => "sign_in",
            AuditAction::Registration => "registration",
            AuditAction::TestSignIn => "test_sign_in",
            AuditAction::Deletion => "deletion",
        }
    }

    fn parse(text: &str) -> StoreResult<AuditAction> {
        Ok(match text {
            "user_created" => AuditAction::UserCreated,
            "tap_issued" => AuditAction::TapIssued,
            "sign_in" => AuditAction::SignIn,
            "registration" => AuditAction::Registration,
            "test_sign_in" => AuditAction::TestSignIn,
            "deletion" => AuditAction::Deletion,
            other => return Err(StoreError::Corrupt(format!("audit action {other:?}"))),
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEvent {
    pub at: OffsetDateTime,
    /// The user it concerns, when known (a refusal for an unknown UPN has none).
    pub user: Option<uuid::Uuid>,
    pub upn: Option<String>,
    pub action: AuditAction,
    /// How it went, e.g. "success" or the refusal's reason.
    pub outcome: String,
    pub detail: String,
}

fn event_from_row(row: &SqliteRow) -> StoreResult<AuditEvent> {
    Ok(AuditEvent {
        at: decode_time(row.try_get("at")?)?,
        user: decode_optional_uuid(row.try_get("user_id")?)?,
        upn: row.try_get("upn")?,
        action: AuditAction::parse(row.try_get("action")?)?,
        outcome: row.try_get("outcome")?,
        detail: row.try_get("detail")?,
    })
}

impl Store {
    /// Appends an event. The user need not exist (refusals are recorded too).
    pub async fn audit(&self, event: &AuditEvent) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO audit_events (at, user_id, upn, action, outcome, detail)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(encode_time(event.at)?)
        .bind(event.user.map(encode_uuid))
        .bind(&event.upn)
        .bind(event.action.as_str())
        .bind(&event.outcome)
        .bind(&event.detail)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The latest `limit` events, newest first (events at the same time: last recorded
    /// first); only the user's if `user` is given.
    pub async fn audit_trail(
        &self,
        user: Option<uuid::Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<AuditEvent>> {
        let rows = match user {
            None => {
                sqlx::query(
                    "SELECT at, user_id, upn, action, outcome, detail FROM audit_events
                     ORDER BY at DESC, id DESC LIMIT ?",
                )
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?
            }
            Some(user) => {
                sqlx::query(
                    "SELECT at, user_id, upn, action, outcome, detail FROM audit_events
                     WHERE user_id = ?
                     ORDER BY at DESC, id DESC LIMIT ?",
                )
                .bind(encode_uuid(user))
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.iter().map(event_from_row).collect()
    }
}

#[cfg(test)]
mod tests {
    use time::Duration;

    use super::super::testing;
    use super::*;

    fn event(
        at: OffsetDateTime,
        user: Option<uuid::Uuid>,
        action: AuditAction,
        outcome: &str,
    ) -> AuditEvent {
        AuditEvent {
            at,
            user,
            upn: user.map(|_| "ada.lovelace@example.com".to_owned()),
            action,
            outcome: outcome.into(),
            detail: String::new(),
        }
    }

    #[tokio::test]
    async fn the_trail_is_newest_first_and_filters_by_user() {
        let (_db, store, ada) = testing::store_with_user("audit").await;
        let now = testing::now();
        let minute = Duration::MINUTE;
        let grace = uuid::Uuid::new_v4(); // need not be a user
        let events = [
            event(now, Some(ada.id), AuditAction::UserCreated, "success"),
            event(
                now + minute,
                Some(ada.id),
                AuditAction::TapIssued,
                "success",
            ),
            AuditEvent {
                upn: Some("nobody@example.com".into()),
                ..event(now + 2 * minute, None, AuditAction::SignIn, "unknown_user")
            },
            event(
                now + 3 * minute,
                Some(grace),
                AuditAction::SignIn,
                "wrong_pass",
            ),
            event(
                now + 4 * minute,
                Some(ada.id),
                AuditAction::SignIn,
                "success",
            ),
            AuditEvent {
                detail: "method 1234, YubiKey 5".into(),
                ..event(
                    now + 5 * minute,
                    Some(ada.id),
                    AuditAction::Registration,
                    "success",
                )
            },
            event(
                now + 5 * minute,
                Some(ada.id),
                AuditAction::TestSignIn,
                "success",
            ),
            event(
                now + 6 * minute,
                Some(ada.id),
                AuditAction::Deletion,
                "success",
            ),
        ];
        // Recorded out of order: the trail sorts by time, then by recording order
        // (5 and 6 happened at the same time; 6 was recorded last).
        for i in [3, 0, 5, 1, 6, 7, 2, 4] {
            store.audit(&events[i]).await.unwrap();
        }

        let all = store.audit_trail(None, 100).await.unwrap();
        let expected: Vec<_> = events.iter().rev().cloned().collect();
        assert_eq!(all, expected);

        let adas = store.audit_trail(Some(ada.id), 100).await.unwrap();
        let expected_adas: Vec<_> = expected
            .iter()
            .filter(|e| e.user == Some(ada.id))
            .cloned()
            .collect();
        assert_eq!(adas, expected_adas);
        assert_eq!(adas.len(), 6);

        assert_eq!(
            store.audit_trail(Some(ada.id), 2).await.unwrap(),
            expected_adas[..2]
        );
        assert_eq!(
            store.audit_trail(Some(grace), 100).await.unwrap(),
            [events[3].clone()]
        );
        assert_eq!(store.audit_trail(None, 0).await.unwrap(), []);
        assert_eq!(
            store
                .audit_trail(Some(uuid::Uuid::new_v4()), 10)
                .await
                .unwrap(),
            []
        );
    }
}
