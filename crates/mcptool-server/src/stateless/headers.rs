//! The 2026-07-28 request headers: `MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name` and the
//! `Mcp-Param-*` headers mirrored from `x-mcp-header` tool parameters, each checked against the
//! body after decoding the base64 sentinel (`=?base64?...?=`).

use base64::Engine as _;
use http::HeaderMap;
use serde_json::Value;

use crate::wire::VERSION_HEADER;

const SENTINEL_PREFIX: &str = "=?base64?";
const SENTINEL_SUFFIX: &str = "?=";

/// A header that is missing, malformed or disagrees with the body.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Mismatch {
    /// The header's name in lower case.
    pub(super) header: String,
    pub(super) message: String,
}

impl Mismatch {
    fn new(header: &str, mut message: String) -> Self {
        message.insert_str(0, "Header mismatch: ");
        Self {
            header: header.to_ascii_lowercase(),
            message,
        }
    }
}

/// Checks every header the request must carry; `tool` is the called tool's definition.
pub(super) fn check(
    headers: &HeaderMap,
    method: &str,
    params: &Value,
    version: &str,
    tool: Option<&Value>,
) -> Result<(), Mismatch> {
    expect_plain(headers, VERSION_HEADER, "MCP-Protocol-Version", version)?;
    expect_plain(headers, "mcp-method", "Mcp-Method", method)?;
    let name_field = match method {
        "tools/call" | "prompts/get" => Some("name"),
        "resources/read" => Some("uri"),
        _ => None,
    };
    if let Some(field) = name_field {
        let body = params.get(field).and_then(Value::as_str).unwrap_or("");
        let Some(raw) = headers.get("mcp-name") else {
            return Err(Mismatch::new(
                "Mcp-Name",
                format!("the Mcp-Name header is required for {method}"),
            ));
        };
        let value = decode("Mcp-Name", raw)?;
        if value != body {
            return Err(Mismatch::new(
                "Mcp-Name",
                format!("Mcp-Name header value {value:?} does not match body value {body:?}"),
            ));
        }
    }
    if let (Some(tool), "tools/call") = (tool, method) {
        let arguments = params.get("arguments").unwrap_or(&Value::Null);
        for (path, name) in annotations(&tool["inputSchema"]) {
            check_param(headers, &name, lookup(arguments, &path))?;
        }
    }
    Ok(())
}

/// A header that must be present, plain, and equal to `expected`.
fn expect_plain(
    headers: &HeaderMap,
    key: &str,
    name: &str,
    expected: &str,
) -> Result<(), Mismatch> {
    let Some(raw) = headers.get(key) else {
        return Err(Mismatch::new(
            name,
            format!("the {name} header is required in 2026-07-28"),
        ));
    };
    let value = raw.to_str().map_err(|_| invalid(name))?;
    if value != expected {
        return Err(Mismatch::new(
            name,
            format!("{name} header value {value:?} does not match body value {expected:?}"),
        ));
    }
    Ok(())
}

fn invalid(name: &str) -> Mismatch {
    Mismatch::new(
        name,
        format!("the {name} header holds characters a header value may not carry"),
    )
}

/// A header value, decoded from the base64 sentinel when it uses it.
fn decode(name: &str, raw: &http::HeaderValue) -> Result<String, Mismatch> {
    let value = raw.to_str().map_err(|_| invalid(name))?;
    let Some(inner) = value
        .strip_prefix(SENTINEL_PREFIX)
        .and_then(|v| v.strip_suffix(SENTINEL_SUFFIX))
    else {
        return Ok(value.to_owned());
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(inner)
        .map_err(|_| {
            Mismatch::new(
                name,
                format!("the {name} header's base64 value does not decode"),
            )
        })?;
    String::from_utf8(bytes).map_err(|_| {
        Mismatch::new(
            name,
            format!("the {name} header's base64 value is not UTF-8"),
        )
    })
}

/// One mirrored parameter: present in the body ⇔ present in the header, and equal.
fn check_param(headers: &HeaderMap, name: &str, body: Option<&Value>) -> Result<(), Mismatch> {
    let header = format!("Mcp-Param-{name}");
    let raw = headers.get(header.as_str());
    let (raw, body) = match (raw, body) {
        (None, None) => return Ok(()),
        (Some(_), None) => {
            return Err(Mismatch::new(
                &header,
                format!("{header} is present but the argument it mirrors is absent or null"),
            ));
        }
        (None, Some(_)) => {
            return Err(Mismatch::new(
                &header,
                format!("{header} is required: the call carries the argument it mirrors"),
            ));
        }
        (Some(raw), Some(body)) => (raw, body),
    };
    let value = decode(&header, raw)?;
    let equal = match body {
        Value::String(s) => *s == value,
        Value::Bool(b) => value == if *b { "true" } else { "false" },
        Value::Number(n) => value
            .parse::<f64>()
            .is_ok_and(|h| n.as_f64().is_some_and(|b| b == h)),
        _ => false,
    };
    if equal {
        Ok(())
    } else {
        Err(Mismatch::new(
            &header,
            format!("{header} header value {value:?} does not match body value {body}"),
        ))
    }
}

/// The argument at `path`, unless absent or null.
fn lookup<'a>(arguments: &'a Value, path: &[String]) -> Option<&'a Value> {
    let value = path.iter().try_fold(arguments, |v, key| v.get(key))?;
    (!value.is_null()).then_some(value)
}

