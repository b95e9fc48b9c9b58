//! `mcptool resources`: the server's resources, as a table or as the `resources/list` result.

use mcptool::protocol::ListResourcesResult;

use crate::connect::Session;
use crate::exit::{CliResult, Exit};
use crate::output::{Table, one_line, print_json};

/// Lists every resource (all pages).
pub(crate) async fn run(session: &Session, json: bool) -> CliResult {
    let resources = session
        .client
        .list_resources()
        .await
        .map_err(|e| session.error(e, "resources/list failed"))?;
    if json {
        print_json(&ListResourcesResult {
            resources,
            next_cursor: None,
        })?;
        return Ok(Exit::Ok);
    }
    let mut table = Table::new(&["URI", "NAME", "MIME TYPE", "DESCRIPTION"]);
    for r in &resources {
        table.row(vec![
            r.uri.clone(),
            r.name.clone(),
            r.mime_type.clone().unwrap_or_default(),
            one_line(r.description.as_deref(), 50),
        ]);
    }
    print!("{}", table.render());
    Ok(Exit::Ok)
}
