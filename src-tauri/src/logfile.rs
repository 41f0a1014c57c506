//! The desktop app's log file, rotated by size: `slipway-desktop.log` grows to [`MAX_BYTES`],
//! then becomes `slipway-desktop.log.1` (the older ones `.2`, `.3`; the oldest is dropped), so
//! the log never takes more than `(KEEP + 1) * MAX_BYTES` on disk.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The size at which the log is rotated.
pub const MAX_BYTES: u64 = 10 * 1024 * 1024;
/// Rotated files kept beside the current one.
pub const KEEP: usize = 3;

pub struct RotatingFile {
    path: PathBuf,
    file: File,
    size: u64,
    max: u64,
    keep: usize,
}

fn open_append(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

impl RotatingFile {
    pub fn open(path: PathBuf, max: u64, keep: usize) -> std::io::Result<Self> {
        let file = open_append(&path)?;
        let size = file.metadata()?.len();
        Ok(Self { path, file, size, max: max.max(1), keep })
    }

    fn numbered(&self, n: usize) -> PathBuf {
        let mut s = self.path.clone().into_os_string();
        s.push(format!(".{n}"));
        PathBuf::from(s)
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        self.file.flush()?;
        if self.keep == 0 {
            self.file = OpenOptions::new().create(true).write(true).truncate(true).open(&self.path)?;
            self.size = 0;
            return Ok(());
        }
        let _ = std::fs::remove_file(self.numbered(self.keep));
        for n in (1..self.keep).rev() {
            let _ = std::fs::rename(self.numbered(n), self.numbered(n + 1));
        }
        std::fs::rename(&self.path, self.numbered(1))?;
        self.file = open_append(&self.path)?;
        self.size = 0;
        Ok(())
    }
}

impl Write for RotatingFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.size > 0 && self.size + buf.len() as u64 > self.max {
            self.rotate()?;
        }
        let n = self.file.write(buf)?;
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_rotates_by_size_and_keeps_a_bounded_number_of_files() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("slipway-desktop.log");
        // A log left over from an earlier session, already over the limit.
        std::fs::write(&path, vec![b'o'; 5000]).unwrap();
        let mut log = RotatingFile::open(path.clone(), 4096, 3).unwrap();
        let mut written = 0u64;
        for i in 0..400 {
            let line = format!("line {i:04} {}\n", "x".repeat(40));
            log.write_all(line.as_bytes()).unwrap();
            written += line.len() as u64;
        }
        log.flush().unwrap();
        let mut names: Vec<String> = std::fs::read_dir(d.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        assert_eq!(names, ["slipway-desktop.log", "slipway-desktop.log.1", "slipway-desktop.log.2", "slipway-desktop.log.3"]);
        let mut total = 0;
        for n in &names {
            let len = std::fs::metadata(d.path().join(n)).unwrap().len();
            assert!(len <= 4096 + 5000, "{n} is {len} bytes");
            total += len;
        }
        assert!(total <= 4 * 4096 + 5000, "{total} bytes on disk");
        let current = std::fs::read_to_string(&path).unwrap();
        assert!(current.ends_with(&format!("line 0399 {}\n", "x".repeat(40))), "the newest lines are in the current file");
        let previous = std::fs::read_to_string(d.path().join("slipway-desktop.log.1")).unwrap();
        assert!(previous.lines().last().unwrap() < current.lines().next().unwrap(), "rotated in order");
        println!("desktop log: {written} bytes written, {total} kept in {} files (cap 4096 each)", names.len());
        assert_eq!(MAX_BYTES, 10 * 1024 * 1024);
    }
}
