//! Multi-round-trip requests in 2026-07-28: `input_required` instead of server requests, the
//! retry with `inputResponses` and the signed `requestState`, two rounds, and every way a retry
//! can be wrong.

mod support;

use mcptool_server::{Era, ServerConfig};
use serde_json::{Value, json};
use support::{Reply, TestServer, all_capabilities, modern_request, next_modern_id, run};

/// Sends `method` with `params` (plus `extra` merged into params) and returns the response.
async fn send(t: &TestServer, method: &str, params: Value, extra: Value) -> Reply {
    let mut body = modern_request(next_modern_id(), method, params, all_capabilities());
    if let (Some(p), Some(extra)) = (body["params"].as_object_mut(), extra.as_object()) {
        p.extend(extra.clone());
    }
    Reply::read(t.modern_builder(&body).send().await.expect("POST")).await
}

fn ask_params() -> Value {
    json!({"name": "ask", "arguments": {"question": "Your name?"}})
}

/// The first round of `ask`: the input it needs and the state to echo.
async fn first_round(t: &TestServer) -> (Value, String) {
    let reply = send(t, "tools/call", ask_params(), json!({})).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let result = reply.response()["result"].clone();
    assert_eq!(result["resultType"], "input_required", "{result}");
    let state = result["requestState"]
        .as_str()
        .expect("requestState")
        .to_owned();
    (result, state)
}

fn accept(field: &str, value: &str) -> Value {
    json!({"action": "accept", "content": {field: value}})
}

#[tokio::test]
async fn an_elicitation_is_asked_for_then_answered_by_a_retry_with_a_new_id() {
    run(async {
        for era in [Era::Both, Era::Stateless] {
            let t = TestServer::start(ServerConfig::default().era(era)).await;
            let (result, state) = first_round(&t).await;
            let asked = &result["inputRequests"]["answer"];
            assert_eq!(asked["method"], "elicitation/create");
            assert_eq!(asked["params"]["mode"], "form");
            assert_eq!(asked["params"]["requestedSchema"]["required"], json!(["answer"]));
            assert!(result.get("ttlMs").is_none(), "an interim result carries no caching hints");
            let retry = send(
                &t,
                "tools/call",
                ask_params(),
                json!({"inputResponses": {"answer": accept("answer", "Ada")}, "requestState": state}),
            )
            .await;
            let final_result = retry.response()["result"].clone();
            assert_eq!(final_result["resultType"], "complete");
            assert_eq!(final_result["content"][0]["text"], "Ada");
            let snap = t.snapshot();
            assert_eq!((snap.mrtr_rounds, snap.mrtr_retries), (1, 1));
            assert_eq!(snap.client_responses, 0, "no server→client request was sent");
            t.finish().await;
        }
    })
    .await;
}

