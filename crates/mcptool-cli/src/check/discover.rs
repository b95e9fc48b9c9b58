//! The first step of `check`: connect once to find the server's era and the tools that can
//! tell callers apart.

use mcptool::ProtocolEra;
use mcptool::protocol::Tool;

use crate::connect::{Protocol, Settings};
use crate::era::Era;
use crate::exit::CliError;

/// What the first connection found.
#[derive(Debug)]
pub(crate) struct Discovery {
    pub(crate) era: Era,
    pub(crate) tools: Vec<Tool>,
}

/// Connects as `--protocol` says, automatically when it is absent (whatever the client's own
/// default era), lists the tools and closes.
pub(crate) async fn run(settings: &Settings, url: &str) -> Result<Discovery, CliError> {
    let mut builder = settings.builder(url);
    if settings.protocol.is_none() {
        builder = builder.protocol_era(ProtocolEra::Auto);
    }
    let fail = |e| CliError::from_mcp(e, "cannot connect to the MCP server", url);
    let client = builder.connect().await.map_err(fail)?;
    let era = Era::of(&client);
    let tools = client.list_tools().await;
    let _ = client.close().await;
    let tools = tools.map_err(|e| CliError::from_mcp(e, "tools/list failed", url))?;
    Ok(Discovery { era, tools })
}

/// `settings` pinned to the version found, so that each lifecycle speaks it without probing.
pub(crate) fn pinned(settings: &Settings, era: &Era) -> Settings {
    let mut pinned = settings.clone();
    pinned.protocol = Some(Protocol::Version(era.version()));
    pinned
}

impl Discovery {
    /// A tool that reports the caller's session, if the server has one.
    pub(crate) fn whoami(&self) -> Option<&str> {
        self.tools.iter().map(|t| t.name.as_str()).find(|n| {
            let n = n.to_ascii_lowercase();
            n.contains("whoami") || n.contains("session_id") || n.contains("sessionid")
        })
    }

    /// An echo tool and its string parameter: a tool named like `echo` whose only required
    /// parameter (or only parameter) is a string.
    pub(crate) fn echo(&self) -> Option<(&str, String)> {
        self.tools.iter().find_map(|tool| {
            if !tool.name.to_ascii_lowercase().contains("echo") {
                return None;
            }
            let schema = &tool.input_schema;
            let properties = schema["properties"].as_object()?;
            let required: Vec<&str> = schema["required"]
                .as_array()
                .map(|r| r.iter().filter_map(|v| v.as_str()).collect())
                .unwrap_or_default();
            let field = match required.as_slice() {
                [one] => (*one).to_owned(),
                [] if properties.len() == 1 => properties.keys().next()?.clone(),
                _ => return None,
            };
            (properties.get(&field)?["type"] == "string").then_some((tool.name.as_str(), field))
        })
    }
}
