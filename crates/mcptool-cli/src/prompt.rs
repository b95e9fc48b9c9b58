//! `mcptool prompt NAME [key=value ...]`: render one prompt.

use std::path::PathBuf;

use mcptool::protocol::GetPromptResult;

use crate::args::prompt_arguments;
use crate::connect::Session;
use crate::exit::{CliResult, Exit};
use crate::output::{Media, print_json};

/// Options of `mcptool prompt`.
#[derive(Debug, clap::Args)]
pub(crate) struct PromptArgs {
    /// The prompt's name (see `mcptool prompts`).
    name: String,
    /// key=value words (prompt arguments are strings).
    arguments: Vec<String>,
    /// Save images, audio and blobs into this directory.
    #[arg(long, value_name = "DIR")]
    save: Option<PathBuf>,
}

/// Gets the prompt and prints its messages.
pub(crate) async fn run(session: &Session, args: &PromptArgs, json: bool) -> CliResult {
    let arguments = prompt_arguments(&args.arguments)?;
    let result: GetPromptResult = session
        .client
        .get_prompt(&args.name, &arguments)
        .await
        .map_err(|e| session.error(e, &format!("getting prompt {} failed", args.name)))?;
    if json {
        print_json(&result)?;
        return Ok(Exit::Ok);
    }
    if let Some(description) = &result.description {
        println!("{description}");
    }
    let mut media = Media::new(args.save.as_deref(), &args.name);
    for message in &result.messages {
        let text = media.content(&message.content)?;
        println!("[{}]\n{text}", message.role);
    }
    Ok(Exit::Ok)
}
