//! How the CLI answers what a server asks of the client: elicitation by `--elicit` or, on a
//! terminal, by a form ([`crate::form`]); roots by `--root`. The same handlers serve both eras
//! (server requests in the session era, `input_required` rounds in 2026-07-28). Without them no
//! handler is installed, so the client declares no such capability and the server's refusal
//! says what was missing. Sampling is never declared: mcptool has no model to answer with.

use std::path::{Path, PathBuf};

use mcptool::Handler;
use serde_json::{Map, Value, json};

use crate::exit::CliError;

/// How to answer a server's elicitation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ElicitMode {
    /// Accept with each field's schema default; decline when a required field has none.
    AcceptDefaults,
    /// Decline every request.
    Decline,
    /// Cancel every request.
    Cancel,
}

/// Who answers elicitation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Elicit {
    /// `--elicit MODE`, the same answer every time.
    Mode(ElicitMode),
    /// The person at the terminal, through a form.
    Interactive,
}

impl Elicit {
    /// `--elicit` when given, else the terminal when there is one, else nobody.
    pub(crate) fn choose(flag: Option<ElicitMode>) -> Option<Elicit> {
        flag.map(Elicit::Mode)
            .or_else(|| crate::form::terminal_available().then_some(Elicit::Interactive))
    }

    /// The handler that answers this way.
    pub(crate) fn handler(self) -> Handler {
        match self {
            Elicit::Mode(mode) => elicitation(mode),
            Elicit::Interactive => crate::form::handler(),
        }
    }
}

/// The elicitation handler for `mode`.
fn elicitation(mode: ElicitMode) -> Handler {
    Handler::new(move |params: Value| async move {
        Ok(match mode {
            ElicitMode::Decline => json!({"action": "decline"}),
            ElicitMode::Cancel => json!({"action": "cancel"}),
            ElicitMode::AcceptDefaults => match defaults(&params["requestedSchema"]) {
                Ok(content) => json!({"action": "accept", "content": content}),
                Err(field) => {
                    eprintln!(
                        "mcptool: declined the server's question: field {field:?} has no default (answer it with --elicit decline|cancel, or give the server a default)"
                    );
                    json!({"action": "decline"})
                }
            },
        })
    })
}

/// Every field's default; `Err` names a required field without one.
fn defaults(schema: &Value) -> Result<Map<String, Value>, String> {
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut content = Map::new();
    if let Some(properties) = schema["properties"].as_object() {
        for (name, property) in properties {
            match property.get("default") {
                Some(default) => {
                    content.insert(name.clone(), default.clone());
                }
                None if required.contains(&name.as_str()) => return Err(name.clone()),
                None => {}
            }
        }
    }
    Ok(content)
}

/// The roots handler for `--root` paths: each an existing directory or file, as a `file://` URI.
pub(crate) fn roots(paths: &[PathBuf]) -> Result<Handler, CliError> {
    let roots = paths
        .iter()
        .map(|path| root(path))
        .collect::<Result<Vec<Value>, CliError>>()?;
    Ok(Handler::new(move |_| {
        let roots = roots.clone();
        async move { Ok(json!({"roots": roots})) }
    }))
}

fn root(path: &Path) -> Result<Value, CliError> {
    let absolute = path.canonicalize().map_err(|e| {
        CliError::usage(format!("--root {}: {e}", path.display()))
            .hint("give an existing directory or file")
    })?;
    let uri = reqwest::Url::from_file_path(&absolute)
        .map_err(|()| CliError::usage(format!("--root {}: not a file path", path.display())))?;
    let name = absolute.file_name().map_or_else(
        || absolute.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    Ok(json!({"uri": uri.as_str(), "name": name}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fill_the_form_and_a_required_field_without_one_is_named() {
        let schema = json!({"type": "object", "properties": {
            "colour": {"type": "string", "default": "teal"},
            "count": {"type": "integer", "default": 2},
            "note": {"type": "string"},
        }, "required": ["colour"]});
        assert_eq!(
            defaults(&schema),
            Ok(json!({"colour": "teal", "count": 2})
                .as_object()
                .cloned()
                .unwrap_or_default())
        );
        let missing = json!({"properties": {"answer": {"type": "string"}}, "required": ["answer"]});
        assert_eq!(defaults(&missing), Err("answer".to_owned()));
    }

    #[test]
    fn a_root_is_an_absolute_file_uri_and_a_missing_path_is_a_usage_error() {
        let here = std::env::temp_dir();
        let value = root(&here).expect("a root");
        assert!(
            value["uri"]
                .as_str()
                .is_some_and(|u| u.starts_with("file:///")),
            "{value}"
        );
        assert!(root(Path::new("/no/such/dir/for/mcptool")).is_err());
    }
}
