//! The 2026-07-28 request headers, as a client can see a server honour them: requests that
//! carry `Mcp-Method` / `Mcp-Name` (one in the base64 sentinel) are answered, a name that
//! disagrees with the body is refused with `HeaderMismatch` (-32020), and an unsupported
//! version with -32022. Probes name tools no server has, so nothing runs.

use mcptool::protocol::headers::encode_header_value;
use mcptool::protocol::modern::{codes, meta_keys};
use serde_json::{Value, json};

use super::probe::{Raw, rpc_error_code};
use super::report::Finding;
use crate::connect::Settings;

const HONOURED: &str = "headers-honoured";
const VERSION: &str = "protocol-version-header";
const STATELESS: &str = "2026-07-28";

/// What one probe showed.
#[derive(Debug)]
enum Seen {
    Ok(String),
    Warn(String),
    Fail(String),
}

/// A 2026-07-28 request body: `params` with the `_meta` every request carries.
fn modern(method: &str, mut params: Value, version: &str) -> Value {
    params["_meta"] = json!({
        meta_keys::PROTOCOL_VERSION: version,
        meta_keys::CLIENT_CAPABILITIES: {},
        meta_keys::CLIENT_INFO: {"name": "mcptool-check", "version": env!("CARGO_PKG_VERSION")},
    });
    json!({"jsonrpc": "2.0", "id": "mcptool-check", "method": method, "params": params})
}

/// The status and JSON-RPC error code a raw POST got, or why it got none.
async fn send(
    raw: &Raw,
    body: &Value,
    headers: &[(&str, &str)],
) -> Result<(u16, Option<i64>), String> {
    let response = raw.post(body, headers).await?;
    let status = response.status().as_u16();
    Ok((status, rpc_error_code(&raw.body(response).await)))
}

/// `protocol-version-header` in 2026-07-28: an unsupported version gets 400 with -32022.
pub(crate) async fn version_header(raw: &Raw) -> Finding {
    let bogus = "1999-01-01";
    let body = modern("server/discover", json!({}), bogus);
    let headers = [
        ("MCP-Protocol-Version", bogus),
        ("Mcp-Method", "server/discover"),
    ];
    match send(raw, &body, &headers).await {
        Ok((400, Some(codes::UNSUPPORTED_PROTOCOL_VERSION))) => Finding::pass(
            VERSION,
            format!("{STATELESS} accepted; unsupported version {bogus} got 400 with -32022"),
        ),
        Ok((s, _)) if (200..300).contains(&s) => Finding::fail(
            VERSION,
            format!("server/discover with unsupported version {bogus} was answered ({s})"),
        ),
        Ok((s, code)) => Finding::warn(
            VERSION,
            format!("unsupported version {bogus} got {s} with error {code:?}, not 400 with -32022"),
        ),
        Err(e) => Finding::warn(
            VERSION,
            format!("the unsupported-version probe failed: {e}"),
        ),
    }
}

/// `headers-honoured`: `calls` tools/call requests of the lifecycles were answered (each with
/// `Mcp-Method` and `Mcp-Name`), then the sentinel and mismatch probes.
pub(crate) async fn honoured(settings: &Settings, url: &str, raw: &Raw, calls: usize) -> Finding {
    let mut seen = vec![if calls > 0 {
        Seen::Ok(format!(
            "{calls} tools/call requests with Mcp-Method and Mcp-Name answered"
        ))
    } else {
        Seen::Warn("no tool called through the client: the server has no echo-like tool".to_owned())
    }];
    if let Some(client_side) = sentinel_through_client(settings, url).await {
        seen.push(client_side);
    }
    seen.push(sentinel_probe(raw).await);
    seen.push(mismatch_probe(raw).await);
    verdict(&seen)
}

fn verdict(seen: &[Seen]) -> Finding {
    let pick = |want: fn(&Seen) -> Option<&String>| -> Vec<&str> {
        seen.iter().filter_map(want).map(String::as_str).collect()
    };
    let failed = pick(|s| if let Seen::Fail(d) = s { Some(d) } else { None });
    if !failed.is_empty() {
        return Finding::fail(HONOURED, failed.join("; "));
    }
    let warned = pick(|s| if let Seen::Warn(d) = s { Some(d) } else { None });
    let all: Vec<&str> = seen
        .iter()
        .map(|s| match s {
            Seen::Ok(d) | Seen::Warn(d) | Seen::Fail(d) => d.as_str(),
        })
        .collect();
    if warned.is_empty() {
        Finding::pass(HONOURED, all.join("; "))
    } else {
        Finding::warn(HONOURED, all.join("; "))
    }
}

