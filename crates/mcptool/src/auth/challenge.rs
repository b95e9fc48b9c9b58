//! The `WWW-Authenticate` header of a 401 or 403: finding its `Bearer` challenge.
//!
//! The grammar is RFC 9110 §11.6.1 (a comma-separated list of challenges, each a scheme then
//! either a token68 or comma-separated `name=value` parameters, a value being a token or a
//! quoted string with backslash escapes); the parameters are RFC 6750 §3's and RFC 9728 §5.1's
//! `resource_metadata`. Several header lines are one list (RFC 9110 §5.3). Parsing is strict: a
//! header that breaks the grammar is an error, not a guess.

use std::collections::HashSet;

use http::HeaderValue;

/// The most bytes parsed, all `WWW-Authenticate` lines of one response together.
const MAX_HEADER_BYTES: usize = 8 * 1024;
/// How many characters of the header an error message may quote.
const EXCERPT_CHARS: usize = 24;

/// One `Bearer` challenge of a `WWW-Authenticate` header (RFC 6750, RFC 9728 §5.1).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct BearerChallenge {
    /// Where the protected resource metadata is (RFC 9728 §5.1).
    pub(crate) resource_metadata: Option<String>,
    /// The space-separated scopes the request needs (RFC 6750 §3).
    pub(crate) scope: Option<String>,
    /// The error code, e.g. `invalid_token` or `insufficient_scope` (RFC 6750 §3.1).
    pub(crate) error: Option<String>,
    /// A human-readable explanation of `error`, as the server wrote it.
    pub(crate) error_description: Option<String>,
    /// The protection space (RFC 9110 §11.5).
    pub(crate) realm: Option<String>,
}

impl BearerChallenge {
    /// The scopes of `scope`, split on spaces, empty ones dropped, duplicates removed, order kept.
    pub(crate) fn scopes(&self) -> Vec<String> {
        let mut seen = HashSet::new();
        self.scope
            .as_deref()
            .unwrap_or_default()
            .split(' ')
            .filter(|scope| !scope.is_empty() && seen.insert(*scope))
            .map(str::to_owned)
            .collect()
    }

    /// Whether `error` is `insufficient_scope` (error codes are case-sensitive, RFC 6749 §5.2).
    pub(crate) fn is_insufficient_scope(&self) -> bool {
        self.error.as_deref() == Some("insufficient_scope")
    }

    /// The Bearer challenge of a parsed one: parameters only, each at most once.
    fn from_raw(raw: RawChallenge<'_>) -> Result<BearerChallenge, String> {
        if raw.token68 {
            return Err(
                "the Bearer challenge has a bare value where `name=value` parameters \
                        belong (a parameter without a value?)"
                    .to_owned(),
            );
        }
        let mut seen = HashSet::new();
        let mut challenge = BearerChallenge::default();
        for (name, value) in raw.params {
            if !seen.insert(name.clone()) {
                return Err(format!(
                    "the Bearer challenge repeats parameter `{}`",
                    excerpt(&name)
                ));
            }
            let slot = match name.as_str() {
                "resource_metadata" => &mut challenge.resource_metadata,
                "scope" => &mut challenge.scope,
                "error" => &mut challenge.error,
                "error_description" => &mut challenge.error_description,
                "realm" => &mut challenge.realm,
                _ => continue,
            };
            *slot = Some(value);
        }
        Ok(challenge)
    }
}

