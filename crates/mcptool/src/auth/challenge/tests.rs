//! Unit tests of the `WWW-Authenticate` parser.

use super::*;

/// The Bearer challenge of one header line.
fn parse(line: &str) -> Result<Option<BearerChallenge>, String> {
    parse_lines(&[line])
}

/// The Bearer challenge of several header lines of one response.
fn parse_lines(lines: &[&str]) -> Result<Option<BearerChallenge>, String> {
    let values: Vec<HeaderValue> = lines
        .iter()
        .map(|line| HeaderValue::from_str(line).expect("a valid header value"))
        .collect();
    bearer_challenge(&values)
}

/// The Bearer challenge of a line that must have one.
fn bearer(line: &str) -> BearerChallenge {
    parse(line)
        .unwrap_or_else(|e| panic!("{line:?}: {e}"))
        .unwrap_or_else(|| panic!("{line:?}: no Bearer challenge"))
}

fn some(value: &str) -> Option<String> {
    Some(value.to_owned())
}

#[test]
fn the_spec_401_example_gives_resource_metadata_and_scope() {
    let c = bearer(
        "Bearer resource_metadata=\"https://mcp.example.com/.well-known/oauth-protected-resource\", \
         scope=\"files:read\"",
    );
    assert_eq!(
        c,
        BearerChallenge {
            resource_metadata: some("https://mcp.example.com/.well-known/oauth-protected-resource"),
            scope: some("files:read"),
            ..BearerChallenge::default()
        }
    );
    assert!(!c.is_insufficient_scope());
}

#[test]
fn the_spec_403_example_is_an_insufficient_scope_challenge() {
    let c = bearer(
        "Bearer error=\"insufficient_scope\", scope=\"files:read files:write user:profile\", \
         resource_metadata=\"https://mcp.example.com/.well-known/oauth-protected-resource\", \
         error_description=\"Additional file write permission required\"",
    );
    assert!(c.is_insufficient_scope());
    assert_eq!(c.scopes(), ["files:read", "files:write", "user:profile"]);
    assert_eq!(
        c.error_description,
        some("Additional file write permission required")
    );
}

#[test]
fn the_rfc6750_example_fills_realm_error_and_description() {
    let c = bearer(
        "Bearer realm=\"example\", error=\"invalid_token\", \
         error_description=\"The access token expired\"",
    );
    assert_eq!(c.realm, some("example"));
    assert_eq!(c.error, some("invalid_token"));
    assert_eq!(c.error_description, some("The access token expired"));
    assert_eq!(c.scope, None);
}

#[test]
fn a_bearer_challenge_after_another_in_one_line_keeps_only_its_own_parameters() {
    let c = bearer("Basic realm=\"x\", Bearer scope=\"a\"");
    assert_eq!(c.scope, some("a"));
    assert_eq!(c.realm, None);
    let c = bearer("Bearer scope=\"a\", Basic realm=\"x\", charset=\"UTF-8\"");
    assert_eq!(c.realm, None);
    assert_eq!(c.scope, some("a"));
}

#[test]
fn challenges_on_several_lines_are_one_list() {
    let c = parse_lines(&[
        "Basic realm=\"x\"",
        "Bearer scope=\"a\", error=\"invalid_token\"",
    ])
    .expect("valid")
    .expect("a Bearer challenge");
    assert_eq!(c.scope, some("a"));
    assert_eq!(c.error, some("invalid_token"));
    let none = parse_lines(&["Basic realm=\"x\"", "Negotiate"]).expect("valid");
    assert_eq!(none, None);
}

#[test]
fn the_first_bearer_challenge_wins() {
    let c = parse_lines(&["Bearer scope=\"first\"", "Bearer scope=\"second\""])
        .expect("valid")
        .expect("a Bearer challenge");
    assert_eq!(c.scope, some("first"));
}

#[test]
fn a_bearer_challenge_may_have_no_parameters() {
    for line in [
        "Bearer",
        "Bearer ",
        "Basic realm=\"x\", Bearer",
        "Bearer, Basic realm=\"x\"",
        "Bearer , Negotiate",
    ] {
        assert_eq!(bearer(line), BearerChallenge::default(), "{line:?}");
    }
}

