//! Where the token store lives: `--token-store FILE` (or `MCPTOOL_TOKEN_STORE`), else
//! `$XDG_CONFIG_HOME/mcptool/tokens.json`, else `$HOME/.config/mcptool/tokens.json`
//! (`%APPDATA%\mcptool\tokens.json` on Windows).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The store's path: the flag's, else the user's config directory's; `None` when neither is
/// known (no `HOME`).
pub(crate) fn store_path(flag: Option<&Path>) -> Option<PathBuf> {
    match flag {
        Some(path) => Some(path.to_owned()),
        None => default_path(|name| std::env::var_os(name)),
    }
}

/// The default path, from the environment `var` reads.
fn default_path(var: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    // The XDG spec ignores a relative XDG_CONFIG_HOME; so do we.
    let absolute = |name: &str| var(name).map(PathBuf::from).filter(|p| p.is_absolute());
    let config = if cfg!(windows) {
        absolute("APPDATA")
    } else {
        absolute("XDG_CONFIG_HOME").or_else(|| absolute("HOME").map(|h| h.join(".config")))
    }?;
    Some(config.join("mcptool").join("tokens.json"))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn xdg_config_home_comes_first_then_home() {
        let both = env(&[("XDG_CONFIG_HOME", "/x/conf"), ("HOME", "/home/u")]);
        assert_eq!(
            default_path(both),
            Some(PathBuf::from("/x/conf/mcptool/tokens.json"))
        );
        let home = env(&[("HOME", "/home/u")]);
        assert_eq!(
            default_path(home),
            Some(PathBuf::from("/home/u/.config/mcptool/tokens.json"))
        );
    }

    #[test]
    fn relative_or_missing_directories_are_ignored() {
        let relative = env(&[("XDG_CONFIG_HOME", "conf"), ("HOME", "/home/u")]);
        assert_eq!(
            default_path(relative),
            Some(PathBuf::from("/home/u/.config/mcptool/tokens.json"))
        );
        assert_eq!(default_path(env(&[])), None);
    }

    #[test]
    fn the_flag_wins() {
        let flag = Path::new("/tmp/t.json");
        assert_eq!(store_path(Some(flag)), Some(flag.to_owned()));
    }
}
