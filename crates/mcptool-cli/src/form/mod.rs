//! Answering elicitation on a terminal: the server's message, then one question per field of
//! its `requestedSchema`, on stderr (stdout carries results), read from stdin.
//!
//! An empty answer keeps the shown default (or skips an optional field); invalid input is
//! asked again; `:decline` or `:cancel` refuse the whole request, and the end of input
//! (Ctrl-D) cancels it.

mod field;
mod formats;

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::sync::Mutex;

use mcptool::Handler;
use serde_json::{Map, Value, json};

use self::field::{Field, Kind};

/// Whether a person can answer: stdin and stderr are both a terminal.
pub(crate) fn terminal_available() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// The elicitation handler that asks on the terminal.
pub(crate) fn handler() -> Handler {
    Handler::new(|params: Value| async move {
        let (tx, rx) = tokio::sync::oneshot::channel();
        // A plain thread, not `spawn_blocking`: a read still waiting when the command ends
        // (the server gave up on us) must not keep the runtime from shutting down.
        std::thread::spawn(move || {
            static ONE_FORM_AT_A_TIME: Mutex<()> = Mutex::new(());
            let _turn = ONE_FORM_AT_A_TIME
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let _ = tx.send(ask(&params, &mut Stdio));
        });
        Ok(rx.await.unwrap_or_else(|_| json!({"action": "cancel"})))
    })
}

/// Where the form talks: prompts out, lines in.
pub(crate) trait Terminal {
    /// Shows a line.
    fn say(&mut self, text: &str);
    /// Shows `prompt` and reads one line; `None` at the end of input.
    fn ask(&mut self, prompt: &str) -> Option<String>;
}

/// stderr and stdin.
#[derive(Debug)]
struct Stdio;

impl Terminal for Stdio {
    fn say(&mut self, text: &str) {
        eprintln!("{text}");
    }

    fn ask(&mut self, prompt: &str) -> Option<String> {
        eprint!("{prompt}");
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        match std::io::stdin().lock().read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(line),
        }
    }
}

/// What the person did with one field.
enum Answer {
    Value(Value),
    Skip,
    Decline,
    Cancel,
}

/// Runs the whole form for one `elicitation/create`; the result to send back.
pub(crate) fn ask(params: &Value, term: &mut impl Terminal) -> Value {
    let message = params["message"].as_str().unwrap_or("(no message)");
    if params["mode"].as_str().is_some_and(|m| m != "form") {
        term.say(&format!("mcptool: the server asks: {message}"));
        term.say("mcptool: declined: only form elicitation is answered here");
        return json!({"action": "decline"});
    }
    let fields = match field::fields(&params["requestedSchema"]) {
        Ok(fields) => fields,
        Err(why) => {
            term.say(&format!("mcptool: declined the server's form: {why}"));
            return json!({"action": "decline"});
        }
    };
    term.say(&format!("mcptool: the server asks: {message}"));
    term.say("  (Enter keeps the [default]; :decline or :cancel refuses; Ctrl-D cancels)");
    let mut content = Map::new();
    for field in &fields {
        match ask_field(field, term) {
            Answer::Value(value) => {
                content.insert(field.name.clone(), value);
            }
            Answer::Skip => {}
            Answer::Decline => return json!({"action": "decline"}),
            Answer::Cancel => return json!({"action": "cancel"}),
        }
    }
    json!({"action": "accept", "content": content})
}

fn ask_field(field: &Field, term: &mut impl Terminal) -> Answer {
    introduce(field, term);
    let prompt = prompt(field);
    loop {
        let Some(line) = term.ask(&prompt) else {
            term.say("");
            term.say("mcptool: end of input: the request is cancelled");
            return Answer::Cancel;
        };
        let input = line.trim();
        match input {
            ":decline" => return Answer::Decline,
            ":cancel" => return Answer::Cancel,
            "" => match (&field.default, field.required) {
                (Some(default), _) => return Answer::Value(default.clone()),
                (None, false) => return Answer::Skip,
                (None, true) => term.say("  an answer is required (or :decline / :cancel)"),
            },
            _ => match field.parse(input) {
                Ok(value) => return Answer::Value(value),
                Err(why) => term.say(&format!("  invalid: expected {why}; try again")),
            },
        }
    }
}

