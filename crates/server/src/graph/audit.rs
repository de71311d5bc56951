//! What the Graph-shaped API writes to the audit trail: registrations, test sign-ins and
//! deletions, successful or refused. Never a challenge, signature or key.

use crate::{
    app::AppState,
    store::{AuditAction, AuditEvent},
};

use super::target::Target;

/// Records one event. The answer to the caller does not depend on it: a trail that cannot
/// be written is logged, not turned into a failed registration.
pub async fn record(state: &AppState, target: &Target, action: AuditAction, outcome: &str, detail: String) {
    let event = AuditEvent {
        at: state.clock.now(),
        user: Some(target.user.id),
        upn: Some(target.user.upn.clone()),
        action,
        outcome: outcome.to_owned(),
        detail: format!("{detail}{}", target.actor_note()),
    };
    if let Err(error) = state.store.audit(&event).await {
        tracing::error!(%error, ?event, "the audit trail could not be written");
    }
}
