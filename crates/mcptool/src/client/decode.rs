//! Reading a stateless result: its `resultType` first, then the caller's type, from the text
//! when nothing else needs the result as a `Value`.

use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::error::Error;

/// The `resultType` of a raw result, without decoding the rest.
pub(super) fn peek(method: &str, raw: &RawValue) -> Result<Option<Value>, Error> {
    #[derive(serde::Deserialize)]
    struct Kind {
        #[serde(rename = "resultType", default)]
        result_type: Option<Value>,
    }
    serde_json::from_str::<Kind>(raw.get())
        .map(|k| k.result_type)
        .map_err(|e| malformed(method, e))
}

/// The caller's type, read straight from the raw result.
pub(super) fn decode_raw<R: DeserializeOwned>(method: &str, raw: &RawValue) -> Result<R, Error> {
    serde_json::from_str(raw.get()).map_err(|e| malformed(method, e))
}

/// The caller's type, from a result already read as a `Value`.
pub(super) fn decode<R: DeserializeOwned>(method: &str, result: Value) -> Result<R, Error> {
    serde_json::from_value(result).map_err(|e| malformed(method, e))
}

fn malformed(method: &str, error: serde_json::Error) -> Error {
    Error::protocol(format!("the server's result for {method} is malformed")).with_source(error)
}
