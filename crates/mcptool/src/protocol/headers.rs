//! The request headers of MCP 2026-07-28 that mirror the body: the value encoding of `Mcp-Name`
//! and `Mcp-Param-*` (the base64 sentinel), and the `x-mcp-header` annotations of a tool's
//! input schema that say which arguments travel in `Mcp-Param-*` headers.
//!
//! ```
//! use mcptool::protocol::headers::{ParamHeaders, encode_header_value};
//! use serde_json::json;
//!
//! assert_eq!(encode_header_value("us-west1"), "us-west1");
//! assert_eq!(encode_header_value("Hello, 世界"), "=?base64?SGVsbG8sIOS4lueVjA==?=");
//!
//! let schema = json!({"type": "object", "properties": {
//!     "region": {"type": "string", "x-mcp-header": "Region"},
//!     "query": {"type": "string"},
//! }});
//! let mirrored = ParamHeaders::from_schema(&schema).expect("valid annotations");
//! let headers = mirrored.headers(&json!({"region": "eu", "query": "SELECT 1"}));
//! assert_eq!(headers, [("Mcp-Param-Region".to_owned(), "eu".to_owned())]);
//! ```

use std::borrow::Cow;
use std::fmt;

use base64::Engine as _;
use serde_json::Value;

const SENTINEL_PREFIX: &str = "=?base64?";
const SENTINEL_SUFFIX: &str = "?=";
/// The largest integer a header may mirror: JavaScript's safe range, as the spec requires.
const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// Encodes a value for `Mcp-Name` or `Mcp-Param-*`: as it is when it is plain visible ASCII
/// without leading or trailing spaces, else as `=?base64?{base64 of its UTF-8}?=` (also a plain
/// value that itself looks like the sentinel).
pub fn encode_header_value(value: &str) -> Cow<'_, str> {
    let visible = value.bytes().all(|b| (0x20..=0x7e).contains(&b));
    let padded = value.starts_with(' ') || value.ends_with(' ');
    let looks_encoded = value.starts_with(SENTINEL_PREFIX) && value.ends_with(SENTINEL_SUFFIX);
    if visible && !padded && !looks_encoded {
        Cow::Borrowed(value)
    } else {
        let encoded = base64::engine::general_purpose::STANDARD.encode(value.as_bytes());
        Cow::Owned(format!("{SENTINEL_PREFIX}{encoded}{SENTINEL_SUFFIX}"))
    }
}

/// The type an annotated parameter has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    String,
    Integer,
    Boolean,
}

/// One annotated parameter: where it sits in the arguments and the header it travels in.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Mirrored {
    path: Vec<String>,
    header: String,
    kind: Kind,
}

/// The `Mcp-Param-*` headers a tool's calls carry, read from the `x-mcp-header` annotations of
/// its input schema.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParamHeaders {
    mirrored: Vec<Mirrored>,
}

/// Why a tool's `x-mcp-header` annotations are invalid (a client leaves such a tool out).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidAnnotation {
    path: String,
    reason: String,
}

impl fmt::Display for InvalidAnnotation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "x-mcp-header at {}: {}", self.path, self.reason)
    }
}

impl std::error::Error for InvalidAnnotation {}

impl ParamHeaders {
    /// Reads every annotation of `schema`. Invalid when one is empty, not an HTTP token, a
    /// case-insensitive duplicate, on a parameter that is not a string, an integer or a
    /// boolean, or not reachable from the root through `properties` alone.
    pub fn from_schema(schema: &Value) -> Result<ParamHeaders, InvalidAnnotation> {
        let mut mirrored = Vec::new();
        walk(schema, &mut Vec::new(), true, &mut mirrored)?;
        for (i, m) in mirrored.iter().enumerate() {
            if mirrored[..i]
                .iter()
                .any(|other| other.header.eq_ignore_ascii_case(&m.header))
            {
                return Err(invalid(&m.path, format!("{:?} is used twice", m.header)));
            }
        }
        Ok(ParamHeaders { mirrored })
    }

    /// Whether the tool mirrors no parameter.
    pub fn is_empty(&self) -> bool {
        self.mirrored.is_empty()
    }

    /// The headers for a call with `arguments`: `("Mcp-Param-{Name}", encoded value)` for each
    /// annotated parameter that has a value (absent and `null` ones are left out, as are values
    /// of another type than the schema's, which a server then rejects).
    pub fn headers(&self, arguments: &Value) -> Vec<(String, String)> {
        self.mirrored
            .iter()
            .filter_map(|m| {
                let value = m.path.iter().try_fold(arguments, |v, key| v.get(key))?;
                let text = match (m.kind, value) {
                    (Kind::String, Value::String(s)) => encode_header_value(s).into_owned(),
                    (Kind::Boolean, Value::Bool(b)) => b.to_string(),
                    (Kind::Integer, Value::Number(n)) => n
                        .as_i64()
                        .filter(|i| i.abs() <= MAX_SAFE_INTEGER)?
                        .to_string(),
                    _ => return None,
                };
                Some((format!("Mcp-Param-{}", m.header), text))
            })
            .collect()
    }
}

fn invalid(path: &[String], reason: String) -> InvalidAnnotation {
    let path = if path.is_empty() {
        "the schema root".to_owned()
    } else {
        path.join(".")
    };
    InvalidAnnotation { path, reason }
}

