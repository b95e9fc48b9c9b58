//! Server→client requests (elicitation, sampling, roots) and their answers POSTed back.

mod support;

use mcptool_server::{ResponseMode, ServerConfig};
use serde_json::{Value, json};
use support::{SseStream, TestServer, request, run};

/// Calls `tool` over SSE, answers the server's one request with `answer`, returns (request, result).
async fn round_trip(
    t: &TestServer,
    s: &support::Session,
    tool: &str,
    args: Value,
    answer: Value,
) -> (Value, Value) {
    let call = request(
        s.next_id(),
        "tools/call",
        json!({"name": tool, "arguments": args}),
    );
    let mut stream = SseStream::new(t.post_builder(Some(s), &call).send().await.unwrap());
    let server_request = stream.next_message().await.expect("a server request");
    let id = server_request["id"].clone();
    let reply = t
        .post(
            Some(s),
            &json!({"jsonrpc": "2.0", "id": id, "result": answer}),
        )
        .await;
    assert_eq!(reply.status, 202);
    assert!(reply.body.is_empty());
    let response = stream.next_message().await.expect("the call's response");
    assert_eq!(response["id"], call["id"]);
    assert!(
        stream.next().await.is_none(),
        "the stream ends after the response"
    );
    (server_request, response["result"].clone())
}

#[tokio::test]
async fn elicitation_round_trip_on_the_call_stream() {
    run(async {
        let t = TestServer::default().await;
        let s = t.session().await;
        let answer = json!({"action": "accept", "content": {"answer": "blue"}});
        let (req, result) = round_trip(
            &t,
            &s,
            "ask",
            json!({"question": "Favourite colour?"}),
            answer,
        )
        .await;
        assert_eq!(req["method"], "elicitation/create");
        assert_eq!(req["params"]["message"], "Favourite colour?");
        assert_eq!(result["content"][0]["text"], "blue");
        assert_eq!(t.snapshot().client_responses, 1);
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn sampling_and_roots_round_trips() {
    run(async {
        let t = TestServer::default().await;
        let s = t.session().await;
        let answer =
            json!({"role": "assistant", "content": {"type": "text", "text": "42"}, "model": "m"});
        let (req, result) =
            round_trip(&t, &s, "sample", json!({"prompt": "meaning?"}), answer).await;
        assert_eq!(req["method"], "sampling/createMessage");
        assert_eq!(result["content"][0]["text"], "42");
        let answer = json!({"roots": [{"uri": "file:///tmp", "name": "tmp"}]});
        let (req, result) = round_trip(&t, &s, "roots", json!({}), answer).await;
        assert_eq!(req["method"], "roots/list");
        let roots: Value =
            serde_json::from_str(result["content"][0]["text"].as_str().unwrap()).unwrap();
        assert_eq!(roots[0]["uri"], "file:///tmp");
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn json_mode_sends_server_requests_on_the_get_stream() {
    run(async {
        let t = TestServer::start(ServerConfig::default().response_mode(ResponseMode::Json)).await;
        let s = t.session().await;
        let no_stream = t.call_tool(&s, "ask", json!({"question": "?"})).await;
        assert_eq!(no_stream["isError"], true, "no GET stream to ask on: {no_stream}");
        let mut get = SseStream::new(t.get_builder(&s).send().await.unwrap());
        get.next().await.unwrap();
        let call = request(7, "tools/call", json!({"name": "ask", "arguments": {"question": "Name?"}}));
        let pending = t.post_builder(Some(&s), &call).send();
        let answer = async {
            let req = get.next_message().await.unwrap();
            assert_eq!(req["method"], "elicitation/create");
            let body = json!({"jsonrpc": "2.0", "id": req["id"], "result": {"action": "accept", "content": {"answer": "Ada"}}});
            assert_eq!(t.post(Some(&s), &body).await.status, 202);
        };
        let (reply, ()) = tokio::join!(pending, answer);
        let reply = support::Reply::read(reply.unwrap()).await;
        assert_eq!(reply.header("content-type"), Some("application/json"));
        assert_eq!(reply.json()["result"]["content"][0]["text"], "Ada");
        t.finish().await;
    })
    .await;
}
