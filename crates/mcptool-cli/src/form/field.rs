//! The fields of an elicitation form, read from its `requestedSchema` (the flat subset the
//! spec allows: strings, numbers, integers, booleans, single- and multi-select enums), and
//! each field's rules for reading one typed answer.

use serde_json::Value;

use super::formats;

/// One question of the form.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Field {
    /// The property's key in the answer.
    pub(crate) name: String,
    /// Its `title`, or the key.
    pub(crate) title: String,
    pub(crate) description: Option<String>,
    pub(crate) required: bool,
    pub(crate) default: Option<Value>,
    pub(crate) kind: Kind,
}

/// What a field accepts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    Text {
        min: Option<u64>,
        max: Option<u64>,
        format: Option<String>,
    },
    Number {
        integer: bool,
        min: Option<f64>,
        max: Option<f64>,
    },
    Boolean,
    /// One of the options.
    Choice(Vec<Choice>),
    /// Several of the options, comma-separated.
    Choices {
        options: Vec<Choice>,
        min: Option<u64>,
        max: Option<u64>,
    },
}

/// One option of an enum: the value sent and the label shown.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Choice {
    pub(crate) value: String,
    pub(crate) label: String,
}

/// The fields of `schema`, required ones first, each group by name (a parsed JSON object keeps
/// no order of its own); `Err` says why the form cannot be shown.
pub(crate) fn fields(schema: &Value) -> Result<Vec<Field>, String> {
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(properties) = schema["properties"].as_object() else {
        return Ok(Vec::new());
    };
    let mut fields = properties
        .iter()
        .map(|(name, property)| {
            let kind = kind(property).map_err(|why| format!("field {name:?} {why}"))?;
            Ok(Field {
                name: name.clone(),
                title: text(property, "title").unwrap_or_else(|| name.clone()),
                description: text(property, "description"),
                required: required.contains(&name.as_str()),
                default: property.get("default").filter(|d| !d.is_null()).cloned(),
                kind,
            })
        })
        .collect::<Result<Vec<Field>, String>>()?;
    fields.sort_by_key(|f| !f.required);
    Ok(fields)
}

fn text(property: &Value, key: &str) -> Option<String> {
    property[key]
        .as_str()
        .filter(|s| !s.trim().is_empty())
        .map(str::to_owned)
}

fn kind(property: &Value) -> Result<Kind, String> {
    let count = |key: &str| property[key].as_u64();
    let bound = |key: &str| property[key].as_f64();
    match property["type"].as_str() {
        Some("string") => Ok(match options(property) {
            Some(options) => Kind::Choice(options),
            None => Kind::Text {
                min: count("minLength"),
                max: count("maxLength"),
                format: text(property, "format"),
            },
        }),
        Some(kind @ ("number" | "integer")) => Ok(Kind::Number {
            integer: kind == "integer",
            min: bound("minimum"),
            max: bound("maximum"),
        }),
        Some("boolean") => Ok(Kind::Boolean),
        Some("array") => match options(&property["items"]) {
            Some(options) => Ok(Kind::Choices {
                options,
                min: count("minItems"),
                max: count("maxItems"),
            }),
            None => Err("is a list of something other than enum values".to_owned()),
        },
        Some(other) => Err(format!("has type {other:?}, which a form cannot ask for")),
        None => Err("has no type".to_owned()),
    }
}

/// The options of an enum schema: `enum` (labelled by the legacy `enumNames` when given), or
/// `oneOf` / `anyOf` entries of `{const, title}`.
fn options(schema: &Value) -> Option<Vec<Choice>> {
    if let Some(values) = schema["enum"].as_array() {
        let names = schema["enumNames"].as_array();
        return Some(
            values
                .iter()
                .enumerate()
                .filter_map(|(i, v)| {
                    let value = v.as_str()?.to_owned();
                    let label = names
                        .and_then(|n| n.get(i))
                        .and_then(Value::as_str)
                        .map_or_else(|| value.clone(), str::to_owned);
                    Some(Choice { value, label })
                })
                .collect(),
        );
    }
    let entries = schema["oneOf"]
        .as_array()
        .or_else(|| schema["anyOf"].as_array())?;
    Some(
        entries
            .iter()
            .filter_map(|entry| {
                let value = entry["const"].as_str()?.to_owned();
                let label = text(entry, "title").unwrap_or_else(|| value.clone());
                Some(Choice { value, label })
            })
            .collect(),
    )
}

impl Field {
    /// Reads one non-empty answer; `Err` says what is wrong with it.
    pub(crate) fn parse(&self, input: &str) -> Result<Value, String> {
        match &self.kind {
            Kind::Text { min, max, format } => text_answer(input, *min, *max, format.as_deref()),
            Kind::Number { integer, min, max } => number_answer(input, *integer, *min, *max),
            Kind::Boolean => match input.to_ascii_lowercase().as_str() {
                "y" | "yes" | "true" => Ok(Value::Bool(true)),
                "n" | "no" | "false" => Ok(Value::Bool(false)),
                _ => Err("answer y or n".to_owned()),
            },
            Kind::Choice(options) => pick(options, input).map(Value::String),
            Kind::Choices { options, min, max } => choices_answer(options, input, *min, *max),
        }
    }

