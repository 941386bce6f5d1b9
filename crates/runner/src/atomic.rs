//! Atomic file writes: temporary file in the same folder, fsync, rename,
//! fsync of the folder. A reader sees the old file or the new one, never a
//! torn one, even after SIGKILL or power loss.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let written = write_synced(&tmp, bytes).and_then(|()| fs::rename(&tmp, path));
    if let Err(e) = written {
        // A full disk or a failed rename leaves nothing behind.
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    if let Ok(d) = File::open(dir) {
        // Persist the rename; not every platform allows syncing a folder.
        let _ = d.sync_all();
    }
    Ok(())
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_content() {
        let d = std::env::temp_dir().join(format!("evonet-atomic-{}", std::process::id()));
        let p = d.join("x.txt");
        super::write_atomic(&p, b"one").unwrap();
        super::write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(
            std::fs::read_dir(&d).unwrap().count(),
            1,
            "temporary file left behind"
        );
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn a_failed_write_leaves_no_temporary_file() {
        let d = std::env::temp_dir().join(format!("evonet-atomic-fail-{}", std::process::id()));
        // The target is a non-empty folder: the rename fails.
        let p = d.join("x");
        std::fs::create_dir_all(p.join("inside")).unwrap();
        assert!(super::write_atomic(&p, b"one").is_err());
        let names: Vec<_> = std::fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("x")]);
        std::fs::remove_dir_all(d).unwrap();
    }
}
