//! `mcptool call TOOL [JSON | key=value ...]`: call one tool and show its result.

use std::path::PathBuf;

use mcptool::RequestOptions;
use mcptool::protocol::{CallToolResult, Tool};
use serde_json::{Value, json};

use crate::args::tool_arguments;
use crate::connect::Session;
use crate::exit::{CliError, CliResult, Exit};
use crate::output::{Media, print_json};
use crate::progress::ProgressView;

/// Options of `mcptool call`.
#[derive(Debug, clap::Args)]
pub(crate) struct CallArgs {
    /// The tool's name (see `mcptool tools`).
    tool: String,
    /// One JSON object, or key=value words (values typed by the tool's input schema).
    arguments: Vec<String>,
    /// Save images, audio and blobs into this directory.
    #[arg(long, value_name = "DIR")]
    save: Option<PathBuf>,
}

/// Calls the tool; exit 1 when it answers `isError: true`.
pub(crate) async fn run(session: &Session, args: &CallArgs, json: bool) -> CliResult {
    let tool = find_tool(session, &args.tool).await?;
    let arguments = tool_arguments(&args.arguments, &tool.input_schema)?;
    let view = ProgressView::new();
    let shown = view.clone();
    let options = RequestOptions::new().on_progress(move |p| shown.update(&p));
    let params = json!({"name": tool.name, "arguments": arguments});
    let raw: Result<Value, _> = session
        .client
        .request("tools/call", Some(&params), &options)
        .await;
    view.finish();
    let raw = raw.map_err(|e| session.error(e, &format!("calling {} failed", tool.name)))?;
    let result: CallToolResult = serde_json::from_value(raw.clone()).map_err(|e| {
        CliError::connection(format!(
            "the server's result for {} is malformed",
            tool.name
        ))
        .hint("run with --json to see what it sent")
        .source(e)
    })?;
    if json {
        print_json(&raw)?;
    } else {
        render(&result, &tool.name, args.save.as_deref())?;
    }
    if result.is_error {
        if !json {
            eprintln!(
                "mcptool: tool {} reported an error (isError: true)",
                tool.name
            );
        }
        return Ok(Exit::ToolError);
    }
    Ok(Exit::Ok)
}

/// The tool named `name`, or a usage error listing the ones the server has.
async fn find_tool(session: &Session, name: &str) -> Result<Tool, CliError> {
    let tools = session
        .client
        .list_tools()
        .await
        .map_err(|e| session.error(e, "tools/list failed"))?;
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    let problem = format!("unknown tool {name:?}");
    let hint = if names.is_empty() {
        "the server offers no tools".to_owned()
    } else {
        format!("the server offers: {}", names.join(", "))
    };
    tools
        .iter()
        .find(|t| t.name == name)
        .cloned()
        .ok_or_else(|| CliError::usage(problem).hint(hint))
}

fn render(
    result: &CallToolResult,
    tool: &str,
    save: Option<&std::path::Path>,
) -> Result<(), CliError> {
    let mut media = Media::new(save, tool);
    for content in &result.content {
        println!("{}", media.content(content)?);
    }
    if let Some(structured) = &result.structured_content {
        let pretty = serde_json::to_string_pretty(structured).unwrap_or_default();
        println!("structured content:\n{pretty}");
    }
    Ok(())
}