    /// How the default is shown in the prompt: the label of an option, y/n for a boolean.
    pub(crate) fn shown_default(&self) -> Option<String> {
        let default = self.default.as_ref()?;
        let label = |v: &Value| match &self.kind {
            Kind::Choice(options) | Kind::Choices { options, .. } => options
                .iter()
                .find(|o| v.as_str() == Some(o.value.as_str()))
                .map(|o| o.label.clone()),
            _ => None,
        };
        Some(match default {
            Value::Bool(b) => if *b { "y" } else { "n" }.to_owned(),
            Value::String(s) => label(default).unwrap_or_else(|| s.clone()),
            Value::Array(items) => items
                .iter()
                .map(|v| label(v).unwrap_or_else(|| v.to_string()))
                .collect::<Vec<_>>()
                .join(", "),
            other => other.to_string(),
        })
    }
}

fn text_answer(
    input: &str,
    min: Option<u64>,
    max: Option<u64>,
    format: Option<&str>,
) -> Result<Value, String> {
    let length = input.chars().count() as u64;
    if let Some(min) = min.filter(|m| length < *m) {
        return Err(format!("at least {min} characters"));
    }
    if let Some(max) = max.filter(|m| length > *m) {
        return Err(format!("at most {max} characters"));
    }
    if let Some(format) = format {
        formats::check(format, input)?;
    }
    Ok(Value::String(input.to_owned()))
}

fn number_answer(
    input: &str,
    integer: bool,
    min: Option<f64>,
    max: Option<f64>,
) -> Result<Value, String> {
    let (value, number) = if integer {
        let n: i64 = input
            .parse()
            .map_err(|_| "a whole number, such as 42".to_owned())?;
        (Value::from(n), n as f64)
    } else {
        let n: f64 = input
            .parse()
            .ok()
            .filter(|n: &f64| n.is_finite())
            .ok_or_else(|| "a number, such as 4.5".to_owned())?;
        let value = serde_json::Number::from_f64(n).map(Value::Number);
        (value.ok_or_else(|| "a finite number".to_owned())?, n)
    };
    if let Some(min) = min.filter(|m| number < *m) {
        return Err(format!("at least {min}"));
    }
    if let Some(max) = max.filter(|m| number > *m) {
        return Err(format!("at most {max}"));
    }
    Ok(value)
}

/// An option by its number (1-based), its value or its label.
fn pick(options: &[Choice], input: &str) -> Result<String, String> {
    let by_number = input
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_sub(1))
        .and_then(|i| options.get(i));
    by_number
        .or_else(|| {
            options
                .iter()
                .find(|o| o.value == input || o.label == input)
        })
        .map(|o| o.value.clone())
        .ok_or_else(|| format!("pick a number from 1 to {}", options.len()))
}

fn choices_answer(
    options: &[Choice],
    input: &str,
    min: Option<u64>,
    max: Option<u64>,
) -> Result<Value, String> {
    let mut picked: Vec<String> = Vec::new();
    for part in input.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let value = pick(options, part)?;
        if !picked.contains(&value) {
            picked.push(value);
        }
    }
    let count = picked.len() as u64;
    if let Some(min) = min.filter(|m| count < *m) {
        return Err(format!("pick at least {min}"));
    }
    if let Some(max) = max.filter(|m| count > *m) {
        return Err(format!("pick at most {max}"));
    }
    Ok(Value::Array(
        picked.into_iter().map(Value::String).collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(property: &Value) -> Field {
        let schema = json!({"type": "object", "properties": {"f": property}, "required": ["f"]});
        fields(&schema).expect("a form").remove(0)
    }

    #[test]
    fn strings_check_length_and_format() {
        let field = one(&json!({"type": "string", "minLength": 2, "maxLength": 4}));
        assert_eq!(field.parse("abc"), Ok(json!("abc")));
        assert!(field.parse("a").is_err());
        assert!(field.parse("abcde").is_err());
        let email = one(&json!({"type": "string", "format": "email"}));
        assert!(email.parse("ada@example.org").is_ok());
        assert!(email.parse("ada").is_err());
    }

    #[test]
    fn numbers_and_integers_respect_their_bounds() {
        let int = one(&json!({"type": "integer", "minimum": 1, "maximum": 10}));
        assert_eq!(int.parse("7"), Ok(json!(7)));
        assert!(int.parse("7.5").is_err());
        assert!(int.parse("11").is_err());
        let num = one(&json!({"type": "number", "minimum": 0.5}));
        assert_eq!(num.parse("2.25"), Ok(json!(2.25)));
        assert!(num.parse("0.1").is_err());
        assert!(num.parse("NaN").is_err());
    }

    #[test]
    fn enums_are_picked_by_number_value_or_label() {
        let field = one(&json!({"type": "string", "oneOf": [
            {"const": "#f00", "title": "Red"}, {"const": "#0f0", "title": "Green"}], "default": "#0f0"}));
        assert_eq!(field.parse("1"), Ok(json!("#f00")));
        assert_eq!(field.parse("Green"), Ok(json!("#0f0")));
        assert!(field.parse("3").is_err());
        assert_eq!(field.shown_default().as_deref(), Some("Green"));
        let many = one(&json!({"type": "array", "maxItems": 2,
            "items": {"type": "string", "enum": ["a", "b", "c"]}}));
        assert_eq!(many.parse("1, c"), Ok(json!(["a", "c"])));
        assert!(many.parse("1,2,3").is_err());
    }

    #[test]
    fn booleans_take_y_or_n_and_unknown_types_are_refused() {
        let field = one(&json!({"type": "boolean", "default": false}));
        assert_eq!(field.parse("Y"), Ok(json!(true)));
        assert!(field.parse("maybe").is_err());
        assert_eq!(field.shown_default().as_deref(), Some("n"));
        let nested = json!({"properties": {"o": {"type": "object"}}});
        assert!(fields(&nested).is_err_and(|why| why.contains("\"o\"")));
    }
}