/// The first Bearer challenge among the `WWW-Authenticate` values of one response.
///
/// The values are one comma-separated list of challenges, in one line or several, e.g.
/// `Basic realm="x", Bearer scope="a"`. After a comma, a token followed by `=` is a parameter
/// of the current challenge; any other token starts a new challenge (so
/// `Bearer realm="x", Negotiate` is two challenges, as RFC 9110's grammar reads it). Scheme
/// and parameter names are compared case-insensitively; values are kept as given, quoted
/// strings unescaped; unknown parameters are ignored.
///
/// `Ok(None)`: no Bearer challenge. `Err(reason)`: the header is malformed — an unterminated
/// quoted string, a parameter without a value, bytes that are not UTF-8 or not visible
/// (control or bidirectional-formatting characters), more than 8 KiB in total, a parameter
/// repeated within the Bearer challenge, or anything else the grammar does not allow. The
/// reason does not name the header; it quotes at most a short excerpt of it, with every
/// character that is not printable ASCII replaced by `?`.
pub(crate) fn bearer_challenge<'a>(
    values: impl IntoIterator<Item = &'a HeaderValue>,
) -> Result<Option<BearerChallenge>, String> {
    let header = joined(values)?;
    let challenges = Parser { s: &header, pos: 0 }.challenges()?;
    match challenges
        .into_iter()
        .find(|challenge| challenge.scheme.eq_ignore_ascii_case("bearer"))
    {
        Some(bearer) => BearerChallenge::from_raw(bearer).map(Some),
        None => Ok(None),
    }
}

/// The header lines as one list (RFC 9110 §5.3), once they are known to be small, UTF-8 and
/// free of invisible characters (HTAB aside, which the grammar allows).
fn joined<'a>(values: impl IntoIterator<Item = &'a HeaderValue>) -> Result<String, String> {
    let mut header = String::new();
    let mut total = 0usize;
    for (index, value) in values.into_iter().enumerate() {
        if value.is_empty() {
            // An empty line is an empty list element; it must not cost a separator either.
            continue;
        }
        let line_number = index + 1;
        total = total.saturating_add(value.len());
        if total > MAX_HEADER_BYTES {
            return Err(format!(
                "the challenges are longer than {MAX_HEADER_BYTES} bytes"
            ));
        }
        let line = std::str::from_utf8(value.as_bytes()).map_err(|e| {
            let at = e.valid_up_to();
            format!("the challenges are not UTF-8 (line {line_number}, byte {at})")
        })?;
        if let Some((at, _)) = line.char_indices().find(|&(_, c)| invisible(c)) {
            return Err(format!(
                "the challenges contain an invisible or control character \
                 (line {line_number}, byte {at})"
            ));
        }
        if !header.is_empty() {
            header.push_str(", ");
        }
        header.push_str(line);
    }
    Ok(header)
}

/// Control characters (but HTAB) and the characters that reorder text when it is displayed.
fn invisible(c: char) -> bool {
    let reorders = matches!(c, '\u{61c}' | '\u{200e}' | '\u{200f}')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    (c.is_control() && c != '\t') || reorders
}

/// A challenge as the grammar sees it, before anyone looks at its scheme.
#[derive(Debug)]
struct RawChallenge<'s> {
    /// The auth scheme, as written.
    scheme: &'s str,
    /// Whether the challenge carries a token68 instead of parameters.
    token68: bool,
    /// The parameters in order: lowercase name, value (quoted strings unescaped).
    params: Vec<(String, String)>,
}

/// A cursor over the joined header.
#[derive(Debug)]
struct Parser<'s> {
    /// The header.
    s: &'s str,
    /// The byte offset of the next character.
    pos: usize,
}

