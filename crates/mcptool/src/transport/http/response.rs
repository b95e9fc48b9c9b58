//! What a response is: its media type, its body read within a bound, and a refusal turned
//! into an error (an expired session recognised).

use bytes::Bytes;
use http::StatusCode;
use http::header::{CONTENT_TYPE, HeaderMap};

use crate::error::{Error, ErrorKind};
use crate::protocol::RpcError;
use crate::transport::backend::Response;

/// How much of an error body we read to explain a failure.
pub(super) const ERROR_BODY_LIMIT: usize = 4096;

/// Turns a non-success status into an error, recognising an expired session: 404 on a
/// request that carried a session id, or the 400 "no valid session" variant some servers use.
pub(super) async fn status_error(response: Response, had_session: bool) -> Error {
    let status = response.status();
    let www = crate::auth::challenges(response.headers());
    if status == StatusCode::UNAUTHORIZED
        || (status == StatusCode::FORBIDDEN && crate::auth::is_insufficient_scope(&www))
    {
        let _ = read_limited(response, ERROR_BODY_LIMIT).await;
        return crate::auth::required_error(status.as_u16(), &www);
    }
    let body = read_limited(response, ERROR_BODY_LIMIT)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&body);
    if had_session
        && (status == StatusCode::NOT_FOUND
            || (status == StatusCode::BAD_REQUEST && text.to_ascii_lowercase().contains("session")))
    {
        return Error::session_expired(status.as_u16());
    }
    let snippet: String = text.chars().take(200).collect();
    let message = if snippet.trim().is_empty() {
        "server refused the request".to_owned()
    } else {
        format!("server refused the request: {}", snippet.trim())
    };
    let error = Error::new(ErrorKind::HttpStatus, message).with_status(status.as_u16());
    // A 2026-07-28 server says why in a JSON-RPC error (-32020, -32022...): keep it.
    match serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| serde_json::from_value::<RpcError>(v.get("error")?.clone()).ok())
    {
        Some(rpc) => error.with_rpc(rpc),
        None => error,
    }
}

/// The media type of a response's `Content-Type`, its parameters left out.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Media<'a> {
    Json,
    Sse,
    Absent,
    Other(&'a str),
}

pub(super) fn media_type(response: &Response) -> Media<'_> {
    media_type_of(response.headers())
}

fn media_type_of(headers: &HeaderMap) -> Media<'_> {
    let Some(value) = headers.get(CONTENT_TYPE) else {
        return Media::Absent;
    };
    // What servers almost always send, compared before any splitting.
    match value.as_bytes() {
        b"text/event-stream" => return Media::Sse,
        b"application/json" => return Media::Json,
        _ => {}
    }
    let Ok(value) = value.to_str() else {
        return Media::Other("(not text)");
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    if essence.eq_ignore_ascii_case("application/json") {
        Media::Json
    } else if essence.eq_ignore_ascii_case("text/event-stream") {
        Media::Sse
    } else if essence.is_empty() {
        Media::Absent
    } else {
        Media::Other(essence)
    }
}

/// Reads a whole body, refusing one larger than `limit`.
pub(crate) async fn read_limited(mut response: Response, limit: usize) -> Result<Bytes, Error> {
    if let Some(len) = response.content_length().filter(|len| *len > limit as u64) {
        return Err(Error::protocol(format!(
            "message of {len} bytes exceeds the limit of {limit} bytes"
        )));
    }
    let mut first: Option<Bytes> = None;
    let mut rest: Vec<u8> = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| Error::network("reading the response body failed").with_source(e))?
    {
        let total = first.as_ref().map_or(0, Bytes::len) + rest.len() + chunk.len();
        if total > limit {
            return Err(Error::protocol(format!(
                "message exceeds the limit of {limit} bytes"
            )));
        }
        match &first {
            None => first = Some(chunk),
            Some(f) => {
                if rest.is_empty() {
                    rest.extend_from_slice(f);
                }
                rest.extend_from_slice(&chunk);
            }
        }
    }
    Ok(if rest.is_empty() {
        first.unwrap_or_default()
    } else {
        Bytes::from(rest)
    })
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn reads_the_media_type_without_its_parameters() {
        let of = |value: &[u8]| {
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_TYPE, HeaderValue::from_bytes(value).expect("value"));
            format!("{:?}", media_type_of(&headers))
        };
        assert_eq!(of(b"text/event-stream"), "Sse");
        assert_eq!(of(b"Text/Event-Stream; charset=utf-8"), "Sse");
        assert_eq!(of(b"application/json"), "Json");
        assert_eq!(of(b" application/JSON ;charset=UTF-8"), "Json");
        assert_eq!(of(b"text/html"), r#"Other("text/html")"#);
        assert_eq!(of(b"; charset=utf-8"), "Absent");
        assert_eq!(of(b"text/\xFF"), r#"Other("(not text)")"#);
        assert_eq!(format!("{:?}", media_type_of(&HeaderMap::new())), "Absent");
    }
}
