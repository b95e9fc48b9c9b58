//! Event assembly: the field rules (`data`, `event`, `id`, `retry`) applied to each line, and
//! an event dispatched at each blank line, in order.

use std::collections::VecDeque;
use std::sync::Arc;

use super::Oversize;

/// One dispatched event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SseEvent {
    /// The last event id in force when the event was dispatched (shared with the decoder:
    /// most events carry the id they set).
    pub(crate) id: Option<Arc<str>>,
    /// The event type, `None` for the default `message` (no `event` field, an empty one or
    /// `event: message`).
    pub(crate) event: Option<String>,
    /// The data lines joined with `\n`.
    pub(crate) data: String,
}

/// The event being built from its lines, the stream's `id` and `retry` state, and the events
/// ready to be taken.
#[derive(Debug)]
pub(super) struct EventAssembler {
    limit: usize,
    data: Vec<u8>,
    has_data: bool,
    event: Option<String>,
    last_id: Option<Arc<str>>,
    retry_ms: Option<u64>,
    /// The oldest undelivered event; `more` holds any after it. A response stream carries
    /// one message, so this keeps the common case from allocating a queue.
    first: Option<SseEvent>,
    more: VecDeque<SseEvent>,
}

impl EventAssembler {
    pub(super) fn new(limit: usize) -> EventAssembler {
        EventAssembler {
            limit,
            data: Vec::new(),
            has_data: false,
            event: None,
            last_id: None,
            retry_ms: None,
            first: None,
            more: VecDeque::new(),
        }
    }

    /// Starts from a known last event id.
    pub(super) fn set_last_id(&mut self, id: Option<Arc<str>>) {
        self.last_id = id;
    }

    /// The id of the last event seen, priming events included.
    pub(super) fn last_event_id(&self) -> Option<&str> {
        self.last_id.as_deref()
    }

    /// The last `retry` value the server sent, in milliseconds.
    pub(super) fn retry_ms(&self) -> Option<u64> {
        self.retry_ms
    }

    /// How many data bytes the event being built holds (they count toward the limit).
    pub(super) fn pending_len(&self) -> usize {
        self.data.len()
    }

    /// The next complete event, if one is ready.
    pub(super) fn next_event(&mut self) -> Option<SseEvent> {
        self.first.take().or_else(|| self.more.pop_front())
    }

    /// Applies one line (its end left out): a field, a comment, or the blank line that
    /// dispatches the event.
    pub(super) fn process_line(&mut self, line: &[u8]) -> Result<(), Oversize> {
        if line.is_empty() {
            self.dispatch();
            return Ok(());
        }
        if line[0] == b':' {
            return Ok(());
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        match field {
            b"data" => {
                if self.data.len() + value.len() + 1 > self.limit {
                    return Err(Oversize { limit: self.limit });
                }
                if self.has_data {
                    self.data.push(b'\n');
                }
                self.data.extend_from_slice(value);
                self.has_data = true;
            }
            b"event" => {
                self.event = match value {
                    b"" | b"message" => None,
                    other => Some(String::from_utf8_lossy(other).into_owned()),
                };
            }
            b"id" if !value.contains(&0) => {
                self.last_id = Some(Arc::from(String::from_utf8_lossy(value).as_ref()));
            }
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                self.retry_ms = std::str::from_utf8(value).ok().and_then(|s| s.parse().ok());
            }
            _ => {}
        }
        Ok(())
    }

    fn dispatch(&mut self) {
        let event = self.event.take();
        if !self.has_data {
            return;
        }
        self.has_data = false;
        let data = match String::from_utf8(std::mem::take(&mut self.data)) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        if data.is_empty() {
            // An event whose data is empty (the priming event of 2025-11-25) carries no message.
            return;
        }
        let event = SseEvent {
            id: self.last_id.clone(),
            event,
            data,
        };
        if self.first.is_none() && self.more.is_empty() {
            self.first = Some(event);
        } else {
            self.more.push_back(event);
        }
    }
}