impl<'s> Parser<'s> {
    /// Every challenge of the list, in order (empty list elements skipped, RFC 9110 §5.6.1).
    fn challenges(mut self) -> Result<Vec<RawChallenge<'s>>, String> {
        let mut challenges: Vec<RawChallenge<'s>> = Vec::new();
        loop {
            while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
                self.pos += 1;
            }
            if self.peek().is_none() {
                return Ok(challenges);
            }
            let start = self.pos;
            let name = self.token();
            if name.is_empty() {
                return Err(self.error("expected an auth scheme or a parameter"));
            }
            let after_name = self.pos;
            self.skip_ws();
            if self.peek() == Some(b'=') {
                let current = match challenges.last_mut() {
                    Some(current) if !current.token68 => current,
                    last => {
                        self.pos = start;
                        return Err(self.error(match last {
                            None => "a parameter before any auth scheme",
                            Some(_) => {
                                "a parameter after a token68 (or after a parameter without a value)"
                            }
                        }));
                    }
                };
                current.params.push(self.param(name)?);
            } else {
                self.pos = after_name;
                challenges.push(self.challenge(name)?);
            }
            self.skip_ws();
            if !matches!(self.peek(), None | Some(b',')) {
                return Err(self.error("expected `,`"));
            }
        }
    }

    /// The rest of a challenge whose scheme was just read: nothing, a token68, or its first
    /// parameter (the others follow commas).
    fn challenge(&mut self, scheme: &'s str) -> Result<RawChallenge<'s>, String> {
        let mut challenge = RawChallenge {
            scheme,
            token68: false,
            params: Vec::new(),
        };
        if matches!(self.peek(), None | Some(b',')) {
            return Ok(challenge);
        }
        if !matches!(self.peek(), Some(b' ' | b'\t')) {
            return Err(self.error("expected a space after the auth scheme"));
        }
        self.skip_ws();
        if matches!(self.peek(), None | Some(b',')) {
            return Ok(challenge);
        }
        if let Some(len) = token68_len(&self.s[self.pos..]) {
            self.pos += len;
            challenge.token68 = true;
            return Ok(challenge);
        }
        let name = self.token();
        if name.is_empty() {
            return Err(self.error("expected a parameter name"));
        }
        challenge.params.push(self.param(name)?);
        Ok(challenge)
    }

    /// A parameter whose name was just read: `BWS "=" BWS ( token / quoted-string )`.
    fn param(&mut self, name: &str) -> Result<(String, String), String> {
        self.skip_ws();
        if self.peek() != Some(b'=') {
            return Err(self.error("expected `=` after a parameter name"));
        }
        self.pos += 1;
        self.skip_ws();
        let value = if self.peek() == Some(b'"') {
            self.quoted()?
        } else {
            let token = self.token();
            if token.is_empty() {
                return Err(self.error(&format!("parameter `{}` has no value", excerpt(name))));
            }
            token.to_owned()
        };
        Ok((name.to_ascii_lowercase(), value))
    }

    /// A quoted string starting at the cursor, unescaped (RFC 9110 §5.6.4).
    fn quoted(&mut self) -> Result<String, String> {
        let open = self.pos;
        let mut value = String::new();
        let mut chars = self.s[open + 1..].char_indices();
        while let Some((at, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos = open + 1 + at + 1;
                    return Ok(value);
                }
                '\\' => match chars.next() {
                    Some((_, escaped)) => value.push(escaped),
                    None => break,
                },
                _ => value.push(c),
            }
        }
        self.pos = open;
        Err(self.error("unterminated quoted string"))
    }

    /// The next byte, if any.
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    /// Skips optional whitespace (RFC 9110 §5.6.3).
    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    /// The token at the cursor (possibly empty), consumed.
    fn token(&mut self) -> &'s str {
        let start = self.pos;
        while self.peek().is_some_and(is_tchar) {
            self.pos += 1;
        }
        &self.s[start..self.pos]
    }

    /// The reason for an error at the cursor, with where it is and a sanitized excerpt.
    fn error(&self, what: &str) -> String {
        format!(
            "{what} at byte {} (near `{}`)",
            self.pos,
            excerpt(&self.s[self.pos..])
        )
    }
}

/// The length of the token68 at the start of `rest` (RFC 9110 §11.2), when what is there is one:
/// `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="` ending the list element.
fn token68_len(rest: &str) -> Option<usize> {
    let bytes = rest.as_bytes();
    let body = bytes
        .iter()
        .take_while(|&&b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
        .count();
    if body == 0 {
        return None;
    }
    let len = body + bytes[body..].iter().take_while(|&&b| b == b'=').count();
    let ws = bytes[len..]
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    matches!(bytes.get(len + ws), None | Some(b',')).then_some(len)
}

/// Whether `b` may appear in a token (RFC 9110 §5.6.2).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The first few characters of `text`, printable ASCII only (anything else becomes `?`).
fn excerpt(text: &str) -> String {
    let mut shown: String = text
        .chars()
        .take(EXCERPT_CHARS)
        .map(|c| {
            if c == ' ' || c.is_ascii_graphic() {
                c
            } else {
                '?'
            }
        })
        .collect();
    if text.chars().nth(EXCERPT_CHARS).is_some() {
        shown.push_str("...");
    }
    shown
}

#[cfg(test)]
mod tests;
