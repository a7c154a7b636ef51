//! Folders and files that hold secrets (the SQLite database, mail files with live links, the
//! generated server key): created private, folders `0700` and files `0600`, whatever the
//! process's umask. Existing folders and files are left as the operator made them.

use std::io::Write as _;
use std::path::Path;

/// Creates `dir` and any missing parents, each readable by the owner only.
pub fn create_dir_all(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut missing = Vec::new();
    let mut at = Some(dir);
    while let Some(d) = at.filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
        missing.push(d.to_owned());
        at = d.parent();
    }
    builder().create(dir)?;
    for d in missing {
        restrict(&d, 0o700)?;
    }
    Ok(())
}

/// Writes `bytes` to `path`, creating it owner-only when it does not exist (an existing file
/// is replaced in place and keeps its mode).
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let existed = path.exists();
    let mut file = options().open(path)?;
    if !existed {
        restrict(path, 0o600)?;
    }
    file.write_all(bytes)?;
    file.sync_all()
}

/// Creates an empty owner-only file at `path` unless one exists (never truncating one that
/// another process created a moment ago).
pub fn touch(path: &Path) -> std::io::Result<()> {
    let mut create = options();
    create.truncate(false).create_new(true);
    match create.open(path) {
        Ok(file) => {
            drop(file);
            restrict(path, 0o600)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(unix)]
fn builder() -> std::fs::DirBuilder {
    use std::os::unix::fs::DirBuilderExt as _;
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true).mode(0o700);
    b
}

#[cfg(not(unix))]
fn builder() -> std::fs::DirBuilder {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    b
}

#[cfg(unix)]
fn options() -> std::fs::OpenOptions {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true).mode(0o600);
    o
}

#[cfg(not(unix))]
fn options() -> std::fs::OpenOptions {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    o
}

/// Sets exactly `mode`: the umask can take bits away at creation, never add them.
#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn restrict(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777
    }

    #[test]
    fn folders_and_files_are_owner_only() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("a/b");
        create_dir_all(&dir).expect("mkdir");
        assert_eq!(mode(&root.path().join("a")), 0o700);
        assert_eq!(mode(&dir), 0o700);
        let file = dir.join("x.eml");
        write(&file, b"secret").expect("write");
        assert_eq!(mode(&file), 0o600);
        let db = dir.join("reset.db");
        touch(&db).expect("touch");
        assert_eq!(mode(&db), 0o600);
    }
}
