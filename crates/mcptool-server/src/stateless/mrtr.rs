//! Multi-round-trip requests: `input_required` results, and the retry that answers them.
//!
//! The server keeps nothing between rounds but a set of spent nonces. Everything else travels in
//! `requestState`: the answers of earlier rounds, the keys asked in the last one, what request
//! and which caller the state belongs to, an expiry and a nonce — JSON, signed with HMAC-SHA256
//! under a key drawn when the server process starts. A retry is checked against it: the MAC, the
//! expiry, the method, the name and a digest of the arguments, the caller (a digest of its
//! `Authorization` header), and the nonce, which is spent on first use.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use hmac::{Hmac, KeyInit as _, Mac as _};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use crate::rpc::RpcError;

/// The most nonces remembered at once (each for at most the state's lifetime).
const MAX_SPENT: usize = 100_000;
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Signs and checks `requestState` values, and remembers which were spent.
#[derive(Debug)]
pub(crate) struct Signer {
    key: [u8; 32],
    ttl: Duration,
    spent: Mutex<HashMap<u128, Instant>>,
}

/// What a request state binds and carries.
#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    /// The request it belongs to: method, name (tool, prompt or URI), argument digest, caller.
    method: String,
    name: String,
    args: String,
    caller: String,
    /// Answers of the earlier rounds, by key.
    answers: Map<String, Value>,
    /// The keys the last round asked for.
    asked: Vec<String>,
    /// Expiry, in milliseconds since the Unix epoch.
    expires: u64,
    nonce: String,
}

/// Which request a state may be used with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Binding {
    method: String,
    name: String,
    args: String,
    caller: String,
}

impl Binding {
    /// The binding of a request to `method`, with the caller's `Authorization` header.
    pub(super) fn of(method: &str, params: &Value, authorization: Option<&[u8]>) -> Self {
        let name = params
            .get("name")
            .or_else(|| params.get("uri"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let arguments = params.get("arguments").unwrap_or(&Value::Null);
        Self {
            method: method.to_owned(),
            name: name.to_owned(),
            args: hex_digest(canonical(arguments).as_bytes()),
            caller: authorization.map(hex_digest).unwrap_or_default(),
        }
    }
}

/// The input of one round: answers so far, and the requests this round adds.
#[derive(Debug)]
pub(super) struct Rounds {
    retry: bool,
    answers: Map<String, Value>,
    asked: Mutex<Map<String, Value>>,
}

impl Rounds {
    /// The answers a request brings: none on a first try; on a retry, those its verified
    /// `requestState` carries plus its `inputResponses` to the keys that state asked for.
    /// `binding` is made only for a retry: a first try needs none until it asks for input.
    pub(super) fn read(
        signer: &Signer,
        binding: impl FnOnce() -> Binding,
        params: &Value,
    ) -> Result<Self, Refusal> {
        let responses = match params.get("inputResponses") {
            None | Some(Value::Null) => None,
            Some(Value::Object(map)) => Some(map),
            Some(_) => return Err(Refusal::Params("inputResponses must be an object".into())),
        };
        let mut answers = Map::new();
        let retry = matches!(params.get("requestState"), Some(Value::String(_)));
        match params.get("requestState") {
            None | Some(Value::Null) if responses.is_some() => {
                return Err(Refusal::Params(
                    "inputResponses came without the requestState of the round they answer".into(),
                ));
            }
            None | Some(Value::Null) => {}
            Some(Value::String(state)) => {
                let payload = signer.verify(state, &binding())?;
                answers = payload.answers;
                for (key, value) in responses.into_iter().flatten() {
                    if !payload.asked.contains(key) {
                        return Err(Refusal::Params(format!(
                            "inputResponses has the key {key:?}, which was never asked"
                        )));
                    }
                    answers.insert(key.clone(), value.clone());
                }
            }
            Some(_) => return Err(Refusal::Params("requestState must be a string".into())),
        }
        Ok(Self {
            retry,
            answers,
            asked: Mutex::default(),
        })
    }

    /// Whether this request is a retry with a verified `requestState`.
    pub(super) fn is_retry(&self) -> bool {
        self.retry
    }

    /// The answer to `key`, when an earlier round got one.
    pub(super) fn answer(&self, key: &str) -> Option<&Value> {
        self.answers.get(key)
    }

    /// Records that this round needs the client to answer `request` under `key`.
    pub(super) fn ask(&self, key: &str, request: Value) {
        lock(&self.asked).insert(key.to_owned(), request);
    }

    /// The `input_required` result of this round, its state bound to `binding`.
    pub(super) fn input_required(&self, signer: &Signer, binding: &Binding) -> Value {
        let asked = std::mem::take(&mut *lock(&self.asked));
        let state = signer.sign(
            binding,
            self.answers.clone(),
            asked.keys().cloned().collect(),
        );
        serde_json::json!({
            "resultType": "input_required",
            "inputRequests": asked,
            "requestState": state,
        })
    }
}

/// Why a retry was refused.
#[derive(Debug)]
pub(super) enum Refusal {
    /// Malformed or inconsistent parameters.
    Params(String),
    /// A `requestState` that failed verification.
    State(String),
}

impl From<Refusal> for RpcError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Params(message) => RpcError::invalid_params(message),
            Refusal::State(message) => RpcError::invalid_params(format!("requestState {message}")),
        }
    }
}