#[test]
fn a_token68_of_another_scheme_is_skipped() {
    let c = bearer("Negotiate YIIB+w/9==, Bearer scope=\"a\"");
    assert_eq!(c.scope, some("a"));
    let c = bearer("Basic dXNlcjpwYXNz , Bearer realm=r");
    assert_eq!(c.realm, some("r"));
    let c = parse_lines(&["Basic dXNlcjpwYXNz", "Bearer scope=a"]).expect("valid");
    assert_eq!(c.expect("a Bearer challenge").scope, some("a"));
}

#[test]
fn no_bearer_challenge_is_none() {
    assert_eq!(parse("Basic realm=\"Bearer scope=x\""), Ok(None));
    assert_eq!(parse(""), Ok(None));
    assert_eq!(parse(" , ,"), Ok(None));
    assert_eq!(parse_lines(&[]), Ok(None));
    assert_eq!(parse("Bearerx scope=a"), Ok(None));
}

#[test]
fn quoted_strings_are_unescaped() {
    let c = bearer(r#"Bearer error_description="say \"hi\", then \\o/ \a", realm="""#);
    assert_eq!(c.error_description, some(r#"say "hi", then \o/ a"#));
    assert_eq!(c.realm, some(""));
}

#[test]
fn scheme_and_parameter_names_ignore_case_and_values_keep_it() {
    let c = bearer("bEaReR SCOPE=\"Files:Read\", Resource_Metadata=\"https://X.example/M\"");
    assert_eq!(c.scope, some("Files:Read"));
    assert_eq!(c.resource_metadata, some("https://X.example/M"));
}

#[test]
fn token_values_are_kept_as_given() {
    let c = bearer("Bearer error=invalid_token, scope=files.read, realm=a.b~c");
    assert_eq!(c.error, some("invalid_token"));
    assert_eq!(c.scope, some("files.read"));
    assert_eq!(c.realm, some("a.b~c"));
}

#[test]
fn unknown_parameters_are_ignored() {
    let c = bearer("Bearer charset=\"UTF-8\", scope=\"a\", x-custom=1, algs=\"ES256 RS256\"");
    assert_eq!(
        c,
        BearerChallenge {
            scope: some("a"),
            ..BearerChallenge::default()
        }
    );
}

#[test]
fn whitespace_around_equals_and_commas_and_empty_elements_are_allowed() {
    for line in [
        "Bearer   scope = \"a\" ,error= x ,  realm =\"r\"",
        "\t Bearer\tscope=\"a\",\terror=x,realm=r \t",
        ",, Bearer ,, scope=\"a\" ,, error=x,realm=r ,,",
        "Basic realm=\"b\" ,Bearer scope =a, error =\tx , realm= r",
    ] {
        let c = bearer(line);
        assert_eq!(c.scope, some("a"), "{line:?}");
        assert_eq!(c.error, some("x"), "{line:?}");
        assert_eq!(c.realm, some("r"), "{line:?}");
    }
}

#[test]
fn utf8_and_tabs_inside_quoted_strings_are_kept() {
    let c = bearer("Bearer error_description=\"caf\u{e9}\tau lait\"");
    assert_eq!(c.error_description, some("caf\u{e9}\tau lait"));
}

#[test]
fn every_malformed_header_is_an_error_that_says_why() {
    let (unterminated, bare) = ("unterminated quoted string", "bare value");
    let (no_value, after_token68) = ("`scope` has no value", "a parameter after a token68");
    let (repeats, comma) = ("repeats parameter `scope`", "expected `,`");
    let (space, name) = (
        "expected a space after the auth scheme",
        "expected a parameter name",
    );
    for (line, why) in [
        ("Bearer scope=\"a", unterminated),
        ("Bearer scope=\"a\\", unterminated),
        ("Bearer scope=", bare),
        ("Bearer scope", bare),
        ("Bearer scope= , realm=\"x\"", after_token68),
        ("Bearer scope, realm=\"x\"", after_token68),
        ("Negotiate abc==, realm=\"x\"", after_token68),
        ("Bearer realm=\"x\", scope=", no_value),
        ("Bearer realm=x, scope= , error=e", no_value),
        ("Bearer scope \"a\"", "expected `=`"),
        ("Bearer scope=\"a\", scope=\"b\"", repeats),
        ("Bearer scope=\"a\", SCOPE=\"a\"", repeats),
        ("Bearer x=1, realm=r, X=2", "repeats parameter `x`"),
        ("scope=\"a\", Bearer", "a parameter before any auth scheme"),
        ("Bearer scope=\"a\" error=\"b\"", comma),
        ("Bearer scope=\"a\"; error=\"b\"", comma),
        ("Bearer scope=a\"b\"", comma),
        ("Bearer\"a\"", space),
        ("Bearer scope=\"a\", Basic\"x\"", space),
        ("Bearer @", name),
        ("Bearer x=1, @", "expected an auth scheme or a parameter"),
        // BWS is allowed before `=`: this is a parameter named `Bearer`, not a challenge.
        ("Bearer =\"a\"", "a parameter before any auth scheme"),
        ("Bearer scope=\"\u{9b}31m\"", "control character"),
        ("Bearer scope=\"a\u{202e}b\"", "control character"),
        // Outside quotes only token characters: no UTF-8, no `:` or `/` (RFC 9110 §5.6.2).
        ("Bearer scope=caf\u{e9}", comma),
        ("Bearer scope=files:read", comma),
        ("Bearer resource_metadata=https://a.example/m", comma),
    ] {
        let err = parse(line).expect_err(line);
        assert!(err.contains(why), "{line:?}: {err}");
    }
}

#[test]
fn a_repeated_parameter_of_another_scheme_is_not_the_bearer_challenges_concern() {
    let c = bearer("Basic realm=\"a\", realm=\"b\", Bearer scope=\"x\"");
    assert_eq!(c.scope, some("x"));
}

#[test]
fn bytes_that_are_not_utf8_are_an_error() {
    let value = HeaderValue::from_bytes(b"Bearer scope=\"\xff\xfe\"").expect("obs-text is valid");
    let ok = HeaderValue::from_static("Basic realm=x");
    let err = bearer_challenge([&ok, &value]).expect_err("not UTF-8");
    assert!(err.contains("UTF-8 (line 2, byte 14)"), "{err}");
}

#[test]
fn eight_kib_in_total_are_parsed_and_one_byte_more_is_refused() {
    let prefix = "Bearer scope=\"";
    let fill = MAX_HEADER_BYTES - prefix.len() - 1;
    let exact = format!("{prefix}{}\"", "a".repeat(fill));
    assert_eq!(exact.len(), MAX_HEADER_BYTES);
    assert_eq!(bearer(&exact).scope.map(|s| s.len()), Some(fill));
    let over = format!("{prefix}{}\"", "a".repeat(fill + 1));
    let err = parse(&over).expect_err("too long");
    assert!(err.len() < 100, "{err}");
    let half = format!("Basic realm=\"{}\"", "b".repeat(MAX_HEADER_BYTES / 2));
    let err = parse_lines(&[&half, &half, "Bearer"]).expect_err("too long in total");
    assert!(err.contains("8192"), "{err}");
    let empty_lines = vec![""; 10_000];
    assert_eq!(parse_lines(&empty_lines), Ok(None));
}

#[test]
fn errors_quote_only_a_short_sanitized_excerpt() {
    let secret = "s3cr3t".repeat(100);
    let line = format!("Bearer error_description=\"caf\u{e9}\u{1f600} {secret}");
    let err = parse(&line).expect_err("unterminated");
    assert!(
        err.starts_with("unterminated quoted string at byte 25"),
        "{err}"
    );
    assert!(err.len() < 100, "{err}");
    assert!(!err.contains(&secret[..EXCERPT_CHARS * 2]), "{err}");
    assert!(
        err.chars().all(|c| c == ' ' || c.is_ascii_graphic()),
        "{err}"
    );
    let err = parse(&format!("Bearer x=\"a\u{85}{secret}\"")).expect_err("control");
    assert!(!err.contains("s3cr3t"), "{err}");
    assert!(
        err.chars().all(|c| c == ' ' || c.is_ascii_graphic()),
        "{err}"
    );
}

#[test]
fn scopes_are_split_on_spaces_without_empties_or_duplicates_in_order() {
    let c = bearer("Bearer scope=\"b a  b c  a \"");
    assert_eq!(c.scopes(), ["b", "a", "c"]);
    assert!(bearer("Bearer scope=\"\"").scopes().is_empty());
    assert!(bearer("Bearer realm=r").scopes().is_empty());
}

#[test]
fn insufficient_scope_is_recognised_exactly() {
    assert!(bearer("Bearer error=insufficient_scope").is_insufficient_scope());
    assert!(!bearer("Bearer error=\"INSUFFICIENT_SCOPE\"").is_insufficient_scope());
    assert!(!bearer("Bearer error=\"invalid_token\"").is_insufficient_scope());
    assert!(!bearer("Bearer").is_insufficient_scope());
}
