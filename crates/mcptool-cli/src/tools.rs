//! `mcptool tools`: the server's tools, as a table or as the `tools/list` result.

use mcptool::protocol::ListToolsResult;

use crate::connect::Session;
use crate::exit::{CliResult, Exit};
use crate::output::{Table, one_line, print_json};

/// Lists every tool (all pages).
pub(crate) async fn run(session: &Session, json: bool) -> CliResult {
    let tools = session
        .client
        .list_tools()
        .await
        .map_err(|e| session.error(e, "tools/list failed"))?;
    if json {
        print_json(&ListToolsResult {
            tools,
            next_cursor: None,
        })?;
        return Ok(Exit::Ok);
    }
    let mut table = Table::new(&["NAME", "ARGUMENTS", "DESCRIPTION"]);
    for tool in &tools {
        table.row(vec![
            tool.name.clone(),
            arguments(&tool.input_schema),
            one_line(tool.description.as_deref(), 60),
        ]);
    }
    print!("{}", table.render());
    Ok(Exit::Ok)
}

/// `a* b` — property names, required ones starred.
fn arguments(schema: &serde_json::Value) -> String {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(|r| r.as_array())
        .map(|r| r.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    schema
        .get("properties")
        .and_then(|p| p.as_object())
        .map(|props| {
            props
                .keys()
                .map(|k| {
                    if required.contains(&k.as_str()) {
                        format!("{k}*")
                    } else {
                        k.clone()
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}
