//! SIGTERM to a running `khcn-hub serve`: `/readyz` turns 503 and new requests are
//! refused while the request in flight finishes, subscriptions get a close frame, and the
//! process exits 0.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::helpers::HubProcess;

#[tokio::test]
async fn sigterm_finishes_the_request_in_flight_and_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("hub.db").display());
    let mut server = HubProcess::start(
        &url,
        &[("KHCN_HUB_SHUTDOWN_TIMEOUT_SECS", "20")],
        &dir.path().join("hub.log"),
    )
    .await;
    let (base, port) = (server.base.clone(), server.port);
    let client = reqwest::Client::new();

    // A subscriber, to be told to go elsewhere.
    let mut request = format!("ws://127.0.0.1:{port}/graphql/ws")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    socket
        .send(Message::text(r#"{"type":"connection_init","payload":{}}"#))
        .await
        .unwrap();
    let ack = socket.next().await.unwrap().unwrap();
    assert!(ack.to_text().unwrap().contains("connection_ack"), "{ack:?}");
    socket
        .send(Message::text(
            r#"{"id":"1","type":"subscribe","payload":{"query":"subscription { recordChanged { operation } }"}}"#,
        ))
        .await
        .unwrap();

    // A slow request: headers and half of the body now, the rest after SIGTERM.
    let body = r#"{"query":"{ plans { code } }"}"#;
    let (first, rest) = body.split_at(body.len() / 2);
    let mut slow = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    slow.write_all(
        format!(
            "POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{first}",
            body.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    server.terminate();

    // Draining: not ready, new work refused, probes still answered.
    let mut draining = false;
    for _ in 0..50 {
        if server.readyz().await == Some(503) {
            draining = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(draining, "/readyz never said 503:\n{}", server.log());
    let refused = client
        .post(format!("{base}/graphql"))
        .json(&serde_json::json!({ "query": "{ plans { code } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.headers()["retry-after"], "1");
    let refused: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(refused["errors"][0]["extensions"]["code"], "SHUTTING_DOWN");

    // The subscriber is sent a close frame: 1001, going away.
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Close(frame))) => return frame,
                Some(Ok(_)) => continue,
                other => panic!("no close frame: {other:?}"),
            }
        }
    })
    .await
    .expect("the subscription was not closed");
    assert_eq!(u16::from(closed.unwrap().code), 1001);

    // The request in flight still gets its answer.
    slow.write_all(rest.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), slow.read_to_end(&mut answer))
        .await
        .expect("the request in flight was not answered")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("136/KH-UBND"), "{answer}");

    let status = tokio::time::timeout(Duration::from_secs(15), server.child.wait())
        .await
        .expect("the hub did not exit")
        .unwrap();
    assert!(
        status.success(),
        "exit status {status:?}:\n{}",
        server.log()
    );
    assert!(server.log().contains("shutting down"), "{}", server.log());
}
