//! An incremental `text/event-stream` decoder with a size cap per event.
//!
//! Written here rather than taken from a crate because the transport needs two things the
//! common SSE crates do not give: a hard cap on the bytes buffered for one event (a server that
//! never ends a line must not grow our memory without bound) and direct access to the
//! `retry` and last-event-id state for resumption. It follows the WHATWG parsing rules: LF, CRLF
//! and CR line ends, comment lines, multi-line `data`, `id` with NUL ignored, numeric `retry`,
//! and events with empty data (priming events) not dispatched.
//!
//! In layers: this file cuts the bytes into lines (a split BOM, any line end, the cap on a
//! line), `event` applies the field rules to each line and assembles the events, and `stream`
//! reads an HTTP response through the decoder.

mod event;
mod stream;

use std::sync::Arc;

use event::EventAssembler;
pub(crate) use event::SseEvent;
pub(crate) use stream::SseStream;

/// A UTF-8 byte order mark, which may open the stream.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The decoder found a line or event larger than its cap.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Oversize {
    pub(crate) limit: usize,
}

/// Cuts a byte stream into lines and hands each to the event assembler.
#[derive(Debug)]
pub(crate) struct SseDecoder {
    limit: usize,
    line: Vec<u8>,
    skip_lf: bool,
    at_start: bool,
    events: EventAssembler,
}

impl SseDecoder {
    pub(crate) fn new(limit: usize) -> SseDecoder {
        SseDecoder {
            limit,
            line: Vec::new(),
            skip_lf: false,
            at_start: true,
            events: EventAssembler::new(limit),
        }
    }

    /// Starts from a known last event id (a resumed stream continues its predecessor).
    pub(crate) fn with_last_id(mut self, id: Option<String>) -> SseDecoder {
        self.events.set_last_id(id.map(Arc::from));
        self
    }

    /// The id of the last event seen, priming events included.
    pub(crate) fn last_event_id(&self) -> Option<&str> {
        self.events.last_event_id()
    }

    /// The last `retry` value the server sent, in milliseconds.
    pub(crate) fn retry_ms(&self) -> Option<u64> {
        self.events.retry_ms()
    }

    /// The next complete event, if one is ready.
    pub(crate) fn next_event(&mut self) -> Option<SseEvent> {
        self.events.next_event()
    }

    /// Feeds bytes; complete events become available through [`SseDecoder::next_event`].
    pub(crate) fn feed(&mut self, chunk: &[u8]) -> Result<(), Oversize> {
        let Some(mut chunk) = self.skip_bom(chunk)? else {
            return Ok(());
        };
        while !chunk.is_empty() {
            if self.skip_lf {
                self.skip_lf = false;
                if chunk[0] == b'\n' {
                    chunk = &chunk[1..];
                    continue;
                }
            }
            match memchr::memchr2(b'\n', b'\r', chunk) {
                // The whole line is in this chunk: process it where it is, without a copy.
                Some(pos) if self.line.is_empty() => {
                    if pos + self.events.pending_len() > self.limit {
                        return Err(Oversize { limit: self.limit });
                    }
                    self.skip_lf = chunk[pos] == b'\r';
                    self.events.process_line(&chunk[..pos])?;
                    chunk = &chunk[pos + 1..];
                }
                Some(pos) => {
                    self.push_line_bytes(&chunk[..pos])?;
                    self.skip_lf = chunk[pos] == b'\r';
                    self.events.process_line(&self.line)?;
                    self.line.clear();
                    chunk = &chunk[pos + 1..];
                }
                None => {
                    self.push_line_bytes(chunk)?;
                    chunk = &[];
                }
            }
        }
        Ok(())
    }

