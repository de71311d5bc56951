//! Listing and deleting methods in broker mode: Entra holds the truth, so both go to Graph;
//! a deletion also drops the public key kept for the test sign-in.

use axum::{
    Json,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use crate::{
    app::AppState,
    graph::{audit, target::Target},
    graph_error::GraphError,
    store::AuditAction,
};

use super::super::graph_client::UpstreamError;

pub async fn list(State(state): State<AppState>, target: Target) -> Result<Json<Value>, GraphError> {
    let broker = state.broker.clone().ok_or_else(GraphError::unavailable)?;
    let methods = broker.graph.list(target.user.id).await.map_err(|error| error.to_graph_error())?;
    Ok(Json(json!({ "@odata.context": target.odata_context(&state, ""), "value": methods })))
}

pub async fn get_one(State(state): State<AppState>, target: Target) -> Result<Json<Value>, GraphError> {
    let broker = state.broker.clone().ok_or_else(GraphError::unavailable)?;
    let id = target.method.clone().unwrap_or_default();
    let methods = broker.graph.list(target.user.id).await.map_err(|error| error.to_graph_error())?;
    let method = methods.into_iter().find(|m| m["id"].as_str() == Some(id.as_str())).ok_or_else(|| not_found(&id))?;
    Ok(Json(method))
}

pub async fn delete(State(state): State<AppState>, target: Target) -> Response {
    let Some(broker) = state.broker.clone() else { return GraphError::unavailable().into_response() };
    let id = target.method.clone().unwrap_or_default();
    let result = match broker.graph.delete(target.user.id, &id).await {
        Ok(()) => Ok(()),
        Err(UpstreamError::NotFound) => Err(not_found(&id)),
        Err(error) => Err(error.to_graph_error()),
    };
    // Gone from Entra (now or before): its kept key has nothing left to test.
    if matches!(&result, Ok(()) | Err(GraphError { status: StatusCode::NOT_FOUND, .. }))
        && let Err(error) = state.store.delete_passkey(target.user.id, &id).await
    {
        tracing::error!(%error, "a deleted method's kept public key could not be dropped");
    }
    match result {
        Ok(()) => {
            audit::record(&state, &target, AuditAction::Deletion, "success", format!("method {id}, in Entra")).await;
            StatusCode::NO_CONTENT.into_response()
        }
        Err(error) => {
            let reason = if error.status.is_server_error() { "unavailable" } else { "refused" };
            audit::record(&state, &target, AuditAction::Deletion, reason, format!("method {id}: {}", error.message)).await;
            error.into_response()
        }
    }
}

fn not_found(id: &str) -> GraphError {
    GraphError::not_found(format!("The fido2 authentication method '{id}' was not found for this user."))
}
