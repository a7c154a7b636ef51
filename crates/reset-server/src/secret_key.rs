//! The server's secret key: from the settings in production; otherwise generated once and kept
//! in the data folder, with a warning.

use std::path::Path;

use anyhow::Context as _;
use reset_core::{OsSecretRng, SecretKey};

/// The key file's name inside the data folder.
pub const KEY_FILE: &str = "secret.key";

/// The configured key, or the one in `data_dir/secret.key` (created on first use).
pub fn load(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<SecretKey> {
    if let Some(text) = configured {
        return SecretKey::from_base64(text).context("RESET_SECRET_KEY");
    }
    let path = data_dir.join(KEY_FILE);
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        return SecretKey::from_base64(&text)
            .with_context(|| format!("the key in {}", path.display()));
    }
    reset_core::private_fs::create_dir_all(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let key = SecretKey::generate(&OsSecretRng);
    write_private(&path, &key.to_base64())
        .with_context(|| format!("writing {}", path.display()))?;
    tracing::warn!(
        path = %path.display(),
        "no RESET_SECRET_KEY configured: generated one and kept it in the data folder; \
         set RESET_SECRET_KEY in production (all instances must share it)"
    );
    Ok(key)
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
    f.write_all(text.as_bytes())
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
        let a = load(None, dir.path()).expect("generate");
        let b = load(None, dir.path()).expect("reuse");
        assert_eq!(a.hash("c", "s"), b.hash("c", "s"));
        assert!(load(Some("c2hvcnQ"), dir.path()).is_err());
    }
}