impl Signer {
    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            key: rand::random(),
            ttl,
            spent: Mutex::default(),
        }
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes a key of any length")
    }

    fn sign(&self, binding: &Binding, answers: Map<String, Value>, asked: Vec<String>) -> String {
        let payload = Payload {
            method: binding.method.clone(),
            name: binding.name.clone(),
            args: binding.args.clone(),
            caller: binding.caller.clone(),
            answers,
            asked,
            expires: now_ms()
                .saturating_add(u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX)),
            nonce: format!("{:032x}", rand::random::<u128>()),
        };
        let body = B64.encode(serde_json::to_vec(&payload).unwrap_or_default());
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        format!("{body}.{}", B64.encode(mac.finalize().into_bytes()))
    }

    fn verify(&self, state: &str, binding: &Binding) -> Result<Payload, Refusal> {
        let tampered = || Refusal::State("failed verification (tampered or not ours)".into());
        let (body, tag) = state.split_once('.').ok_or_else(tampered)?;
        let tag = B64.decode(tag).map_err(|_| tampered())?;
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        mac.verify_slice(&tag).map_err(|_| tampered())?;
        let bytes = B64.decode(body).map_err(|_| tampered())?;
        let payload: Payload = serde_json::from_slice(&bytes).map_err(|_| tampered())?;
        if payload.expires < now_ms() {
            return Err(Refusal::State("has expired".into()));
        }
        let issued_for = Binding {
            method: payload.method.clone(),
            name: payload.name.clone(),
            args: payload.args.clone(),
            caller: payload.caller.clone(),
        };
        if issued_for != *binding {
            return Err(Refusal::State(
                "was issued for another request (method, name, arguments or caller differ)".into(),
            ));
        }
        self.spend(&payload.nonce)?;
        Ok(payload)
    }

    /// Marks a nonce spent; refuses one spent before.
    fn spend(&self, nonce: &str) -> Result<(), Refusal> {
        let nonce = u128::from_str_radix(nonce, 16)
            .map_err(|_| Refusal::State("has a malformed nonce".into()))?;
        let now = Instant::now();
        let mut spent = lock(&self.spent);
        if spent.len() >= MAX_SPENT {
            spent.retain(|_, until| *until > now);
        }
        if spent.len() >= MAX_SPENT {
            return Err(Refusal::State(
                "cannot be checked now: too many rounds in flight".into(),
            ));
        }
        if spent.insert(nonce, now + self.ttl).is_some() {
            return Err(Refusal::State("was already used (replayed)".into()));
        }
        Ok(())
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn hex_digest(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// JSON with object keys sorted at every level, so that equal arguments digest equally.
fn canonical(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let items: Vec<String> = keys
                .iter()
                .map(|k| format!("{}:{}", Value::from(k.as_str()), canonical(&map[*k])))
                .collect();
            format!("{{{}}}", items.join(","))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(canonical).collect();
            format!("[{}]", items.join(","))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn binding(args: &Value) -> Binding {
        Binding::of(
            "tools/call",
            &json!({"name": "survey", "arguments": args}),
            None,
        )
    }

    fn first_round(signer: &Signer) -> String {
        let rounds = Rounds::read(signer, || binding(&json!({})), &json!({})).expect("first");
        rounds.ask("name", json!({"method": "elicitation/create"}));
        let result = rounds.input_required(signer, &binding(&json!({})));
        result["requestState"].as_str().expect("state").to_owned()
    }

    fn retry(
        signer: &Signer,
        b: Binding,
        state: &str,
        responses: &Value,
    ) -> Result<Rounds, Refusal> {
        Rounds::read(
            signer,
            || b,
            &json!({"requestState": state, "inputResponses": responses}),
        )
    }

    #[test]
    fn a_retry_brings_the_answers_of_the_round_it_answers() {
        let signer = Signer::new(Duration::from_secs(60));
        let state = first_round(&signer);
        let rounds = retry(
            &signer,
            binding(&json!({})),
            &state,
            &json!({"name": {"action": "accept"}}),
        )
        .expect("retry");
        assert!(rounds.is_retry());
        assert_eq!(rounds.answer("name"), Some(&json!({"action": "accept"})));
    }

    #[test]
    fn tampered_replayed_foreign_and_expired_states_are_refused() {
        let signer = Signer::new(Duration::from_secs(60));
        let answer = json!({"name": {"action": "accept"}});
        let state = first_round(&signer);
        let mut forged = state.clone();
        forged.replace_range(..1, if state.starts_with('e') { "f" } else { "e" });
        assert!(
            matches!(retry(&signer, binding(&json!({})), &forged, &answer), Err(Refusal::State(m)) if m.contains("tampered"))
        );
        let other = Signer::new(Duration::from_secs(60));
        assert!(matches!(
            retry(&other, binding(&json!({})), &state, &answer),
            Err(Refusal::State(_))
        ));
        assert!(
            matches!(retry(&signer, binding(&json!({"x": 1})), &state, &answer), Err(Refusal::State(m)) if m.contains("another request"))
        );
        assert!(retry(&signer, binding(&json!({})), &state, &answer).is_ok());
        assert!(
            matches!(retry(&signer, binding(&json!({})), &state, &answer), Err(Refusal::State(m)) if m.contains("replayed"))
        );
        let expired = Signer::new(Duration::ZERO);
        let old = first_round(&expired);
        std::thread::sleep(Duration::from_millis(2));
        assert!(
            matches!(retry(&expired, binding(&json!({})), &old, &answer), Err(Refusal::State(m)) if m.contains("expired"))
        );
    }

    #[test]
    fn responses_must_answer_what_was_asked() {
        let signer = Signer::new(Duration::from_secs(60));
        let state = first_round(&signer);
        let stray = retry(&signer, binding(&json!({})), &state, &json!({"colour": {}}));
        assert!(matches!(stray, Err(Refusal::Params(m)) if m.contains("never asked")));
        let orphan = Rounds::read(
            &signer,
            || binding(&json!({})),
            &json!({"inputResponses": {}}),
        );
        assert!(matches!(orphan, Err(Refusal::Params(_))));
    }

    #[test]
    fn equal_arguments_bind_equally_whatever_their_key_order() {
        let a: Value = serde_json::from_str(r#"{"b": 1, "a": {"y": 2, "x": 3}}"#).expect("json");
        let b: Value = serde_json::from_str(r#"{"a": {"x": 3, "y": 2}, "b": 1}"#).expect("json");
        assert_eq!(binding(&a), binding(&b));
    }
}
