//! The change feed over `graphql-transport-ws` at `/graphql/ws`: each committed change
//! reaches every subscriber allowed to read it, once.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::TestApp;

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The recordChanged selection the tests ask for.
pub const OCOP_CHANGES: &str = "subscription($after: String) { recordChanged(kinds: [OCOP_PRODUCT], after: $after) { sequence operation recordId version actor record { ... on OcopProduct { name } } } }";

/// Opens `graphql-transport-ws` at `base` (`http://…`) and sends `connection_init`.
pub async fn connect(base: &str, init: Value) -> Socket {
    let url = format!("{base}/graphql/ws").replace("http://", "ws://");
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut socket, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        "graphql-transport-ws"
    );
    send(
        &mut socket,
        json!({"type": "connection_init", "payload": init}),
    )
    .await;
    socket
}

pub async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::Text(message.to_string().into()))
        .await
        .unwrap();
}

/// The next protocol message, or `None` when nothing arrives within `wait`.
pub async fn next(socket: &mut Socket, wait: Duration) -> Option<Value> {
    loop {
        let message = tokio::time::timeout(wait, socket.next())
            .await
            .ok()??
            .ok()?;
        match message {
            Message::Text(text) => {
                let value: Value = serde_json::from_str(&text).unwrap();
                if value["type"] == "ping" {
                    send(socket, json!({"type": "pong"})).await;
                    continue;
                }
                return Some(value);
            }
            Message::Close(frame) => {
                return Some(json!({"type": "close", "code": frame.map(|f| u16::from(f.code))}));
            }
            _ => continue,
        }
    }
}

async fn subscribe(app: &TestApp, token: Option<&str>) -> Socket {
    subscribe_at(&app.address, token, OCOP_CHANGES, json!({})).await
}

