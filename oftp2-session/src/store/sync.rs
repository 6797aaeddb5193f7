//! Durable file system steps: atomic replacement of small files, `fsync` of directories,
//! free space.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::error::StoreError;

/// The suffix of a small file being replaced; leftovers are deleted on open.
pub(crate) const TMP_SUFFIX: &str = ".tmp";

/// Makes the entries of `dir` (creations, renames, removals) durable.
#[cfg(unix)]
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    let handle = File::open(dir).map_err(|e| StoreError::io("open directory", dir, e))?;
    handle.sync_all().map_err(|e| StoreError::io("fsync directory", dir, e))
}

/// Makes the entries of `dir` durable (not possible through std on this platform: the
/// file system's own ordering is relied on).
#[cfg(not(unix))]
pub(crate) fn sync_dir(_dir: &Path) -> Result<(), StoreError> {
    Ok(())
}

/// Writes `value` as JSON to `path` so that a reader sees the old or the new content,
/// never a mix, and the new one survives a crash once this returns: write a temporary
/// file, `fsync` it, rename it over `path`, `fsync` the directory.
pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), StoreError> {
    let json = serde_json::to_vec_pretty(value).map_err(|e| StoreError::Corrupt {
        path: path.to_owned(),
        why: format!("cannot serialise: {e}"),
    })?;
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(TMP_SUFFIX);
    let tmp = Path::new(&tmp_name);
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(tmp)
            .map_err(|e| StoreError::io("create", tmp, e))?;
        file.write_all(&json).map_err(|e| StoreError::io("write", tmp, e))?;
        file.sync_all().map_err(|e| StoreError::io("fsync", tmp, e))?;
        fs::rename(tmp, path).map_err(|e| StoreError::io("rename", path, e))
    })();
    if result.is_err() {
        let _ = fs::remove_file(tmp);
    }
    result?;
    sync_dir(parent(path))
}

/// Reads a JSON file written by [`write_json`]; `None` if it does not exist.
pub(crate) fn read_json<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, StoreError> {
    let octets = match fs::read(path) {
        Ok(octets) => octets,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StoreError::io("read", path, e)),
    };
    serde_json::from_slice(&octets)
        .map(Some)
        .map_err(|e| StoreError::Corrupt { path: path.to_owned(), why: e.to_string() })
}

/// Removes a file if it exists; `true` if it did.
pub(crate) fn remove_if_exists(path: &Path) -> Result<bool, StoreError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(StoreError::io("remove", path, e)),
    }
}

/// From this size on, [`remove_releasing_later`] leaves the freeing to a thread.
const RELEASE_IN_BACKGROUND: u64 = 64 * 1024 * 1024;

/// Removes a file if it exists, as [`remove_if_exists`], but a large file's pages and
/// blocks are freed by a thread of its own: the caller does not wait for it (the kernel
/// takes about 0.2 s per GiB of a cached file). The name is gone when this returns; the
/// thread holds the last descriptor, and the kernel frees the file when it closes, also
/// if the process ends first.
#[cfg(unix)]
pub(crate) fn remove_releasing_later(path: &Path) -> Result<bool, StoreError> {
    let held = match File::open(path) {
        Ok(file) => Some(file),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(_) => None,
    };
    let removed = remove_if_exists(path)?;
    if let Some(file) = held {
        if file.metadata().is_ok_and(|m| m.len() >= RELEASE_IN_BACKGROUND) {
            // Should the thread not start, the file is closed (and freed) right here.
            let _ =
                std::thread::Builder::new().name("oftp-release".into()).spawn(move || drop(file));
        }
    }
    Ok(removed)
}

/// Removes a file if it exists (freed at once on this platform).
#[cfg(not(unix))]
pub(crate) fn remove_releasing_later(path: &Path) -> Result<bool, StoreError> {
    remove_if_exists(path)
}

/// The directory of a path inside the store (every path has one).
pub(crate) fn parent(path: &Path) -> &Path {
    path.parent().unwrap_or(Path::new("."))
}

/// Octets available to us on the file system holding `dir`, if it can be asked.
#[cfg(unix)]
pub(crate) fn available_space(dir: &Path) -> Option<u64> {
    let stat = rustix::fs::statvfs(dir).ok()?;
    Some(stat.f_bavail.saturating_mul(stat.f_frsize))
}

/// Octets available on the file system holding `dir`: not known on this platform.
#[cfg(not(unix))]
pub(crate) fn available_space(_dir: &Path) -> Option<u64> {
    None
}

/// The names in `dir` (not recursive), sorted; an absent directory has none.
pub(crate) fn list(dir: &Path) -> Result<Vec<String>, StoreError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StoreError::io("list", dir, e)),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| StoreError::io("list", dir, e))?;
        if let Ok(name) = entry.file_name().into_string() {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}
