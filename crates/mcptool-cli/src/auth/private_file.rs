//! A file only its owner may read: created 0600 in a directory created 0700, refused on read
//! when its mode lets the group or others in, and replaced atomically (a temp file beside it,
//! fsync, rename), so a reader sees the old contents or the new, never half of either.
//!
//! Messages name the file and the operating system's reason; they never carry its contents.
//! The modes are Unix ones; elsewhere the file has the default permissions of its directory.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read as _, Write as _};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// Reads the file: `None` when it does not exist; an error, without reading a byte, when
/// anyone but its owner may read or write it.
pub(crate) fn read(path: &Path) -> Result<Option<Vec<u8>>, String> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot open {}: {e}", path.display())),
    };
    // The handle's own metadata: the file checked is the file read.
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot inspect {}: {e}", path.display()))?;
    if !meta.is_file() {
        return Err(format!("{} is not a regular file", path.display()));
    }
    check_private(path, &meta)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(Some(bytes))
}

#[cfg(unix)]
fn check_private(path: &Path, meta: &fs::Metadata) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(format!(
            "{} may be read by other users (mode {mode:04o}), so its tokens were not read: \
             run `chmod 600 {}`",
            path.display(),
            path.display()
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path, _meta: &fs::Metadata) -> Result<(), String> {
    Ok(())
}

/// Replaces the file with `bytes`: a temp file in the same directory (0600), fsync, rename
/// over the old one, fsync of the directory. Creates the directory (0700) if needed.
pub(crate) fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    create_dir(dir)?;
    let name = path
        .file_name()
        .map_or_else(|| "store".into(), |n| n.to_string_lossy().into_owned());
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let temp = dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let written = write_new(&temp, bytes).and_then(|()| fs::rename(&temp, path));
    if let Err(e) = written {
        let _ = fs::remove_file(&temp);
        return Err(format!("cannot write {}: {e}", path.display()));
    }
    // The rename is durable once the directory is; not every platform can sync one.
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Removes the file; whether there was one.
pub(crate) fn remove(path: &Path) -> Result<bool, String> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(format!("cannot remove {}: {e}", path.display())),
    }
}

fn write_new(temp: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(temp)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn create_dir(dir: &Path) -> Result<(), String> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| format!("cannot create the directory {}: {e}", dir.display()))
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;
    use crate::auth::test_dir::TestDir;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).expect("metadata").permissions().mode() & 0o777
    }

    #[test]
    fn a_new_file_is_0600_in_a_new_0700_directory() {
        let dir = TestDir::new("private-create");
        let path = dir.path().join("mcptool/tokens.json");
        write(&path, b"{}").expect("write");
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&dir.path().join("mcptool")), 0o700);
        assert_eq!(read(&path).expect("read").as_deref(), Some(&b"{}"[..]));
    }

    #[test]
    fn a_missing_file_reads_as_none() {
        let dir = TestDir::new("private-missing");
        assert_eq!(read(&dir.path().join("absent.json")).expect("read"), None);
    }

    #[test]
    fn a_file_others_may_read_is_refused_with_the_chmod_to_run() {
        let dir = TestDir::new("private-open");
        let path = dir.path().join("tokens.json");
        fs::write(&path, "secret-token-value").expect("write");
        for open in [0o644, 0o640, 0o606, 0o660] {
            fs::set_permissions(&path, fs::Permissions::from_mode(open)).expect("chmod");
            let err = read(&path).expect_err("refused");
            assert!(
                err.contains(&format!("chmod 600 {}", path.display())),
                "{err}"
            );
            assert!(err.contains(&format!("{open:04o}")), "{err}");
            assert!(!err.contains("secret-token-value"), "{err}");
        }
    }

    #[test]
    fn writes_replace_the_file_whole_and_leave_no_temp_file() {
        let dir = TestDir::new("private-atomic");
        let path = dir.path().join("tokens.json");
        write(&path, b"old contents").expect("first write");
        // An existing file with a wider mode is replaced by a fresh 0600 one.
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");
        write(&path, b"new").expect("second write");
        assert_eq!(fs::read(&path).expect("read"), b"new");
        assert_eq!(mode(&path), 0o600);
        let names: Vec<String> = fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["tokens.json"]);
    }

    #[test]
    fn a_failed_write_keeps_the_old_file() {
        let dir = TestDir::new("private-failed");
        let path = dir.path().join("tokens.json");
        write(&path, b"kept").expect("write");
        // A directory where the file should go cannot be renamed over: the write fails.
        let blocked = dir.path().join("blocked");
        fs::create_dir(&blocked).expect("mkdir");
        fs::write(blocked.join("x"), b"").expect("fill");
        assert!(write(&blocked, b"new").is_err());
        assert_eq!(fs::read(&path).expect("read"), b"kept");
        let temps = fs::read_dir(dir.path())
            .expect("list")
            .filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            })
            .count();
        assert_eq!(temps, 0, "the temp file is removed after a failure");
    }

    #[test]
    fn remove_says_whether_there_was_a_file() {
        let dir = TestDir::new("private-remove");
        let path = dir.path().join("tokens.json");
        write(&path, b"{}").expect("write");
        assert_eq!(remove(&path), Ok(true));
        assert_eq!(remove(&path), Ok(false));
    }
}
