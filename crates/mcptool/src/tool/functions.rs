//! MCP tools and prompts as functions an LLM can call: names normalised to `[A-Za-z0-9_-]`,
//! schemas that are always objects with `properties`, and the OpenAI / Anthropic shapes.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde_json::{Map, Value, json};

use super::output::SchemaViolation;
use crate::error::Error;
use crate::protocol::{Prompt, Tool};

/// The longest function name OpenAI and Anthropic accept.
pub(crate) const MAX_FUNCTION_NAME_LEN: usize = 64;

/// What a function calls on the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FunctionKind {
    /// An MCP tool (`tools/call`).
    Tool,
    /// An MCP prompt (`prompts/get`), whose arguments are strings.
    Prompt,
}

/// One MCP tool or prompt, as a function for LLM function calling.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Function {
    /// The name the model calls: prefix + MCP name, normalised to `[A-Za-z0-9_-]`, at most
    /// 64 characters.
    pub name: String,
    /// The tool's or prompt's name on the server.
    pub mcp_name: String,
    /// Tool or prompt.
    pub kind: FunctionKind,
    /// What it does (empty when the server says nothing).
    pub description: String,
    /// JSON schema of the arguments: always `{"type": "object", "properties": {...}, ...}`.
    pub parameters: Value,
    /// JSON schema of the tool's `structuredContent`, when it declares one.
    pub output_schema: Option<Value>,
    /// The tool's behaviour hints (read-only, destructive...), as sent.
    pub annotations: Option<Value>,
}

impl Function {
    /// An OpenAI Chat Completions tool: `{"type": "function", "function": {"name",
    /// "description", "parameters"}}`.
    pub fn to_openai(&self) -> Value {
        json!({
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        })
    }

    /// An OpenAI Responses API tool: `{"type": "function", "name", "description",
    /// "parameters"}`.
    pub fn to_openai_responses(&self) -> Value {
        json!({
            "type": "function",
            "name": self.name,
            "description": self.description,
            "parameters": self.parameters,
        })
    }

    /// An Anthropic Messages API tool: `{"name", "description", "input_schema"}`.
    pub fn to_anthropic(&self) -> Value {
        json!({
            "name": self.name,
            "description": self.description,
            "input_schema": self.parameters,
        })
    }
}

/// `name` with every character outside `[A-Za-z0-9_-]` replaced by `_`, cut to 64
/// characters (an empty name becomes `_`).
pub fn normalize_function_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(MAX_FUNCTION_NAME_LEN)
        .collect();
    if out.is_empty() {
        out.push('_');
    }
    out
}

/// An input schema fit for function calling: an object schema with `properties`, whatever
/// the server sent (a missing type, no properties, `true`, not an object at all). Every other
/// keyword is kept.
pub(crate) fn object_schema(schema: &Value) -> Value {
    let mut map = match schema {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    if !matches!(map.get("type"), Some(Value::String(t)) if t == "object") {
        map.insert("type".into(), Value::from("object"));
    }
    if !map.get("properties").is_some_and(Value::is_object) {
        map.insert("properties".into(), Value::Object(Map::new()));
    }
    Value::Object(map)
}

/// The schema of a prompt's arguments: each a string, the required ones required.
fn prompt_schema(prompt: &Prompt) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for argument in &prompt.arguments {
        let mut property = json!({"type": "string"});
        if let Some(d) = &argument.description {
            property["description"] = Value::from(d.clone());
        }
        properties.insert(argument.name.clone(), property);
        if argument.required {
            required.push(Value::from(argument.name.clone()));
        }
    }
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

/// A compiled JSON schema. A schema we cannot compile (a remote `$ref`, say) validates
/// nothing; that is logged once, when the catalog is built.
pub(crate) struct Schema(jsonschema::Validator);

impl fmt::Debug for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Schema(..)")
    }
}

impl Schema {
    fn compile(schema: &Value, what: &str) -> Option<Schema> {
        match jsonschema::validator_for(schema) {
            Ok(v) => Some(Schema(v)),
            Err(e) => {
                tracing::warn!(error = %e, what, "schema cannot be compiled; not validating");
                None
            }
        }
    }

    /// Every way `instance` breaks the schema (empty when it conforms).
    pub(crate) fn violations(&self, instance: &Value) -> Vec<SchemaViolation> {
        self.0
            .iter_errors(instance)
            .map(|e| SchemaViolation {
                path: e.instance_path().to_string(),
                message: e.to_string(),
            })
            .collect()
    }
}

/// One function and what invoking it needs.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) function: Function,
    pub(crate) input: Option<Schema>,
    pub(crate) output: Option<Schema>,
}

/// The functions of one tool at one moment; replaced whole when the server's lists change.
#[derive(Debug, Default)]
pub(crate) struct Catalog {
    pub(crate) entries: Vec<Entry>,
    by_name: HashMap<String, usize>,
}

impl Entry {
    /// The function of a tool, named `prefix` + its name.
    fn tool(tool: &Tool, prefix: &str) -> Entry {
        let parameters = object_schema(&tool.input_schema);
        Entry {
            input: Schema::compile(&parameters, &tool.name),
            output: tool
                .output_schema
                .as_ref()
                .and_then(|s| Schema::compile(s, &tool.name)),
            function: Function {
                name: normalize_function_name(&format!("{prefix}{}", tool.name)),
                mcp_name: tool.name.clone(),
                kind: FunctionKind::Tool,
                description: tool
                    .description
                    .clone()
                    .or_else(|| tool.title.clone())
                    .unwrap_or_default(),
                parameters,
                output_schema: tool.output_schema.clone(),
                annotations: tool.annotations.clone(),
            },
        }
    }

