//! GraphQL subscriptions over WebSocket at `/graphql/ws` (the `graphql-transport-ws`
//! protocol; the older `graphql-ws` one is also understood). The token comes in the
//! `connection_init` payload (`{"Authorization": "Bearer …"}`) or in the upgrade
//! request's `Authorization` header.

use async_graphql::Data;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::ws::{CloseFrame, Message, close_code};
use axum::extract::{State, WebSocketUpgrade};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use futures_util::{SinkExt, StreamExt};

use super::state::AppState;
use crate::domain::auth::Caller;
use crate::store::tokens::authenticate;

/// The token a `connection_init` payload carries, under any usual key.
fn payload_token(payload: &serde_json::Value) -> Option<String> {
    let object = payload.as_object()?;
    ["Authorization", "authorization"]
        .iter()
        .find_map(|key| {
            object
                .get(*key)?
                .as_str()
                .and_then(super::auth::bearer_token)
                .map(str::to_owned)
        })
        .or_else(|| {
            object
                .get("token")
                .and_then(|t| t.as_str())
                .map(str::to_owned)
        })
}

async fn caller_for(state: &AppState, token: Option<String>) -> async_graphql::Result<Caller> {
    let Some(token) = token else {
        return if state.anonymous_reads {
            Ok(Caller::Anonymous)
        } else {
            Err(async_graphql::Error::new(
                "authentication required: send {\"Authorization\": \"Bearer <token>\"} in connection_init",
            ))
        };
    };
    match authenticate(&state.db, &token, Utc::now().fixed_offset()).await {
        Ok(Ok(caller)) => Ok(caller),
        Ok(Err(refusal)) => Err(async_graphql::Error::new(refusal.message())),
        Err(error) => {
            tracing::error!(error = %crate::store::error_chain(&error), "cannot check a token");
            Err(async_graphql::Error::new(
                "the token cannot be checked right now; retry shortly",
            ))
        }
    }
}

pub async fn subscribe(
    State(state): State<AppState>,
    headers: HeaderMap,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let header_token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(super::auth::bearer_token)
        .map(str::to_owned);
    let schema = state.schema.clone();
    upgrade
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| async move {
            let _open = OpenSubscription::new();
            let shutdown = state.shutdown.clone();
            let (mut sink, stream) = socket.split();
            // On shutdown the client's side is cut, which ends the session; then the
            // client is told to go elsewhere with a close frame (1001, going away).
            let stream = stream.take_until(shutdown.clone().started());
            GraphQLWebSocket::new_with_pair(&mut sink, stream, schema, protocol)
                .on_connection_init(move |payload| async move {
                    let token = payload_token(&payload).or(header_token);
                    let caller = caller_for(&state, token).await?;
                    let mut data = Data::default();
                    data.insert(caller);
                    Ok(data)
                })
                .serve()
                .await;
            if shutdown.is_started() {
                let close = Message::Close(Some(CloseFrame {
                    code: close_code::AWAY,
                    reason: "the server is shutting down; reconnect".into(),
                }));
                // The client may be gone already; nothing more to do then.
                let _ = sink.send(close).await;
            }
        })
        .into_response()
}

/// Counts an open subscription connection in the metrics while it lives.
struct OpenSubscription;

impl OpenSubscription {
    fn new() -> Self {
        metrics::gauge!("khcn_hub_subscriptions_open").increment(1.0);
        Self
    }
}

impl Drop for OpenSubscription {
    fn drop(&mut self) {
        metrics::gauge!("khcn_hub_subscriptions_open").decrement(1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_found_in_the_usual_places() {
        let payload = serde_json::json!({"Authorization": "Bearer khcn_abc"});
        assert_eq!(payload_token(&payload).as_deref(), Some("khcn_abc"));
        let payload = serde_json::json!({"token": "khcn_def"});
        assert_eq!(payload_token(&payload).as_deref(), Some("khcn_def"));
        assert_eq!(payload_token(&serde_json::json!({})), None);
    }
}
