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

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn connect(app: &TestApp, init: Value) -> Socket {
    let url = format!("{}/graphql/ws", app.address.replace("http://", "ws://"));
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

async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::Text(message.to_string().into()))
        .await
        .unwrap();
}

/// The next protocol message, or `None` when nothing arrives within `wait`.
async fn next(socket: &mut Socket, wait: Duration) -> Option<Value> {
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
    let init = match token {
        Some(token) => json!({"Authorization": format!("Bearer {token}")}),
        None => json!({}),
    };
    let mut socket = connect(app, init).await;
    let ack = next(&mut socket, Duration::from_secs(10)).await.unwrap();
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    send(
        &mut socket,
        json!({"id": "1", "type": "subscribe", "payload": {
            "query": "subscription { recordChanged(kinds: [OCOP_PRODUCT]) { operation recordId version actor record { ... on OcopProduct { name } } } }"
        }}),
    )
    .await;
    socket
}

/// The next change a subscriber receives.
async fn change(socket: &mut Socket) -> Value {
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
        let mut socket = connect(&app, json!({"Authorization": "Bearer khcn_not-a-token"})).await;
        let reply = next(&mut socket, Duration::from_secs(10)).await;
        let reply = reply.unwrap_or(json!({"type": "closed"}));
        assert_ne!(reply["type"], "connection_ack", "{reply}");
    }
}
