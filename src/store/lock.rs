//! One server per SQLite file: an exclusive lock on `<database>.lock` for as long as a server
//! runs. A second server on the same file would requeue the first one's running jobs at start
//! and compute them twice; with the lock it refuses to start and says which process holds it.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

/// Held while the server runs; dropping it releases the lock (so does the process dying).
#[derive(Debug)]
pub struct DatabaseLock {
    _file: File,
    pub path: PathBuf,
}

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "the database {database} is already served by another fluxlab process ({holder}); \
         stop it first or give this server another --database"
    )]
    Held { database: String, holder: String },
    #[error("cannot lock {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// The file path of a `sqlite:` URL, or `None` for in-memory databases.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    if path.is_empty() || path == ":memory:" || url.contains("mode=memory") {
        return None;
    }
    Some(PathBuf::from(path))
}

/// Takes the lock of the SQLite database at `url` and records this process in it (`who`
/// describes it: pid, address, start time). `Ok(None)` for in-memory databases.
pub fn lock_database(url: &str, who: &str) -> Result<Option<DatabaseLock>, LockError> {
    let Some(db) = sqlite_path(url) else {
        return Ok(None);
    };
    let mut path = db.clone().into_os_string();
    path.push(".lock");
    let path = PathBuf::from(path);
    let io = |source| LockError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            return Err(LockError::Held {
                database: db.display().to_string(),
                holder: if holder.is_empty() {
                    "unknown process".into()
                } else {
                    holder.to_string()
                },
            });
        }
        Err(TryLockError::Error(e)) => return Err(io(e)),
    }
    file.set_len(0).map_err(io)?;
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    file.write_all(who.as_bytes()).map_err(io)?;
    file.flush().map_err(io)?;
    Ok(Some(DatabaseLock { _file: file, path }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_file_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("x.db").display());
        let first = lock_database(&url, "pid 42 on 127.0.0.1:1").unwrap();
        assert!(first.is_some());
        let err = lock_database(&url, "pid 43").unwrap_err().to_string();
        assert!(err.contains("pid 42 on 127.0.0.1:1"), "{err}");
        drop(first);
        assert!(lock_database(&url, "pid 43").unwrap().is_some());
    }

    #[test]
    fn memory_databases_need_no_lock() {
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("sqlite://a.db?mode=memory"), None);
        assert_eq!(sqlite_path("sqlite://data/f.db"), Some("data/f.db".into()));
        assert_eq!(sqlite_path("sqlite:f.db?mode=rwc"), Some("f.db".into()));
    }
}
