//! One process per run folder: an exclusive OS lock (`flock`) on
//! `DIR/.evonet.lock`, held for as long as the [`RunLock`] lives. The OS
//! drops it when the process ends, however it ends, so a SIGKILL never
//! leaves a stale lock. The file holds the owner's pid, for the message a
//! second process gets.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The lock file's name inside a run folder.
pub const LOCK_FILE: &str = ".evonet.lock";

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("{dir} is in use by another evonet process (pid {pid}); wait for it to end or stop it first")]
    Busy { dir: PathBuf, pid: String },
    #[error("{path}: cannot lock the run folder: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The exclusive ownership of a run folder by this process.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
    dir: PathBuf,
}

impl RunLock {
    /// Takes the folder `dir` (created if missing), or says which process
    /// holds it.
    pub fn acquire(dir: &Path) -> Result<Self, LockError> {
        let path = dir.join(LOCK_FILE);
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
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
                let mut pid = String::new();
                let _ = file.read_to_string(&mut pid);
                let pid = pid.trim();
                return Err(LockError::Busy {
                    dir: dir.to_path_buf(),
                    pid: if pid.is_empty() {
                        "unknown".into()
                    } else {
                        pid.into()
                    },
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        Ok(Self {
            _file: file,
            dir: dir.to_path_buf(),
        })
    }

    /// The folder this lock owns.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_with_the_owner_pid_until_the_first_is_dropped() {
        let dir = std::env::temp_dir().join(format!("evonet-lock-{}", std::process::id()));
        let first = RunLock::acquire(&dir).unwrap();
        let err = RunLock::acquire(&dir).unwrap_err().to_string();
        assert!(err.contains(&std::process::id().to_string()), "{err}");
        assert!(err.contains(&dir.display().to_string()), "{err}");
        drop(first);
        let again = RunLock::acquire(&dir).unwrap();
        assert_eq!(again.dir(), dir);
        drop(again);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