/// Connects to `base` as `token` and sends one subscription, `query` with `variables`.
pub async fn subscribe_at(
    base: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> Socket {
    let init = match token {
        Some(token) => json!({"Authorization": format!("Bearer {token}")}),
        None => json!({}),
    };
    let mut socket = connect(base, init).await;
    let ack = next(&mut socket, Duration::from_secs(10)).await.unwrap();
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    send(
        &mut socket,
        json!({"id": "1", "type": "subscribe", "payload": { "query": query, "variables": variables }}),
    )
    .await;
    socket
}

/// The `extensions.code` of the error a subscription ended with (sent as `error`, or as
/// `next` with errors).
pub fn subscription_error_code(message: &Value) -> String {
    let error = match message["type"].as_str() {
        Some("error") => &message["payload"][0],
        Some("next") => &message["payload"]["errors"][0],
        _ => panic!("not an error: {message}"),
    };
    error["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The next change a subscriber receives.
pub async fn change(socket: &mut Socket) -> Value {
    let message = next(socket, Duration::from_secs(10))
        .await
        .expect("a change arrives");
    assert_eq!(message["type"], "next", "{message}");
    message["payload"]["data"]["recordChanged"].clone()
}

backend_test! {
    async fn subscribers_receive_each_change_they_may_read_once(app) {
        let khcn = app.token("agency", Some("so-khcn")).await;
        let cong_thuong = app.token("agency", Some("so-cong-thuong")).await;
        let analyst = app.token("analyst", None).await;

        let mut analyst_feed = subscribe(&app, Some(&analyst)).await;
        let mut agency_feed = subscribe(&app, Some(&cong_thuong)).await;
        let mut public_feed = subscribe(&app, None).await;
        // Let the server register the three subscriptions.
        tokio::time::sleep(Duration::from_millis(500)).await;

        let create = "mutation($input: OcopProductInput!) { createOcopProduct(input: $input) { id } }";
        let (_, body) = app.as_caller(Some(&khcn), create, json!({"input": {"name": "Sen Tháp Mười", "stars": 4}})).await;
        let first = body["data"]["createOcopProduct"]["id"].as_str().unwrap().to_owned();
        for feed in [&mut analyst_feed, &mut agency_feed, &mut public_feed] {
            let event = change(feed).await;
            assert_eq!(event["operation"], "CREATED");
            assert_eq!(event["recordId"], first.as_str());
            assert_eq!(event["version"], 1);
            assert_eq!(event["record"]["name"], "Sen Tháp Mười");
            assert!(event["actor"].as_str().unwrap().starts_with("agency:so-khcn"));
        }

        // A change to another kind is not asked for; an archived record is private.
        app.as_caller(
            Some(&khcn),
            "mutation { createIpRight(input: {name: \"Sen\", kind: \"TRADEMARK\", jurisdiction: \"VN\"}) { id } }",
            json!({}),
        ).await;
        let archive = "mutation($id: ID!) { archiveOcopProduct(id: $id, expectedVersion: 1) { id } }";
        let (_, body) = app.as_caller(Some(&khcn), archive, json!({"id": first})).await;
        assert!(body.get("errors").is_none(), "{body}");
        let event = change(&mut analyst_feed).await;
        assert_eq!(event["operation"], "ARCHIVED");
        assert_eq!(event["recordId"], first.as_str());

        let (_, body) = app.as_caller(Some(&khcn), create, json!({"input": {"name": "Xoài Cao Lãnh", "stars": 5}})).await;
        let second = body["data"]["createOcopProduct"]["id"].as_str().unwrap().to_owned();
        for feed in [&mut analyst_feed, &mut agency_feed, &mut public_feed] {
            let event = change(feed).await;
            assert_eq!(event["operation"], "CREATED", "{event}");
            assert_eq!(event["recordId"], second.as_str(), "skipped the private archive");
        }
        // Once: nothing more follows.
        for feed in [&mut analyst_feed, &mut agency_feed, &mut public_feed] {
            assert_eq!(next(feed, Duration::from_millis(300)).await, None);
        }
    }
}

backend_test! {
    async fn a_bad_token_gets_no_subscription(app) {
        let mut socket = connect(&app.address, json!({"Authorization": "Bearer khcn_not-a-token"})).await;
        let reply = next(&mut socket, Duration::from_secs(10)).await;
        let reply = reply.unwrap_or(json!({"type": "closed"}));
        assert_ne!(reply["type"], "connection_ack", "{reply}");
    }
}

backend_test! {
    async fn a_subscriber_resumes_after_the_last_change_it_saw(app) {
        let khcn = app.token("agency", Some("so-khcn")).await;
        let create = "mutation($name: String!) { createOcopProduct(input: {name: $name, stars: 3}) { id } }";
        let mut feed = subscribe(&app, None).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        app.as_caller(Some(&khcn), create, json!({"name": "Trước"})).await;
        let seen = change(&mut feed).await;
        let last_seen = seen["sequence"].as_str().unwrap().to_owned();
        drop(feed);

        // Missed while away: five products, and an IP right the subscriber did not ask for.
        let mut missed = Vec::new();
        for i in 0..5 {
            let name = format!("Bỏ lỡ {i}");
            let (_, body) = app.as_caller(Some(&khcn), create, json!({"name": name})).await;
            missed.push(body["data"]["createOcopProduct"]["id"].as_str().unwrap().to_owned());
            if i == 2 {
                app.as_caller(Some(&khcn), "mutation { createIpRight(input: {name: \"Sen\", kind: \"TRADEMARK\", jurisdiction: \"VN\"}) { id } }", json!({})).await;
            }
        }
        let mut resumed = subscribe_at(&app.address, None, OCOP_CHANGES, json!({"after": last_seen})).await;
        let mut previous: i64 = last_seen.parse().unwrap();
        for id in &missed {
            let event = change(&mut resumed).await;
            assert_eq!(event["recordId"], id.as_str(), "in commit order: {event}");
            let sequence: i64 = event["sequence"].as_str().unwrap().parse().unwrap();
            assert!(sequence > previous, "{sequence} after {previous}");
            previous = sequence;
        }
        // Then on, live.
        let (_, body) = app.as_caller(Some(&khcn), create, json!({"name": "Sau"})).await;
        let live = change(&mut resumed).await;
        assert_eq!(live["recordId"], body["data"]["createOcopProduct"]["id"]);
        assert_eq!(next(&mut resumed, Duration::from_millis(300)).await, None, "each once");

        // A sequence that is not one, or one the log has not reached, is refused.
        for after in ["abc", "99999999"] {
            let mut refused = subscribe_at(&app.address, None, OCOP_CHANGES, json!({"after": after})).await;
            let reply = next(&mut refused, Duration::from_secs(10)).await.unwrap();
            assert_eq!(subscription_error_code(&reply), "BAD_USER_INPUT", "{reply}");
        }

        // Once the log no longer keeps what followed, resuming says so instead of
        // skipping it.
        let db = khcn_hub::db::connect(&app.database_url()).await.unwrap();
        let later = chrono::Utc::now().fixed_offset() + chrono::Duration::seconds(1);
        let removed = khcn_hub::store::changes::prune(&db, later).await.unwrap();
        assert!(removed >= 7, "{removed}");
        let mut expired = subscribe_at(&app.address, None, OCOP_CHANGES, json!({"after": last_seen})).await;
        let reply = next(&mut expired, Duration::from_secs(10)).await.unwrap();
        assert_eq!(subscription_error_code(&reply), "CHANGES_EXPIRED", "{reply}");
    }
}