/// The valid `x-mcp-header` annotations of a schema: property path and header name. The server
/// never checks an annotation a client must reject (a `number`, an empty or non-token name).
pub(super) fn annotations(schema: &Value) -> Vec<(Vec<String>, String)> {
    let mut found = Vec::new();
    walk(schema, &mut Vec::new(), &mut found);
    found
}

fn walk(schema: &Value, path: &mut Vec<String>, found: &mut Vec<(Vec<String>, String)>) {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (key, property) in properties {
        path.push(key.clone());
        let kind = property.get("type").and_then(Value::as_str).unwrap_or("");
        if let Some(name) = property.get("x-mcp-header").and_then(Value::as_str) {
            let primitive = matches!(kind, "string" | "integer" | "boolean");
            if primitive && is_token(name) {
                found.push((path.clone(), name.to_owned()));
            }
        }
        walk(property, path, found);
        path.pop();
    }
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

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(
                http::HeaderName::from_bytes(k.as_bytes()).expect("name"),
                v.parse().expect("value"),
            );
        }
        map
    }

    fn route_tool() -> Value {
        json!({"name": "route", "inputSchema": {"type": "object", "properties": {
            "region": {"type": "string", "x-mcp-header": "Region"},
            "priority": {"type": "integer", "x-mcp-header": "Priority"},
            "urgent": {"type": "boolean", "x-mcp-header": "Urgent"},
            "ratio": {"type": "number", "x-mcp-header": "Ratio"},
            "target": {"type": "object", "properties": {"zone": {"type": "string", "x-mcp-header": "Zone"}}},
        }}})
    }

    const BASE: [(&str, &str); 3] = [
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "tools/call"),
        ("mcp-name", "route"),
    ];

    fn call(arguments: &Value, extra: &[(&str, &str)]) -> Result<(), Mismatch> {
        let mut pairs = BASE.to_vec();
        pairs.extend_from_slice(extra);
        let params = json!({"name": "route", "arguments": arguments});
        check(
            &headers(&pairs),
            "tools/call",
            &params,
            "2026-07-28",
            Some(&route_tool()),
        )
    }

    #[test]
    fn mirrored_parameters_match_after_decoding_and_numerically() {
        let args = json!({"region": "Hello, 世界", "priority": 42, "urgent": false, "target": {"zone": "b"}});
        let extra = [
            ("mcp-param-region", "=?base64?SGVsbG8sIOS4lueVjA==?="),
            ("mcp-param-priority", "42.0"),
            ("mcp-param-urgent", "false"),
            ("mcp-param-zone", "b"),
        ];
        assert_eq!(call(&args, &extra), Ok(()));
        assert_eq!(call(&json!({"region": null}), &[]), Ok(()));
    }

    #[test]
    fn each_kind_of_mismatch_names_its_header() {
        type Case<'a> = (Value, Vec<(&'a str, &'a str)>, &'a str);
        let cases: [Case<'_>; 5] = [
            (json!({"region": "eu"}), vec![], "mcp-param-region"),
            (
                json!({}),
                vec![("mcp-param-region", "eu")],
                "mcp-param-region",
            ),
            (
                json!({"priority": 7}),
                vec![("mcp-param-priority", "8")],
                "mcp-param-priority",
            ),
            (
                json!({"urgent": true}),
                vec![("mcp-param-urgent", "True")],
                "mcp-param-urgent",
            ),
            (
                json!({"region": "eu"}),
                vec![("mcp-param-region", "=?base64?!!?=")],
                "mcp-param-region",
            ),
        ];
        for (args, extra, header) in cases {
            let err = call(&args, &extra).expect_err("mismatch");
            assert_eq!(err.header, header, "{args}: {}", err.message);
        }
    }

    #[test]
    fn standard_headers_are_required_and_compared() {
        let params = json!({"name": "echo"});
        let check_with = |pairs: &[(&str, &str)]| {
            check(&headers(pairs), "tools/call", &params, "2026-07-28", None)
        };
        let missing_version = check_with(&[("mcp-method", "tools/call"), ("mcp-name", "echo")]);
        assert_eq!(
            missing_version.expect_err("missing").header,
            "mcp-protocol-version"
        );
        let wrong_method = check_with(&[
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/list"),
            ("mcp-name", "echo"),
        ]);
        assert_eq!(wrong_method.expect_err("method").header, "mcp-method");
        let encoded_name = check_with(&[
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-name", "=?base64?ZWNobw==?="),
        ]);
        assert_eq!(encoded_name, Ok(()));
    }

    #[test]
    fn only_valid_annotations_are_checked() {
        let found = annotations(&route_tool()["inputSchema"]);
        let mut names: Vec<&str> = found.iter().map(|(_, n)| n.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["Priority", "Region", "Urgent", "Zone"]);
        assert!(!is_token("") && !is_token("a b") && is_token("X-Trace_1"));
    }
}