    /// Drops the byte order mark that may open the stream, possibly split across chunks: the
    /// start of one is held in `line` until the rest shows whether it is one. `None` when
    /// nothing of `chunk` is left to feed (held, or fed already after a false start).
    fn skip_bom<'c>(&mut self, mut chunk: &'c [u8]) -> Result<Option<&'c [u8]>, Oversize> {
        if self.at_start && self.line.is_empty() && chunk.len() >= BOM.len() {
            // The whole mark, or its absence, is in this chunk: nothing to hold back.
            self.at_start = false;
            chunk = chunk.strip_prefix(BOM).unwrap_or(chunk);
        }
        if self.at_start {
            let have = self.line.len();
            let take = chunk.len().min(BOM.len() - have);
            self.line.extend_from_slice(&chunk[..take]);
            if BOM.starts_with(&self.line) {
                chunk = &chunk[take..];
                if self.line.len() < BOM.len() {
                    return Ok(None);
                }
                self.line.clear();
            } else {
                // Not a BOM: put the held bytes back in front of the rest.
                let mut held = std::mem::take(&mut self.line);
                held.truncate(have);
                self.at_start = false;
                self.feed(&held)?;
                self.feed(chunk)?;
                return Ok(None);
            }
            self.at_start = false;
        }
        Ok(Some(chunk))
    }

    fn push_line_bytes(&mut self, bytes: &[u8]) -> Result<(), Oversize> {
        if self.line.len() + self.events.pending_len() + bytes.len() > self.limit {
            return Err(Oversize { limit: self.limit });
        }
        self.line.extend_from_slice(bytes);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(chunks: &[&[u8]]) -> (Vec<SseEvent>, SseDecoder) {
        let mut d = SseDecoder::new(1024);
        let mut out = Vec::new();
        for c in chunks {
            d.feed(c).expect("within limit");
            while let Some(e) = d.next_event() {
                out.push(e);
            }
        }
        (out, d)
    }

    #[test]
    fn an_empty_or_message_event_field_is_the_default_type() {
        let (events, _) = decode_all(&[
            b"event: message\ndata: a\n\nevent:\ndata: b\n\nevent: endpoint\ndata: c\n\n",
        ]);
        let kinds: Vec<_> = events.iter().map(|e| e.event.as_deref()).collect();
        assert_eq!(kinds, [None, None, Some("endpoint")]);
    }

    #[test]
    fn events_come_out_in_order_however_many_wait() {
        let mut d = SseDecoder::new(1024);
        d.feed(b"data: 1\n\ndata: 2\n\n").expect("fits");
        assert_eq!(d.next_event().map(|e| e.data).as_deref(), Some("1"));
        d.feed(b"data: 3\n\n").expect("fits");
        let rest: Vec<_> = std::iter::from_fn(|| d.next_event())
            .map(|e| e.data)
            .collect();
        assert_eq!(rest, ["2", "3"]);
        d.feed(b"data: 4\n\n").expect("fits");
        assert_eq!(d.next_event().map(|e| e.data).as_deref(), Some("4"));
        assert_eq!(d.next_event(), None);
    }

    #[test]
    fn skips_priming_event_and_keeps_its_id_and_retry() {
        let (events, d) =
            decode_all(&[b"id: s1-0\nretry: 250\ndata:\n\nid: s1-1\ndata: {\"a\":1}\n\n"]);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].id.as_deref(), Some("s1-1"));
        assert_eq!(events[0].event, None);
        assert_eq!(events[0].data, "{\"a\":1}");
        assert_eq!(d.retry_ms(), Some(250));
        assert_eq!(d.last_event_id(), Some("s1-1"));
    }

    #[test]
    fn handles_every_line_ending_split_anywhere() {
        let text: &[u8] = b": comment\r\nevent: update\rdata: one\r\ndata: two\n\r\ndata: x\r\r";
        for split in 0..text.len() {
            let (a, b) = text.split_at(split);
            let (events, _) = decode_all(&[a, b]);
            assert_eq!(events.len(), 2, "split at {split}");
            assert_eq!(events[0].data, "one\ntwo");
            assert_eq!(events[0].event.as_deref(), Some("update"));
            assert_eq!(events[1].event, None);
            assert_eq!(events[1].data, "x");
        }
    }

    #[test]
    fn every_byte_by_itself_gives_the_same_events() {
        let text: &[u8] = b"\xEF\xBB\xBFdata: {\"k\":\"v\"}\n\nid\ndata:  spaced\n\n";
        let bytes: Vec<&[u8]> = text.chunks(1).collect();
        let (events, d) = decode_all(&bytes);
        assert_eq!(events[0].data, "{\"k\":\"v\"}");
        assert_eq!(events[1].data, " spaced");
        assert_eq!(d.last_event_id(), Some(""));
    }

    #[test]
    fn ignores_bad_retry_and_ids_with_nul() {
        let (events, d) = decode_all(&[b"retry: 12x\nid: a\0b\ndata: 1\n\n"]);
        assert_eq!(d.retry_ms(), None);
        assert_eq!(events[0].id, None);
    }

    #[test]
    fn refuses_a_line_over_the_limit() {
        let mut d = SseDecoder::new(16);
        assert_eq!(d.feed(b"data: 0123456789"), Ok(()));
        assert_eq!(d.feed(b"abcdef"), Err(Oversize { limit: 16 }));
    }

    #[test]
    fn refuses_an_event_whose_data_lines_add_up_over_the_limit() {
        let mut d = SseDecoder::new(16);
        d.feed(b"data: 0123456\n").expect("first line fits");
        assert!(d.feed(b"data: 0123456789\n").is_err());
    }

    /// The lines of a whole input, the way the reference reads them: a BOM dropped, then cut
    /// at every LF, CRLF and CR.
    fn reference_lines(input: &[u8]) -> Vec<&[u8]> {
        let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
        let mut lines = Vec::new();
        let (mut start, mut i) = (0, 0);
        while i < input.len() {
            match input[i] {
                b'\n' => {
                    lines.push(&input[start..i]);
                    i += 1;
                    start = i;
                }
                b'\r' => {
                    lines.push(&input[start..i]);
                    i += 1;
                    if input.get(i) == Some(&b'\n') {
                        i += 1;
                    }
                    start = i;
                }
                _ => i += 1,
            }
        }
        lines
    }

    /// What a stream means, worked out the plain way: the whole input at once, split into
    /// lines, each line read by the field rules. The decoder must agree with it however the
    /// input is cut into chunks.
    fn reference(input: &[u8]) -> (Vec<SseEvent>, Option<Arc<str>>, Option<u64>) {
        let (mut events, mut id, mut retry) = (Vec::new(), None, None);
        let (mut data, mut has_data, mut event) = (Vec::<u8>::new(), false, None);
        for line in reference_lines(input) {
            if line.is_empty() {
                let name = event.take();
                if std::mem::take(&mut has_data) && !data.is_empty() {
                    events.push(SseEvent {
                        id: id.clone(),
                        event: name,
                        data: String::from_utf8_lossy(&data).into_owned(),
                    });
                }
                data.clear();
                continue;
            }
            if line[0] == b':' {
                continue;
            }
            let (field, value) = match line.iter().position(|&b| b == b':') {
                Some(c) => (
                    &line[..c],
                    line[c + 1..].strip_prefix(b" ").unwrap_or(&line[c + 1..]),
                ),
                None => (line, &[][..]),
            };
            match field {
                b"data" => {
                    if has_data {
                        data.push(b'\n');
                    }
                    data.extend_from_slice(value);
                    has_data = true;
                }
                b"event" if value.is_empty() || value == b"message" => event = None,
                b"event" => event = Some(String::from_utf8_lossy(value).into_owned()),
                b"id" if !value.contains(&0) => {
                    id = Some(Arc::from(String::from_utf8_lossy(value).as_ref()))
                }
                b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                    retry = std::str::from_utf8(value).ok().and_then(|v| v.parse().ok());
                }
                _ => {}
            }
        }
        (events, id, retry)
    }

    /// A random stream built from the pieces that matter to the parser.
    fn random_stream(rng: &mut impl rand::Rng) -> Vec<u8> {
        const PIECES: &[&[u8]] = &[
            b"data",
            b"data:",
            b"data: ",
            b"id: ",
            b"id:",
            b"event: ",
            b"message",
            b"retry: ",
            b"retry:12",
            b":",
            b": c",
            b" ",
            b"\n",
            b"\r",
            b"\r\n",
            b"\n\n",
            b"{\"a\":1}",
            b"x",
            b"42",
            b"\0",
            b"\xEF\xBB\xBF",
            b"\xEF\xBB",
            b"\xFF",
            b"\xC3\xA9",
        ];
        let mut out = Vec::new();
        for _ in 0..rng.random_range(0..40) {
            out.extend_from_slice(PIECES[rng.random_range(0..PIECES.len())]);
        }
        out
    }

    #[test]
    fn random_streams_cut_anywhere_decode_as_the_reference_says() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(0x55E);
        for case in 0..5_000 {
            let input = random_stream(&mut rng);
            let mut cuts: Vec<usize> = (0..rng.random_range(0..6))
                .map(|_| rng.random_range(0..=input.len()))
                .collect();
            cuts.sort_unstable();
            let mut chunks = Vec::new();
            let mut from = 0;
            for cut in cuts {
                chunks.push(&input[from..cut]);
                from = cut;
            }
            chunks.push(&input[from..]);
            let (events, d) = decode_all(&chunks);
            let (want, id, retry) = reference(&input);
            assert_eq!(
                events,
                want,
                "case {case}: {:?} in {chunks:?}",
                String::from_utf8_lossy(&input)
            );
            assert_eq!(d.last_event_id(), id.as_deref(), "case {case}");
            assert_eq!(d.retry_ms(), retry, "case {case}");
        }
    }

    #[test]
    fn random_streams_under_a_small_limit_fail_cleanly_or_decode() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(0x11);
        for _ in 0..5_000 {
            let input = random_stream(&mut rng);
            let limit = rng.random_range(0..24);
            let mut d = SseDecoder::new(limit);
            for chunk in input.chunks(rng.random_range(1..8)) {
                match d.feed(chunk) {
                    Ok(()) => {
                        while let Some(event) = d.next_event() {
                            assert!(event.data.len() <= limit, "{event:?} over {limit}");
                        }
                    }
                    Err(e) => {
                        assert_eq!(e, Oversize { limit });
                        break;
                    }
                }
            }
        }
    }
}
