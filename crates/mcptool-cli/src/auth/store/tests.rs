use std::fs;

use mcptool::TokenStore as _;
use serde_json::json;

use super::*;
use crate::auth::test_dir::TestDir;

const ACCESS: &str = "access-token-value-1";
const REFRESH: &str = "refresh-token-value-1";

fn tokens(resource: &str, access: &str) -> StoredTokens {
    serde_json::from_value(json!({
        "issuer": "http://127.0.0.1:9000",
        "resource": resource,
        "access_token": access,
        "expires_at": 4_000_000_000_u64,
        "refresh_token": REFRESH,
        "scopes": ["mcp:tools"],
        "token_endpoint": "http://127.0.0.1:9000/token",
        "client_id": "client-1",
    }))
    .expect("stored tokens")
}

fn client(issuer: &str) -> ClientRegistration {
    serde_json::from_value(json!({
        "issuer": issuer,
        "client_id": "client-1",
        "redirect_uris": ["http://127.0.0.1:5000/callback"],
    }))
    .expect("client registration")
}

fn store(dir: &TestDir) -> FileStore {
    FileStore::new(Some(dir.path().join("mcptool/tokens.json")))
}

/// Runs a store future (they are all ready at once).
fn now<T>(future: StoreFuture<'_, T>) -> Result<T, String> {
    futures_util::FutureExt::now_or_never(future).expect("a ready future")
}

#[test]
fn what_is_saved_is_found_again_by_another_store_on_the_file() {
    let dir = TestDir::new("store-round-trip");
    let a = "http://127.0.0.1:8080/mcp";
    now(store(&dir).save_tokens(tokens(a, ACCESS))).expect("save tokens");
    now(store(&dir).save_client(client("http://127.0.0.1:9000"))).expect("save client");

    let again = store(&dir);
    assert_eq!(now(again.tokens(a)).expect("read"), Some(tokens(a, ACCESS)));
    assert_eq!(now(again.tokens("http://127.0.0.1:8080/other")), Ok(None));
    assert_eq!(
        now(again.client("http://127.0.0.1:9000")),
        Ok(Some(client("http://127.0.0.1:9000")))
    );
    assert_eq!(now(again.client("http://127.0.0.1:9001")), Ok(None));

    let file: serde_json::Value =
        serde_json::from_slice(&fs::read(again.path().expect("path")).expect("read"))
            .expect("the file is JSON");
    assert_eq!(file["version"], 1);
    assert_eq!(file["tokens"][0]["resource"], a);
    assert_eq!(file["clients"][0]["client_id"], "client-1");
}

#[test]
fn saving_replaces_the_entry_of_that_resource_only() {
    let dir = TestDir::new("store-replace");
    let (a, b) = ("http://127.0.0.1:1/mcp", "http://127.0.0.1:2/mcp");
    let s = store(&dir);
    now(s.save_tokens(tokens(a, ACCESS))).expect("save a");
    now(s.save_tokens(tokens(b, ACCESS))).expect("save b");
    now(s.save_tokens(tokens(a, "access-token-value-2"))).expect("replace a");
    let found = now(s.tokens(a)).expect("read").expect("a kept");
    assert_eq!(found.access_token.expose(), "access-token-value-2");
    assert!(now(s.tokens(b)).expect("read").is_some());
}

#[test]
fn each_change_rereads_the_file_so_another_processs_entries_survive() {
    let dir = TestDir::new("store-merge");
    let (first, second) = (store(&dir), store(&dir));
    let (a, b) = ("http://127.0.0.1:1/mcp", "http://127.0.0.1:2/mcp");
    // `first` read the (empty) file before `second` wrote; its write must not drop b.
    assert_eq!(now(first.tokens(a)), Ok(None));
    now(second.save_tokens(tokens(b, ACCESS))).expect("second saves b");
    now(first.save_tokens(tokens(a, ACCESS))).expect("first saves a");
    assert!(now(second.tokens(a)).expect("read").is_some());
    assert!(now(first.tokens(b)).expect("read").is_some());
}

#[test]
fn logout_of_one_resource_keeps_the_others_and_the_clients() {
    let dir = TestDir::new("store-logout-one");
    let s = store(&dir);
    let (a, b) = ("http://127.0.0.1:1/mcp", "http://127.0.0.1:2/mcp");
    now(s.save_tokens(tokens(a, ACCESS))).expect("save a");
    now(s.save_tokens(tokens(b, ACCESS))).expect("save b");
    now(s.save_client(client("http://127.0.0.1:9000"))).expect("save client");

    let removed = s
        .remove_resource(a)
        .expect("remove a")
        .expect("a was there");
    assert_eq!(removed.resource, a);
    assert_eq!(s.remove_resource(a), Ok(None));
    assert_eq!(now(s.tokens(a)), Ok(None));
    assert!(now(s.tokens(b)).expect("read").is_some());
    assert!(
        now(s.client("http://127.0.0.1:9000"))
            .expect("read")
            .is_some()
    );
}

