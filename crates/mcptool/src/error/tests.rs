//! Unit tests of the error type.

use super::*;

#[test]
fn error_is_one_pointer_and_thread_safe() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Error>();
    assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
}

#[test]
fn display_names_the_deadline_and_not_the_cause() {
    let e = Error::timeout(Deadline::Initialize).with_source(std::io::Error::other("inner"));
    assert_eq!(e.to_string(), "initialize timeout");
    assert!(e.is_timeout());
    assert_eq!(e.deadline(), Some(Deadline::Initialize));
    assert_eq!(
        std::error::Error::source(&e).map(|s| s.to_string()),
        Some("inner".to_owned())
    );
}