#[tokio::test]
async fn a_survey_takes_two_rounds_and_the_second_question_uses_the_first_answer() {
    run(async {
        let t = TestServer::default().await;
        let params = json!({"name": "survey", "arguments": {}});
        let first = send(&t, "tools/call", params.clone(), json!({})).await.response()["result"].clone();
        assert!(first["inputRequests"]["name"].is_object(), "{first}");
        let second = send(
            &t,
            "tools/call",
            params.clone(),
            json!({"inputResponses": {"name": accept("name", "Ada")}, "requestState": first["requestState"]}),
        )
        .await
        .response()["result"]
            .clone();
        assert_eq!(second["resultType"], "input_required");
        let question = second["inputRequests"]["colour"]["params"]["message"].as_str().unwrap_or("");
        assert!(question.contains("Ada"), "{question}");
        assert!(second["inputRequests"].get("name").is_none(), "the answered key is not asked again");
        let done = send(
            &t,
            "tools/call",
            params,
            json!({"inputResponses": {"colour": accept("colour", "teal")}, "requestState": second["requestState"]}),
        )
        .await
        .response()["result"]
            .clone();
        assert_eq!(done["structuredContent"], json!({"name": "Ada", "colour": "teal"}));
        assert_eq!(t.snapshot().mrtr_rounds, 2);
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn sampling_roots_and_a_prompt_use_the_same_rounds() {
    run(async {
        let t = TestServer::default().await;
        let cases = [
            ("tools/call", json!({"name": "sample", "arguments": {"prompt": "2+2?"}}), "completion",
             json!({"role": "assistant", "content": {"type": "text", "text": "4"}, "model": "m"}), "/content/0/text", "4"),
            ("tools/call", json!({"name": "roots", "arguments": {}}), "roots",
             json!({"roots": [{"uri": "file:///work"}]}), "/content/0/text", "[{\"uri\":\"file:///work\"}]"),
            ("prompts/get", json!({"name": "introduce", "arguments": {}}), "name",
             accept("name", "Ada"), "/messages/0/content/text", "Please introduce Ada."),
        ];
        for (method, params, key, answer, pointer, expected) in cases {
            let first = send(&t, method, params.clone(), json!({})).await.response()["result"].clone();
            assert!(first["inputRequests"][key].is_object(), "{method}: {first}");
            let done = send(
                &t,
                method,
                params,
                json!({"inputResponses": {key: answer}, "requestState": first["requestState"]}),
            )
            .await
            .response()["result"]
                .clone();
            assert_eq!(done.pointer(pointer).and_then(Value::as_str), Some(expected), "{done}");
        }
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn a_tampered_replayed_or_foreign_request_state_is_refused() {
    run(async {
        let t = TestServer::default().await;
        let (_, state) = first_round(&t).await;
        let answer = json!({"answer": accept("answer", "Ada")});
        let mut tampered = state.clone();
        let last = tampered.pop().expect("non-empty");
        tampered.push(if last == 'A' { 'B' } else { 'A' });
        let other_args = json!({"name": "ask", "arguments": {"question": "Something else?"}});
        let survey = json!({"name": "survey", "arguments": {}});
        let cases = [
            (ask_params(), tampered, "tampered"),
            (other_args, state.clone(), "another request"),
            (survey, state.clone(), "another request"),
        ];
        for (params, state, expected) in cases {
            let reply = send(
                &t,
                "tools/call",
                params,
                json!({"inputResponses": answer, "requestState": state}),
            )
            .await;
            assert_eq!(reply.status, 400, "{}", reply.body);
            let error = &reply.response()["error"];
            assert_eq!(error["code"], -32602);
            assert!(
                error["message"].as_str().unwrap_or("").contains(expected),
                "{error}"
            );
        }
        let used = send(
            &t,
            "tools/call",
            ask_params(),
            json!({"inputResponses": answer, "requestState": state}),
        )
        .await;
        assert_eq!(used.status, 200, "{}", used.body);
        let replayed = send(
            &t,
            "tools/call",
            ask_params(),
            json!({"inputResponses": answer, "requestState": state}),
        )
        .await;
        assert_eq!(replayed.status, 400);
        assert!(replayed.body.contains("replayed"), "{}", replayed.body);
        let other_caller = send(&t, "tools/call", ask_params(), json!({}))
            .await
            .response()["result"]["requestState"]
            .clone();
        let body = modern_request(
            next_modern_id(),
            "tools/call",
            {
                let mut p = ask_params();
                p["inputResponses"] = answer.clone();
                p["requestState"] = other_caller;
                p
            },
            all_capabilities(),
        );
        let stolen = Reply::read(
            t.modern_builder(&body)
                .header("authorization", "Bearer someone-else")
                .send()
                .await
                .expect("POST"),
        )
        .await;
        assert_eq!(
            stolen.status, 400,
            "a state belongs to its caller: {}",
            stolen.body
        );
        assert_eq!(t.snapshot().mrtr_rejected_states, 5);
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn input_responses_must_answer_what_was_asked() {
    run(async {
        let t = TestServer::default().await;
        let (_, state) = first_round(&t).await;
        let stray = send(
            &t,
            "tools/call",
            ask_params(),
            json!({"inputResponses": {"answer": accept("answer", "Ada"), "bonus": {}}, "requestState": state}),
        )
        .await;
        assert_eq!(stray.status, 400);
        assert!(stray.body.contains("never asked"), "{}", stray.body);
        // A retry that leaves the asked key out is asked again.
        let (_, state) = first_round(&t).await;
        let again = send(&t, "tools/call", ask_params(), json!({"inputResponses": {}, "requestState": state})).await;
        assert_eq!(again.response()["result"]["resultType"], "input_required");
        // An answer of the wrong shape is an error, not a guess.
        let (_, state) = first_round(&t).await;
        let bad = send(
            &t,
            "tools/call",
            ask_params(),
            json!({"inputResponses": {"answer": {"action": "maybe"}}, "requestState": state}),
        )
        .await;
        assert_eq!(bad.response()["error"]["code"], -32602, "{}", bad.body);
        // Responses without the state they answer, and MRTR fields on other methods.
        let orphan = send(&t, "tools/call", ask_params(), json!({"inputResponses": {"answer": accept("answer", "x")}})).await;
        assert_eq!(orphan.status, 400);
        let listed = send(&t, "tools/list", json!({}), json!({"inputResponses": {}})).await;
        assert_eq!(listed.status, 400);
        assert_eq!(listed.response()["error"]["code"], -32602);
        let declined = send(&t, "tools/call", ask_params(), json!({})).await.response()["result"]["requestState"].clone();
        let reply = send(&t, "tools/call", ask_params(), json!({"inputResponses": {"answer": {"action": "decline"}}, "requestState": declined})).await;
        assert_eq!(reply.response()["result"]["content"][0]["text"], "the user chose \"decline\"");
        t.finish().await;
    })
    .await;
}