#[test]
fn logout_all_removes_the_file_even_a_corrupt_one() {
    let dir = TestDir::new("store-logout-all");
    let s = store(&dir);
    assert_eq!(s.clear(), Ok(Cleared::Nothing));
    now(s.save_tokens(tokens("http://127.0.0.1:1/mcp", ACCESS))).expect("save");
    now(s.save_client(client("http://127.0.0.1:9000"))).expect("save client");
    assert_eq!(
        s.clear(),
        Ok(Cleared::Entries {
            tokens: 1,
            clients: 1
        })
    );
    assert!(!s.path().expect("path").exists());

    fs::write(s.path().expect("path"), "{ not json").expect("corrupt it");
    assert_eq!(s.clear(), Ok(Cleared::Unreadable));
    assert!(!s.path().expect("path").exists());
}

#[test]
fn a_corrupt_file_is_an_error_that_names_it_and_the_way_out() {
    let dir = TestDir::new("store-corrupt");
    let s = store(&dir);
    let path = s.path().expect("path").to_owned();
    now(s.save_tokens(tokens("http://127.0.0.1:1/mcp", ACCESS))).expect("save");
    let bad_shapes = [
        "{ \"version\": 1, \"tokens\": [".to_owned(),
        String::new(),
        // Well-formed JSON of the wrong shape, carrying a token where an entry should be.
        format!("{{\"version\": 1, \"tokens\": [\"{ACCESS}\"]}}"),
        format!("{{\"version\": 1, \"tokens\": [{{\"access_token\": \"{ACCESS}\"}}]}}"),
        "[1, 2]".to_owned(),
    ];
    for bad in &bad_shapes {
        fs::write(&path, bad).expect("corrupt it");
        for err in [
            now(s.tokens("http://127.0.0.1:1/mcp")).expect_err("refused"),
            now(s.save_client(client("http://127.0.0.1:9000"))).expect_err("refused"),
        ] {
            assert!(err.contains(&path.display().to_string()), "{err}");
            assert!(err.contains("mcptool logout --all"), "{err}");
            assert!(!err.contains(ACCESS), "{err}");
        }
        assert_eq!(
            &fs::read_to_string(&path).expect("read"),
            bad,
            "left as it was"
        );
    }
}

#[test]
fn an_unknown_format_version_is_refused() {
    let dir = TestDir::new("store-version");
    let s = store(&dir);
    let path = s.path().expect("path").to_owned();
    fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
    private_file::write(&path, b"{\"version\": 2, \"tokens\": []}").expect("write");
    let err = now(s.tokens("http://127.0.0.1:1/mcp")).expect_err("refused");
    assert!(err.contains("format version 2"), "{err}");
}

#[cfg(unix)]
#[test]
fn a_file_others_may_read_is_refused_and_no_token_is_read_out() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = TestDir::new("store-open");
    let s = store(&dir);
    let path = s.path().expect("path").to_owned();
    now(s.save_tokens(tokens("http://127.0.0.1:1/mcp", ACCESS))).expect("save");
    assert_eq!(
        fs::metadata(&path).expect("meta").permissions().mode() & 0o777,
        0o600
    );
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");
    let err = now(s.tokens("http://127.0.0.1:1/mcp")).expect_err("refused");
    assert!(err.contains("chmod 600"), "{err}");
    assert!(!err.contains(ACCESS) && !err.contains(REFRESH), "{err}");
    // A change refuses too, rather than overwrite what it could not read.
    assert!(now(s.save_tokens(tokens("http://127.0.0.1:2/mcp", ACCESS))).is_err());
}

#[test]
fn without_a_place_it_holds_nothing_and_says_so_on_save() {
    let s = FileStore::new(None);
    assert_eq!(now(s.tokens("http://127.0.0.1:1/mcp")), Ok(None));
    let err = now(s.save_tokens(tokens("http://127.0.0.1:1/mcp", ACCESS))).expect_err("no place");
    assert!(err.contains("--token-store"), "{err}");
    assert!(!format!("{s:?}").contains(ACCESS));
}