/// The field's description and, for an enum, its numbered options.
fn introduce(field: &Field, term: &mut impl Terminal) {
    if let Some(description) = &field.description {
        term.say(&format!("  {}: {description}", field.title));
    }
    if let Kind::Choice(options) | Kind::Choices { options, .. } = &field.kind {
        for (i, option) in options.iter().enumerate() {
            term.say(&format!("    {}) {}", i + 1, option.label));
        }
    }
}

/// `Colour (required, 1-3) [Teal]: `
fn prompt(field: &Field) -> String {
    let mut notes: Vec<String> = Vec::new();
    if field.required {
        notes.push("required".to_owned());
    }
    match &field.kind {
        Kind::Boolean => notes.push("y/n".to_owned()),
        Kind::Choice(options) => notes.push(format!("1-{}", options.len())),
        Kind::Choices { options, .. } => {
            notes.push(format!("numbers 1-{}, comma-separated", options.len()));
        }
        Kind::Number { integer: true, .. } => notes.push("whole number".to_owned()),
        Kind::Number { .. } => notes.push("number".to_owned()),
        Kind::Text {
            format: Some(format),
            ..
        } => notes.push(format.clone()),
        Kind::Text { .. } => {}
    }
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join(", "))
    };
    let default = field
        .shown_default()
        .map(|d| format!(" [{d}]"))
        .unwrap_or_default();
    format!("  {}{notes}{default}: ", field.title)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scripted answers; what was shown is kept.
    struct Script {
        lines: std::vec::IntoIter<&'static str>,
        shown: String,
    }

    impl Terminal for Script {
        fn say(&mut self, text: &str) {
            self.shown.push_str(text);
            self.shown.push('\n');
        }
        fn ask(&mut self, prompt: &str) -> Option<String> {
            self.shown.push_str(prompt);
            self.lines.next().map(str::to_owned)
        }
    }

    fn run(params: &Value, lines: Vec<&'static str>) -> (Value, String) {
        let mut script = Script {
            lines: lines.into_iter(),
            shown: String::new(),
        };
        (ask(params, &mut script), script.shown)
    }

    fn form() -> Value {
        json!({"mode": "form", "message": "About you", "requestedSchema": {"type": "object",
            "properties": {
                "name": {"type": "string", "title": "Name", "default": "Ada"},
                "age": {"type": "integer", "minimum": 0, "description": "in years"},
                "tea": {"type": "boolean"},
            }, "required": ["name", "age"]}})
    }

    #[test]
    fn defaults_apply_invalid_input_is_asked_again_and_optional_fields_may_stay_empty() {
        let (answer, shown) = run(&form(), vec!["old", "-1", "36", "", ""]);
        assert_eq!(
            answer,
            json!({"action": "accept", "content": {"name": "Ada", "age": 36}})
        );
        assert!(shown.contains("About you"), "{shown}");
        assert!(shown.contains("Name (required) [Ada]: "), "{shown}");
        assert!(shown.contains("age: in years"), "{shown}");
        assert!(
            shown.contains("invalid: expected a whole number"),
            "{shown}"
        );
        assert!(shown.contains("invalid: expected at least 0"), "{shown}");
    }

    #[test]
    fn a_required_field_without_default_must_be_answered() {
        let (answer, shown) = run(&form(), vec!["", "", "3", "", "y"]);
        assert_eq!(answer["content"]["age"], 3);
        assert_eq!(answer["content"]["name"], "Ada");
        assert_eq!(answer["content"]["tea"], true);
        assert!(shown.contains("an answer is required"), "{shown}");
    }

    #[test]
    fn decline_cancel_and_end_of_input_refuse_the_whole_request() {
        assert_eq!(
            run(&form(), vec![":decline"]).0,
            json!({"action": "decline"})
        );
        assert_eq!(
            run(&form(), vec!["Bo", ":cancel"]).0,
            json!({"action": "cancel"})
        );
        assert_eq!(run(&form(), vec!["Bo"]).0, json!({"action": "cancel"}));
    }

    #[test]
    fn url_mode_and_unsupported_schemas_are_declined_with_a_reason() {
        let url = json!({"mode": "url", "message": "Log in", "url": "https://example.org/"});
        let (answer, shown) = run(&url, vec![]);
        assert_eq!(answer, json!({"action": "decline"}));
        assert!(shown.contains("only form elicitation"), "{shown}");
        let nested =
            json!({"message": "x", "requestedSchema": {"properties": {"o": {"type": "object"}}}});
        assert_eq!(run(&nested, vec![]).0, json!({"action": "decline"}));
    }
}