/// A `tools/call` of a tool no server has, whose non-ASCII name travels in the sentinel: a
/// server that decodes it gets past the header check to "unknown tool".
async fn sentinel_probe(raw: &Raw) -> Seen {
    let name = "mcptool-check-ünknown";
    let encoded = encode_header_value(name);
    let body = modern(
        "tools/call",
        json!({"name": name, "arguments": {}}),
        STATELESS,
    );
    let headers = [
        ("MCP-Protocol-Version", STATELESS),
        ("Mcp-Method", "tools/call"),
        ("Mcp-Name", encoded.as_ref()),
    ];
    match send(raw, &body, &headers).await {
        Ok((_, Some(codes::HEADER_MISMATCH))) => Seen::Fail(format!(
            "Mcp-Name {encoded} (the base64 sentinel of {name:?}) was refused as a header mismatch: the server does not decode it"
        )),
        Ok((s, _)) => Seen::Ok(format!(
            "an Mcp-Name in the base64 sentinel was decoded (an unknown tool got {s}, not -32020)"
        )),
        Err(e) => Seen::Warn(format!("the sentinel probe failed: {e}")),
    }
}

/// A `tools/call` whose `Mcp-Name` names another tool than the body: it MUST get 400 with
/// -32020, so that a gateway routing on the header and the server agree.
async fn mismatch_probe(raw: &Raw) -> Seen {
    let body = modern(
        "tools/call",
        json!({"name": "mcptool-check-absent", "arguments": {}}),
        STATELESS,
    );
    let headers = [
        ("MCP-Protocol-Version", STATELESS),
        ("Mcp-Method", "tools/call"),
        ("Mcp-Name", "mcptool-check-other"),
    ];
    match send(raw, &body, &headers).await {
        Ok((400, Some(codes::HEADER_MISMATCH))) => {
            Seen::Ok("an Mcp-Name that disagrees with the body got 400 with -32020".to_owned())
        }
        Ok((s, code)) if (400..500).contains(&s) => Seen::Warn(format!(
            "an Mcp-Name that disagrees with the body got {s} with error {code:?}, not 400 with -32020"
        )),
        Ok((s, _)) => Seen::Fail(format!(
            "an Mcp-Name that disagrees with the body got {s}: the server does not check it against the body"
        )),
        Err(e) => Seen::Warn(format!("the mismatch probe failed: {e}")),
    }
}

/// Through the client: a prompt or resource whose name needs the sentinel, or a resource
/// template filled with a non-ASCII value, read once. `None` when the server has neither.
async fn sentinel_through_client(settings: &Settings, url: &str) -> Option<Seen> {
    let client = settings.builder(url).connect().await.ok()?;
    let seen = match sentinel_target(&client).await {
        Some(Target::Prompt(name)) => Some(outcome(
            &format!("prompts/get {name:?}"),
            client
                .get_prompt(&name, &serde_json::Map::new())
                .await
                .err(),
        )),
        Some(Target::Resource(uri)) => Some(outcome(
            &format!("resources/read {uri:?}"),
            client.read_resource(&uri).await.err(),
        )),
        None => None,
    };
    let _ = client.close().await;
    seen
}

/// What to request with a sentinel-encoded `Mcp-Name`.
enum Target {
    Prompt(String),
    Resource(String),
}

async fn sentinel_target(client: &mcptool::Client) -> Option<Target> {
    let needs = |name: &str| encode_header_value(name) != name;
    if let Ok(prompts) = client.list_prompts().await
        && let Some(p) = prompts.into_iter().find(|p| needs(&p.name))
    {
        return Some(Target::Prompt(p.name));
    }
    if let Ok(resources) = client.list_resources().await
        && let Some(r) = resources.into_iter().find(|r| needs(&r.uri))
    {
        return Some(Target::Resource(r.uri));
    }
    let templates = client.list_resource_templates().await.ok()?;
    templates
        .iter()
        .find_map(|t| fill(&t.uri_template))
        .map(Target::Resource)
}

/// A template with exactly one `{variable}`, filled with a value that needs the sentinel.
fn fill(template: &str) -> Option<String> {
    let (before, rest) = template.split_once('{')?;
    let (_, after) = rest.split_once('}')?;
    (!after.contains('{')).then(|| format!("{before}mcptool-check-é{after}"))
}

fn outcome(what: &str, error: Option<mcptool::Error>) -> Seen {
    match error {
        None => Seen::Ok(format!("{what} (Mcp-Name in the base64 sentinel) answered")),
        Some(e)
            if e.rpc_error()
                .is_some_and(|r| r.code == codes::HEADER_MISMATCH) =>
        {
            Seen::Fail(format!(
                "{what}: the sentinel-encoded Mcp-Name was refused as a mismatch"
            ))
        }
        Some(e) if e.rpc_error().is_some() => Seen::Ok(format!(
            "{what} (Mcp-Name in the base64 sentinel) got past the header check ({e})"
        )),
        Some(e) => Seen::Warn(format!("{what} failed: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_with_one_variable_is_filled_with_a_non_ascii_value() {
        assert_eq!(
            fill("demo://items/{id}").as_deref(),
            Some("demo://items/mcptool-check-é")
        );
        assert_eq!(fill("a/{x}/{y}"), None);
        assert_eq!(fill("plain"), None);
    }
}
