use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

/// Ids of the requests we send: a counter per client, never reused.
pub(crate) type RequestId = u64;

/// A JSON-RPC error object as the server sent it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RpcError {
    /// The JSON-RPC error code (e.g. -32601 method not found).
    pub code: i64,
    /// The server's message.
    pub message: String,
    /// Extra data the server attached, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl RpcError {
    pub(crate) fn method_not_found(method: &str) -> RpcError {
        RpcError {
            code: -32601,
            message: format!("method not found: {method}"),
            data: None,
        }
    }
}

#[derive(Serialize)]
struct OutNotification<'a, P: ?Sized> {
    jsonrpc: &'static str,
    method: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    params: Option<&'a P>,
}

#[derive(Serialize)]
struct OutResponse<'a> {
    jsonrpc: &'static str,
    id: &'a Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a RpcError>,
}

/// Serialises a request straight to bytes. The envelope's keys are constants, written as
/// they are; the id, method and params go through serde_json.
pub(crate) fn encode_request<P: Serialize + ?Sized>(
    id: RequestId,
    method: &str,
    params: Option<&P>,
) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(128);
    out.extend_from_slice(br#"{"jsonrpc":"2.0","id":"#);
    serde_json::to_writer(&mut out, &id)?;
    out.extend_from_slice(br#","method":"#);
    serde_json::to_writer(&mut out, method)?;
    if let Some(params) = params {
        out.extend_from_slice(br#","params":"#);
        serde_json::to_writer(&mut out, params)?;
    }
    out.push(b'}');
    Ok(out)
}

/// Serialises a notification straight to bytes.
pub(crate) fn encode_notification<P: Serialize + ?Sized>(
    method: &str,
    params: Option<&P>,
) -> serde_json::Result<Vec<u8>> {
    serde_json::to_vec(&OutNotification {
        jsonrpc: "2.0",
        method,
        params,
    })
}

/// Serialises our answer to a server→client request.
pub(crate) fn encode_response(
    id: &Value,
    result: Result<&Value, &RpcError>,
) -> serde_json::Result<Vec<u8>> {
    let (result, error) = match result {
        Ok(v) => (Some(v), None),
        Err(e) => (None, Some(e)),
    };
    serde_json::to_vec(&OutResponse {
        jsonrpc: "2.0",
        id,
        result,
        error,
    })
}

const NEITHER: &str = "message has neither method, result nor error";

/// A message as sent, its result raw, or (on a request's own stream) already of the caller's
/// type.
#[derive(Deserialize)]
struct RawIncoming<R = Box<RawValue>> {
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    params: Option<Value>,
    // Missing, it is `None` all the same (a `default` would ask `R: Default`).
    result: Option<R>,
    #[serde(default)]
    error: Option<RpcError>,
}

/// A message on a request's own stream: its answer, or anything else.
#[derive(Debug)]
pub(crate) enum Own<R> {
    /// The answer to the request, its result decoded.
    Answer(Result<R, RpcError>),
    /// A notification, a server request, or a response to another request.
    Other(Incoming),
}

/// One message from the server, classified.
#[derive(Debug)]
pub(crate) enum Incoming {
    /// A response to one of our requests. `id` is `None` when the server sent `null` or an id
    /// that is not one of ours (some servers answer errors with `"id": "server-error"`).
    Response {
        id: Option<RequestId>,
        outcome: Result<Box<RawValue>, RpcError>,
    },
    /// A request from the server, to be answered with the same id.
    Request {
        id: Value,
        method: String,
        params: Option<Value>,
    },
    /// A notification from the server.
    Notification {
        method: String,
        params: Option<Value>,
    },
}

impl Incoming {
    /// Parses one JSON-RPC message. Batches are split by [`Incoming::parse_many`].
    pub(crate) fn parse(bytes: &[u8]) -> Result<Incoming, String> {
        let raw: RawIncoming = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        Incoming::classify(raw)
    }

    /// Parses one JSON-RPC message from text already known to be UTF-8 (an SSE event's
    /// data), without checking it again.
    pub(crate) fn parse_text(text: &str) -> Result<Incoming, String> {
        let raw: RawIncoming = serde_json::from_str(text).map_err(|e| e.to_string())?;
        Incoming::classify(raw)
    }

    /// Parses a message on the stream of request `own`: its answer is decoded straight into
    /// `R`. Anything else, and an answer whose result is not an `R` (reported later, when the
    /// raw result fails to decode), is read as an [`Incoming`].
    pub(crate) fn parse_own<R: DeserializeOwned>(
        text: &str,
        own: RequestId,
    ) -> Result<Own<R>, String> {
        if let Ok(typed) = serde_json::from_str::<RawIncoming<R>>(text) {
            match (typed.method, typed.id) {
                (None, Some(id)) if id.as_u64() == Some(own) => {
                    return match (typed.result, typed.error) {
                        (_, Some(error)) => Ok(Own::Answer(Err(error))),
                        (Some(result), None) => Ok(Own::Answer(Ok(result))),
                        (None, None) => Err(NEITHER.to_owned()),
                    };
                }
                (Some(method), id) => {
                    return Incoming::classify(RawIncoming {
                        id,
                        method: Some(method),
                        params: typed.params,
                        result: None,
                        error: None,
                    })
                    .map(Own::Other);
                }
                // Another request's answer: read again, its result raw.
                (None, _) => {}
            }
        }
        Incoming::parse_text(text).map(Own::Other)
    }

    /// Parses a body that holds one message or (2025-03-26) a batch of them.
    pub(crate) fn parse_many(bytes: &[u8]) -> Result<Vec<Incoming>, String> {
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        if first == Some(&b'[') {
            let raws: Vec<RawIncoming> =
                serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
            raws.into_iter().map(Incoming::classify).collect()
        } else {
            Incoming::parse(bytes).map(|m| vec![m])
        }
    }

    fn classify(raw: RawIncoming) -> Result<Incoming, String> {
        match (raw.method, raw.id) {
            (Some(method), Some(id)) if !id.is_null() => Ok(Incoming::Request {
                id,
                method,
                params: raw.params,
            }),
            (Some(method), _) => Ok(Incoming::Notification {
                method,
                params: raw.params,
            }),
            (None, id) => {
                let id = id.as_ref().and_then(Value::as_u64);
                let outcome = match (raw.result, raw.error) {
                    (_, Some(error)) => Err(error),
                    (Some(result), None) => Ok(result),
                    (None, None) => return Err(NEITHER.to_owned()),
                };
                Ok(Incoming::Response { id, outcome })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_each_kind_of_message() {
        let r = Incoming::parse(br#"{"jsonrpc":"2.0","id":7,"result":{"a":1}}"#).expect("parse");
        assert!(
            matches!(r, Incoming::Response { id: Some(7), outcome: Ok(ref v) } if v.get() == r#"{"a":1}"#)
        );
        let e = Incoming::parse(
            br#"{"jsonrpc":"2.0","id":"server-error","error":{"code":-32600,"message":"x"}}"#,
        )
        .expect("parse");
        assert!(
            matches!(e, Incoming::Response { id: None, outcome: Err(ref err) } if err.code == -32600)
        );
        let q = Incoming::parse(br#"{"jsonrpc":"2.0","id":"a","method":"ping"}"#).expect("parse");
        assert!(matches!(q, Incoming::Request { ref method, .. } if method == "ping"));
        let n =
            Incoming::parse(br#"{"jsonrpc":"2.0","method":"notifications/message","params":{}}"#)
                .expect("parse");
        assert!(matches!(n, Incoming::Notification { .. }));
        assert!(Incoming::parse(br#"{"jsonrpc":"2.0","id":1}"#).is_err());
        assert!(Incoming::parse(b"not json").is_err());
        assert_eq!(
            Incoming::parse_many(br#" [{"id":1,"result":{}},{"id":2,"result":{}}]"#)
                .expect("batch")
                .len(),
            2
        );
    }

    #[test]
    fn reads_a_requests_own_answer_in_its_type_and_anything_else_as_it_is() {
        #[derive(Debug, Deserialize, PartialEq)]
        struct Echo {
            text: String,
        }
        let own = |text: &str| Incoming::parse_own::<Echo>(text, 7);
        let ok = own(r#"{"result":{"text":"hi"},"jsonrpc":"2.0","id":7}"#).expect("answer");
        assert!(
            matches!(ok, Own::Answer(Ok(ref e)) if e.text == "hi"),
            "{ok:?}"
        );
        let err = own(r#"{"jsonrpc":"2.0","id":7,"error":{"code":-32602,"message":"bad"}}"#)
            .expect("error answer");
        assert!(
            matches!(err, Own::Answer(Err(ref e)) if e.code == -32602),
            "{err:?}"
        );
        // Our answer, but not an Echo: read raw, for the caller's decoding to report.
        let odd = own(r#"{"jsonrpc":"2.0","id":7,"result":{"text":5}}"#).expect("raw");
        assert!(
            matches!(odd, Own::Other(Incoming::Response { id: Some(7), outcome: Ok(ref r) }) if r.get() == r#"{"text":5}"#),
            "{odd:?}"
        );
        // Another request's answer keeps its raw result.
        let other = own(r#"{"jsonrpc":"2.0","id":8,"result":{"text":"x"}}"#).expect("other");
        assert!(
            matches!(other, Own::Other(Incoming::Response { id: Some(8), .. })),
            "{other:?}"
        );
        let note =
            own(r#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}}"#)
                .expect("notification");
        assert!(
            matches!(note, Own::Other(Incoming::Notification { ref method, params: Some(_) }) if method == "notifications/progress"),
            "{note:?}"
        );
        let ask = own(r#"{"jsonrpc":"2.0","id":"s1","method":"ping"}"#).expect("request");
        assert!(
            matches!(ask, Own::Other(Incoming::Request { ref method, .. }) if method == "ping"),
            "{ask:?}"
        );
        assert!(own(r#"{"jsonrpc":"2.0","id":7}"#).is_err());
        assert!(own(r#"{"jsonrpc":"2.0","id":7,"result":"#).is_err());
    }

    #[test]
    fn encodes_requests_without_intermediate_values() {
        let bytes = encode_request(3, "tools/list", Some(&serde_json::json!({"cursor":"c"})))
            .expect("encode");
        assert_eq!(
            std::str::from_utf8(&bytes).expect("utf8"),
            r#"{"jsonrpc":"2.0","id":3,"method":"tools/list","params":{"cursor":"c"}}"#
        );
        let bytes = encode_request::<()>(u64::MAX, "a\"b", None).expect("encode");
        let parsed: Value = serde_json::from_slice(&bytes).expect("valid JSON");
        assert_eq!(
            parsed,
            serde_json::json!({"jsonrpc": "2.0", "id": u64::MAX, "method": "a\"b"})
        );
        let bytes = encode_notification::<()>("notifications/initialized", None).expect("encode");
        assert_eq!(
            std::str::from_utf8(&bytes).expect("utf8"),
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#
        );
    }
}
