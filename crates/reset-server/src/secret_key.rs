//! The server's keys (a [`Keyring`]): from the settings in production (`RESET_SECRET_KEYS`, or
//! one `RESET_SECRET_KEY`); otherwise from the key file in the data folder, generated on first
//! use with a warning, and rotated there with `reset-server key …`.
//!
//! The key file holds one key per line, `ID BASE64`, the active one first (`#` starts a
//! comment). A file holding only a base64 key (as written before key ids) is that key as
//! [`FIRST_KEY_ID`]. The file must be the process user's and readable by it alone (`0600`):
//! anything else refuses to start, since whoever reads the key can check stolen hashes offline.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use reset_core::keyring::{FIRST_KEY_ID, valid_id};
use reset_core::{Keyring, OsSecretRng, SecretKey};

/// The key file's name inside the data folder.
pub const KEY_FILE: &str = "secret.key";

const HEADER: &str = "# reset-server keys: one \"ID BASE64\" per line, the active key first. \
                      Rotate with `reset-server key add|activate|retire`.\n";

/// The configured keys, or those of `data_dir/secret.key` (created on first use).
pub fn load(
    configured: Option<&str>,
    configured_keys: Option<&str>,
    data_dir: &Path,
) -> anyhow::Result<Keyring> {
    if let Some(list) = configured_keys {
        return parse_list(list).context("RESET_SECRET_KEYS");
    }
    if let Some(text) = configured {
        let key = SecretKey::from_base64(text).context("RESET_SECRET_KEY")?;
        return Ok(Keyring::single(key));
    }
    let path = key_file(data_dir);
    if path.exists() {
        return Ok(Keyring::new(read_file(&path)?)?);
    }
    reset_core::private_fs::create_dir_all(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let key = SecretKey::generate(&OsSecretRng);
    write_new(&path, &[(FIRST_KEY_ID.to_owned(), key.clone())])
        .with_context(|| format!("writing {}", path.display()))?;
    tracing::warn!(
        path = %path.display(),
        "no RESET_SECRET_KEY configured: generated one and kept it in the data folder; \
         set RESET_SECRET_KEY in production (all instances must share it)"
    );
    Ok(Keyring::single(key))
}

/// Where the key file of `data_dir` is.
pub fn key_file(data_dir: &Path) -> PathBuf {
    data_dir.join(KEY_FILE)
}

/// `ID=BASE64,ID=BASE64`, the first active.
fn parse_list(list: &str) -> anyhow::Result<Keyring> {
    let keys = list
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(|entry| {
            let (id, b64) = entry
                .split_once('=')
                .with_context(|| format!("{entry:?} is not ID=BASE64"))?;
            let key = SecretKey::from_base64(b64).with_context(|| format!("key {id}"))?;
            Ok((id.trim().to_owned(), key))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Keyring::new(keys)?)
}

/// The keys of the key file at `path`, in order, after checking who may read it.
pub fn read_file(path: &Path) -> anyhow::Result<Vec<(String, SecretKey)>> {
    check_private(path)?;
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let bad = || format!("the keys in {}", path.display());
    match lines.as_slice() {
        [only] if !only.contains(char::is_whitespace) => {
            let key = SecretKey::from_base64(only).with_context(bad)?;
            Ok(vec![(FIRST_KEY_ID.to_owned(), key)])
        }
        _ => lines
            .iter()
            .map(|line| {
                let (id, b64) = line
                    .split_once(char::is_whitespace)
                    .with_context(|| format!("{}: a line is not \"ID BASE64\"", bad()))?;
                let key = SecretKey::from_base64(b64.trim()).with_context(bad)?;
                Ok((id.to_owned(), key))
            })
            .collect(),
    }
}

/// Replaces the key file at `path` with `keys` (written beside it, then renamed into place).
pub fn write_file(path: &Path, keys: &[(String, SecretKey)]) -> anyhow::Result<()> {
    Keyring::new(keys.to_vec())?;
    let fresh = path.with_extension("key.new");
    let _ = std::fs::remove_file(&fresh);
    write_new(&fresh, keys).with_context(|| format!("writing {}", fresh.display()))?;
    std::fs::rename(&fresh, path).with_context(|| format!("replacing {}", path.display()))?;
    Ok(())
}

/// A fresh key's id: `k2`, `k3`, … after the highest in use.
pub fn next_id(keys: &[(String, SecretKey)]) -> String {
    let highest = keys
        .iter()
        .filter_map(|(id, _)| id.strip_prefix('k')?.parse::<u32>().ok())
        .max()
        .unwrap_or(0);
    format!("k{}", highest + 1)
}

/// Checks that `id` may name a key.
pub fn check_id(id: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        valid_id(id),
        "key id {id:?}: 1 to 32 ASCII letters, digits or '-'"
    );
    Ok(())
}

fn write_new(path: &Path, keys: &[(String, SecretKey)]) -> std::io::Result<()> {
    let mut text = HEADER.to_owned();
    for (id, key) in keys {
        text.push_str(&format!("{id} {}\n", key.to_base64()));
    }
    write_private(path, &text)
}

/// The key file must be the process user's and readable by it alone.
#[cfg(unix)]
fn check_private(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::MetadataExt as _;
    let meta = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    let mode = meta.mode() & 0o777;
    anyhow::ensure!(
        mode & 0o077 == 0,
        "{} has mode {mode:04o}: the key must be readable by its owner alone (chmod 600 it)",
        path.display()
    );
    // The owner of /proc/self is the process's effective user.
    if let Ok(me) = std::fs::metadata("/proc/self").map(|m| m.uid()) {
        anyhow::ensure!(
            meta.uid() == me,
            "{} belongs to user {}, not to the server's user {me}: chown it",
            path.display(),
            meta.uid()
        );
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_: &Path) -> anyhow::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_once_then_reuses() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = load(None, None, dir.path()).expect("generate");
        let b = load(None, None, dir.path()).expect("reuse");
        assert_eq!(a.hash("c", "s"), b.hash("c", "s"));
        assert_eq!(a.active_id(), FIRST_KEY_ID);
        assert!(load(Some("c2hvcnQ"), None, dir.path()).is_err());
    }

    #[test]
    fn a_key_file_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("tempdir");
        load(None, None, dir.path()).expect("generate");
        let path = key_file(dir.path());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let e = load(None, None, dir.path()).expect_err("0644 is refused");
        assert!(format!("{e:#}").contains("0644"), "{e:#}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        assert!(load(None, None, dir.path()).is_ok());
    }

    #[test]
    fn a_bare_key_file_is_the_first_key_and_lists_parse() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = key_file(dir.path());
        let key = SecretKey::generate(&OsSecretRng);
        write_private(&path, &key.to_base64()).expect("write");
        let ring = load(None, None, dir.path()).expect("bare key");
        assert_eq!(ring.active_id(), FIRST_KEY_ID);
        assert_eq!(
            ring.hash("c", "s"),
            Keyring::single(key.clone()).hash("c", "s")
        );

        let list = format!(
            "k2={},k1={}",
            SecretKey::generate(&OsSecretRng).to_base64(),
            key.to_base64()
        );
        let ring = load(None, Some(&list), dir.path()).expect("list");
        assert_eq!(ring.ids().collect::<Vec<_>>(), ["k2", "k1"]);
        assert!(load(None, Some("k1"), dir.path()).is_err());
        assert_eq!(next_id(&read_file(&path).expect("read")), "k2");
    }
}