    /// The function of a prompt, named `prefix` + its name.
    fn prompt(prompt: &Prompt, prefix: &str) -> Entry {
        let parameters = prompt_schema(prompt);
        Entry {
            input: Schema::compile(&parameters, &prompt.name),
            output: None,
            function: Function {
                name: normalize_function_name(&format!("{prefix}{}", prompt.name)),
                mcp_name: prompt.name.clone(),
                kind: FunctionKind::Prompt,
                description: prompt
                    .description
                    .clone()
                    .or_else(|| prompt.title.clone())
                    .unwrap_or_default(),
                parameters,
                output_schema: None,
                annotations: None,
            },
        }
    }
}

/// Refuses a list in which the server named one `what` (tool, prompt) twice.
fn listed_once<'a>(what: &str, names: impl IntoIterator<Item = &'a str>) -> Result<(), Error> {
    let mut seen = HashSet::new();
    for name in names {
        if !seen.insert(name) {
            return Err(Error::protocol(format!(
                "server listed {what} {name:?} twice"
            )));
        }
    }
    Ok(())
}

/// The index of each function by name; two MCP names that normalise alike are an error.
fn index_by_name(entries: &[Entry]) -> Result<HashMap<String, usize>, Error> {
    let mut by_name = HashMap::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        if let Some(j) = by_name.insert(entry.function.name.clone(), i) {
            return Err(Error::config(format!(
                "{:?} and {:?} both become function {:?}; use allowed_tools or a prefix \
                 to tell them apart",
                entries[j].function.mcp_name, entry.function.mcp_name, entry.function.name
            )));
        }
    }
    Ok(by_name)
}

impl Catalog {
    /// Builds the functions of `tools` (those allowed) and `prompts`. Two tools with one name,
    /// or two names that normalise alike, are an error.
    pub(crate) fn build(
        tools: &[Tool],
        prompts: &[Prompt],
        allowed: Option<&[String]>,
        prefix: Option<&str>,
    ) -> Result<Catalog, Error> {
        listed_once("tool", tools.iter().map(|t| t.name.as_str()))?;
        listed_once("prompt", prompts.iter().map(|p| p.name.as_str()))?;
        let prefix = prefix.unwrap_or("");
        let entries: Vec<Entry> = tools
            .iter()
            .filter(|tool| allowed.is_none_or(|a| a.iter().any(|n| n == &tool.name)))
            .map(|tool| Entry::tool(tool, prefix))
            .chain(prompts.iter().map(|prompt| Entry::prompt(prompt, prefix)))
            .collect();
        let by_name = index_by_name(&entries)?;
        Ok(Catalog { entries, by_name })
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Entry> {
        self.by_name.get(name).map(|&i| &self.entries[i])
    }

    pub(crate) fn functions(&self) -> Vec<Function> {
        self.entries.iter().map(|e| e.function.clone()).collect()
    }

    /// Whether both catalogs offer exactly the same functions.
    pub(crate) fn same_functions(&self, other: &Catalog) -> bool {
        self.entries.len() == other.entries.len()
            && self
                .entries
                .iter()
                .zip(&other.entries)
                .all(|(a, b)| a.function == b.function)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool(name: &str) -> Tool {
        serde_json::from_value(json!({"name": name, "inputSchema": {}})).expect("tool")
    }

    #[test]
    fn names_are_normalised_and_cut() {
        assert_eq!(normalize_function_name("a.b/c d-é_1"), "a_b_c_d-__1");
        assert_eq!(normalize_function_name(""), "_");
        assert_eq!(normalize_function_name(&"x".repeat(100)).len(), 64);
    }

    #[test]
    fn schemas_always_become_objects_with_properties() {
        for raw in [
            json!({}),
            json!(true),
            json!(null),
            json!({"type": "object"}),
            json!({"properties": {"a": {"type": "string"}}, "required": ["a"]}),
        ] {
            let s = object_schema(&raw);
            assert_eq!(s["type"], "object", "{raw}");
            assert!(s["properties"].is_object(), "{raw}");
        }
        let kept = object_schema(&json!({"properties": {"a": {}}, "required": ["a"]}));
        assert_eq!(kept["required"], json!(["a"]));
    }

    #[test]
    fn collisions_and_duplicates_are_errors() {
        let dup = Catalog::build(&[tool("a"), tool("a")], &[], None, None).expect_err("duplicate");
        assert!(dup.is_protocol());
        let clash =
            Catalog::build(&[tool("a.b"), tool("a_b")], &[], None, None).expect_err("collision");
        assert_eq!(clash.kind(), crate::ErrorKind::Config);
        let filtered = Catalog::build(
            &[tool("a.b"), tool("a_b")],
            &[],
            Some(&["a_b".to_owned()]),
            Some("srv."),
        )
        .expect("filtered");
        assert_eq!(filtered.functions()[0].name, "srv_a_b");
    }
}
