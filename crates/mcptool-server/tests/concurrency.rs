//! Many sessions at once keep their own ids, event ids and data.

mod support;

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::json;
use support::{TestServer, request, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_sessions_at_once_do_not_cross_talk() {
    run(async {
        let t = Arc::new(TestServer::default().await);
        let mut tasks = Vec::new();
        for n in 0..200u32 {
            let t = Arc::clone(&t);
            tasks.push(tokio::spawn(async move {
                let s = t.session().await;
                let who = t.call_tool(&s, "whoami", json!({})).await;
                assert_eq!(who["structuredContent"]["session_id"], s.id.as_str());
                let message = format!("payload {n}");
                let reply = t
                    .post(
                        Some(&s),
                        &request(
                            9,
                            "tools/call",
                            json!({"name": "echo", "arguments": {"message": message}}),
                        ),
                    )
                    .await;
                assert_eq!(
                    reply.response()["result"]["content"][0]["text"],
                    message.as_str()
                );
                let ids: Vec<String> = reply.events().into_iter().filter_map(|e| e.id).collect();
                // initialize was stream 1, whoami stream 2, echo stream 3 of this session.
                assert_eq!(ids, vec!["3-0".to_owned(), "3-1".to_owned()]);
                s.id
            }));
        }
        let mut ids = HashSet::new();
        for task in tasks {
            ids.insert(task.await.expect("session task"));
        }
        assert_eq!(ids.len(), 200);
        let snap = t.snapshot();
        assert_eq!(snap.sessions_opened, 200);
        assert_eq!(snap.sessions_live, 200);
        assert!(
            ids.iter()
                .all(|id| snap.requests_per_session.get(id) == Some(&4)),
            "init, initialized, whoami, echo"
        );
        let t = Arc::into_inner(t).expect("sole owner");
        t.finish().await;
    })
    .await;
}
