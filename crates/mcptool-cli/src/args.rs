//! Turning command-line words into tool and prompt arguments.
//!
//! `call` takes either one JSON object or `key=value` words. A value becomes a string when the
//! tool's input schema says the property is a string; otherwise it is read as JSON when it
//! parses (`a=2`, `flag=true`, `tags=["x"]`) and kept as a string when it does not. `prompt`
//! arguments are always strings, as MCP prompt arguments are.

use serde_json::{Map, Value};

use crate::exit::CliError;

/// Parses `call` arguments against the tool's input schema.
pub(crate) fn tool_arguments(words: &[String], schema: &Value) -> Result<Value, CliError> {
    if let [only] = words
        && only.trim_start().starts_with(['{', '['])
    {
        return json_object(only);
    }
    let mut args = Map::new();
    for word in words {
        let (key, raw) = split_pair(word)?;
        let value = match property_type(schema, key) {
            Some("string") => Value::String(raw.to_owned()),
            Some(kind) => serde_json::from_str(raw).map_err(|e| {
                CliError::usage(format!(
                    "argument {key:?} must be a JSON {kind}, got {raw:?}"
                ))
                .hint("the tool's input schema gives its type; see `mcptool tools --json`")
                .source(e)
            })?,
            None => serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned())),
        };
        args.insert(key.to_owned(), value);
    }
    Ok(Value::Object(args))
}

/// Parses `prompt` arguments: `key=value` words, values kept as strings.
pub(crate) fn prompt_arguments(words: &[String]) -> Result<Map<String, Value>, CliError> {
    let mut args = Map::new();
    for word in words {
        let (key, raw) = split_pair(word)?;
        args.insert(key.to_owned(), Value::String(raw.to_owned()));
    }
    Ok(args)
}

fn json_object(text: &str) -> Result<Value, CliError> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        CliError::usage(format!("the arguments are not valid JSON: {e}"))
            .hint("quote the object for the shell: '{\"key\": \"value\"}', or use key=value words")
    })?;
    if !value.is_object() {
        return Err(CliError::usage("the JSON arguments must be an object")
            .hint("write them as '{\"key\": value}'"));
    }
    Ok(value)
}

fn split_pair(word: &str) -> Result<(&str, &str), CliError> {
    match word.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key, value)),
        _ => Err(
            CliError::usage(format!("malformed argument {word:?}: expected key=value"))
                .hint("write each argument as name=value, or pass one JSON object"),
        ),
    }
}

/// The declared JSON type of property `key`, when the schema names exactly one.
fn property_type<'a>(schema: &'a Value, key: &str) -> Option<&'a str> {
    schema.get("properties")?.get(key)?.get("type")?.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn schema_types_decide_how_values_are_read() {
        let schema =
            json!({"properties": {"message": {"type": "string"}, "a": {"type": "number"}}});
        let args = tool_arguments(&words(&["message=42", "a=2.5", "free=true"]), &schema);
        assert_eq!(
            args.expect("parses"),
            json!({"message": "42", "a": 2.5, "free": true})
        );
    }

    #[test]
    fn a_single_json_object_is_taken_whole() {
        let args = tool_arguments(&words(&[r#"{"a": 1}"#]), &json!({}));
        assert_eq!(args.expect("parses"), json!({"a": 1}));
    }

    #[test]
    fn bad_words_are_usage_errors() {
        for bad in [&["novalue"][..], &["=x"], &["{nope"], &["[1]"]] {
            let err = tool_arguments(&words(bad), &json!({})).expect_err("refused");
            assert_eq!(err.exit(), crate::exit::Exit::Usage);
        }
        let typed = json!({"properties": {"a": {"type": "number"}}});
        assert!(tool_arguments(&words(&["a=abc"]), &typed).is_err());
        assert!(prompt_arguments(&words(&["x"])).is_err());
    }
}
