//! Multi-round-trip requests (2026-07-28): the input a server asks for in an
//! `input_required` result, fulfilled through the same elicitation, sampling and roots
//! handlers that answer the session era's server requests.

use serde_json::{Map, Value};

use super::shared::Shared;
use crate::error::Error;
use crate::protocol::modern::{InputRequired, codes};

/// How many input requests one round may carry.
const MAX_INPUTS: usize = 32;

impl Shared {
    /// Answers every input request of one round through our handlers.
    pub(crate) async fn fulfil(&self, input: &InputRequired) -> Result<Map<String, Value>, Error> {
        if input.input_requests.len() > MAX_INPUTS {
            return Err(Error::protocol(format!(
                "the server asked for {} inputs at once (at most {MAX_INPUTS})",
                input.input_requests.len()
            )));
        }
        let mut responses = Map::new();
        for (key, request) in input.requests() {
            let capability = match request.method.as_str() {
                "elicitation/create" => "elicitation",
                "sampling/createMessage" => "sampling",
                "roots/list" => "roots",
                other => {
                    return Err(Error::protocol(format!(
                        "the server asked for input by {other:?}, which is not an input request"
                    )));
                }
            };
            match self
                .handlers
                .answer(&request.method, Some(request.params))
                .await
            {
                Ok(answer) => {
                    responses.insert(key.to_owned(), answer);
                }
                Err(e) if e.code == codes::METHOD_NOT_FOUND => {
                    return Err(Error::config(format!(
                        "the server needs {capability} input ({}) but this client has no {capability} handler",
                        request.method
                    )));
                }
                Err(e) => return Err(Error::rpc(e)),
            }
        }
        Ok(responses)
    }
}