/// Walks `schema`; `reachable` says whether the path so far is a chain of `properties` keys.
fn walk(
    schema: &Value,
    path: &mut Vec<String>,
    reachable: bool,
    found: &mut Vec<Mirrored>,
) -> Result<(), InvalidAnnotation> {
    let Some(object) = schema.as_object() else {
        if let Some(items) = schema.as_array() {
            for item in items {
                walk(item, path, false, found)?;
            }
        }
        return Ok(());
    };
    if let Some(name) = object.get("x-mcp-header") {
        found.push(annotation(object, name, path, reachable)?);
    }
    for (key, value) in object {
        if key == "properties" {
            let Some(properties) = value.as_object() else {
                continue;
            };
            for (name, property) in properties {
                path.push(name.clone());
                walk(property, path, reachable, found)?;
                path.pop();
            }
        } else if value.is_object() || value.is_array() {
            // items, oneOf, $defs, if/then...: an annotation there is not statically reachable.
            walk(value, path, false, found)?;
        }
    }
    Ok(())
}

fn annotation(
    property: &serde_json::Map<String, Value>,
    name: &Value,
    path: &[String],
    reachable: bool,
) -> Result<Mirrored, InvalidAnnotation> {
    if !reachable || path.is_empty() {
        return Err(invalid(
            path,
            "not reachable from the root through properties alone".to_owned(),
        ));
    }
    let Some(name) = name.as_str().filter(|n| is_token(n)) else {
        return Err(invalid(path, format!("{name} is not an HTTP header token")));
    };
    let kind = match property.get("type").and_then(Value::as_str) {
        Some("string") => Kind::String,
        Some("integer") => Kind::Integer,
        Some("boolean") => Kind::Boolean,
        other => {
            return Err(invalid(
                path,
                format!(
                    "only string, integer and boolean parameters can be mirrored, not {}",
                    other.unwrap_or("an untyped one")
                ),
            ));
        }
    };
    Ok(Mirrored {
        path: path.to_vec(),
        header: name.to_owned(),
        kind,
    })
}

/// RFC 9110 `token`: one or more `tchar`.
fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_are_encoded_exactly_as_the_spec_table_shows() {
        let cases = [
            ("us-west1", "us-west1"),
            ("Hello, 世界", "=?base64?SGVsbG8sIOS4lueVjA==?="),
            (" padded ", "=?base64?IHBhZGRlZCA=?="),
            ("line1\nline2", "=?base64?bGluZTEKbGluZTI=?="),
            ("=?base64?literal?=", "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?="),
            ("tab\there", "=?base64?dGFiCWhlcmU=?="),
        ];
        for (value, expected) in cases {
            assert_eq!(encode_header_value(value), expected, "{value:?}");
        }
    }

    fn schema(properties: &Value) -> Value {
        json!({"type": "object", "properties": properties})
    }

    #[test]
    fn nested_parameters_are_mirrored_with_their_types() {
        let headers = ParamHeaders::from_schema(&schema(&json!({
            "region": {"type": "string", "x-mcp-header": "Region"},
            "priority": {"type": "integer", "x-mcp-header": "Priority"},
            "urgent": {"type": "boolean", "x-mcp-header": "Urgent"},
            "target": {"type": "object", "properties": {"zone": {"type": "string", "x-mcp-header": "Zone"}}},
        })))
        .expect("valid");
        let mut got = headers.headers(&json!({
            "region": "Hello, 世界", "priority": -7, "urgent": false, "target": {"zone": "b"},
        }));
        got.sort();
        assert_eq!(
            got,
            [
                ("Mcp-Param-Priority".to_owned(), "-7".to_owned()),
                (
                    "Mcp-Param-Region".to_owned(),
                    "=?base64?SGVsbG8sIOS4lueVjA==?=".to_owned()
                ),
                ("Mcp-Param-Urgent".to_owned(), "false".to_owned()),
                ("Mcp-Param-Zone".to_owned(), "b".to_owned()),
            ]
        );
        assert!(
            headers
                .headers(&json!({"region": null, "priority": 1e300}))
                .is_empty()
        );
        assert!(
            headers
                .headers(&json!({"priority": 9_007_199_254_740_993_i64}))
                .is_empty()
        );
    }

    #[test]
    fn every_invalid_annotation_is_refused_with_its_reason() {
        let cases = [
            (
                json!({"ratio": {"type": "number", "x-mcp-header": "Ratio"}}),
                "number",
            ),
            (
                json!({"a": {"type": "string", "x-mcp-header": ""}}),
                "token",
            ),
            (
                json!({"a": {"type": "string", "x-mcp-header": "Bad Name"}}),
                "token",
            ),
            (json!({"a": {"type": "string", "x-mcp-header": 5}}), "token"),
            (json!({"a": {"x-mcp-header": "A"}}), "untyped"),
            (
                json!({"a": {"type": "object", "x-mcp-header": "A"}}),
                "object",
            ),
            (
                json!({"a": {"type": "string", "x-mcp-header": "Dup"}, "b": {"type": "string", "x-mcp-header": "dup"}}),
                "twice",
            ),
            (
                json!({"list": {"type": "array", "items": {"type": "object", "properties": {"x": {"type": "string", "x-mcp-header": "X"}}}}}),
                "reachable",
            ),
            (
                json!({"choice": {"oneOf": [{"type": "string", "x-mcp-header": "C"}]}}),
                "reachable",
            ),
        ];
        for (properties, expected) in cases {
            let err = ParamHeaders::from_schema(&schema(&properties)).expect_err("invalid");
            let text = err.to_string();
            assert!(text.contains(expected), "{properties}: {text}");
        }
        let defs =
            json!({"type": "object", "$defs": {"x": {"type": "string", "x-mcp-header": "X"}}});
        assert!(ParamHeaders::from_schema(&defs).is_err());
    }

    #[test]
    fn a_schema_without_annotations_mirrors_nothing() {
        let none =
            ParamHeaders::from_schema(&schema(&json!({"q": {"type": "string"}}))).expect("valid");
        assert!(none.is_empty());
        assert!(none.headers(&json!({"q": "x"})).is_empty());
    }
}
