//! `mcptool read URI`: read one resource.

use std::path::PathBuf;

use crate::connect::Session;
use crate::exit::{CliResult, Exit};
use crate::output::{Media, print_json};

/// Options of `mcptool read`.
#[derive(Debug, clap::Args)]
pub(crate) struct ReadArgs {
    /// The resource URI (see `mcptool resources`).
    uri: String,
    /// Save blobs into this directory.
    #[arg(long, value_name = "DIR")]
    save: Option<PathBuf>,
}

/// Reads the resource and prints its contents.
pub(crate) async fn run(session: &Session, args: &ReadArgs, json: bool) -> CliResult {
    let result = session
        .client
        .read_resource(&args.uri)
        .await
        .map_err(|e| session.error(e, &format!("reading {} failed", args.uri)))?;
    if json {
        print_json(&result)?;
        return Ok(Exit::Ok);
    }
    let mut media = Media::new(args.save.as_deref(), "resource");
    for contents in &result.contents {
        println!("{}", media.resource(contents)?);
    }
    Ok(Exit::Ok)
}
