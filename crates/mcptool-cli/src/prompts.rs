//! `mcptool prompts`: the server's prompts, as a table or as the `prompts/list` result.

use mcptool::protocol::ListPromptsResult;

use crate::connect::Session;
use crate::exit::{CliResult, Exit};
use crate::output::{Table, one_line, print_json};

/// Lists every prompt (all pages).
pub(crate) async fn run(session: &Session, json: bool) -> CliResult {
    let prompts = session
        .client
        .list_prompts()
        .await
        .map_err(|e| session.error(e, "prompts/list failed"))?;
    if json {
        print_json(&ListPromptsResult {
            prompts,
            next_cursor: None,
        })?;
        return Ok(Exit::Ok);
    }
    let mut table = Table::new(&["NAME", "ARGUMENTS", "DESCRIPTION"]);
    for prompt in &prompts {
        let args: Vec<String> = prompt
            .arguments
            .iter()
            .map(|a| {
                if a.required {
                    format!("{}*", a.name)
                } else {
                    a.name.clone()
                }
            })
            .collect();
        table.row(vec![
            prompt.name.clone(),
            args.join(" "),
            one_line(prompt.description.as_deref(), 60),
        ]);
    }
    print!("{}", table.render());
    Ok(Exit::Ok)
}
