//! Run logs on disk: one file per step, `<runs dir>/<run id>/<stage>/<step>.log`, holding the
//! raw bytes the engine gave (nothing added), plus `slipway.log` per stage for Slipway's own
//! lines. The file is the source of truth for every reader: the UI's channel, `slipway logs
//! --follow` in another process, the download button. Followers read from an offset, so a slow
//! reader never loses a line and never makes the pipeline wait, and memory stays bounded by one
//! chunk whatever the log's size.

use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::sync::watch;
use ts_rs::TS;

use super::engine::LogSink;
use super::run::StageName;

/// The step that holds Slipway's own lines for a stage.
pub const SLIPWAY_STEP: &str = "slipway";

pub fn step_path(runs_dir: &Path, run_id: &str, stage: StageName, step: &str) -> PathBuf {
    runs_dir.join(run_id).join(stage.as_str()).join(format!("{}.log", safe_name(step)))
}

fn safe_name(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' { c } else { '_' }).collect()
}

/// How long written bytes may sit in the buffer before followers can read them.
const FLUSH_AFTER: Duration = Duration::from_millis(20);
/// A buffer this full is written out at once.
const FLUSH_BYTES: usize = 64 * 1024;

/// An append-only log file. Writes are buffered (a log of a million one-line frames would
/// otherwise be a million system calls) and reach the file, and wake its followers, within
/// [`FLUSH_AFTER`], when the buffer fills, or on [`StepLog::flush`].
pub struct StepLog {
    file: Mutex<Writer>,
    path: PathBuf,
    written: watch::Sender<u64>,
    armed: std::sync::atomic::AtomicBool,
    me: std::sync::Weak<StepLog>,
}

struct Writer {
    out: Option<std::io::BufWriter<std::fs::File>>,
    pending: usize,
    last_flush: std::time::Instant,
}

impl StepLog {
    /// Creates (truncating) the step's file.
    pub fn create(path: PathBuf) -> std::io::Result<Arc<Self>> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = std::fs::OpenOptions::new().create(true).write(true).truncate(true).open(&path)?;
        let (written, _) = watch::channel(0);
        let writer = Writer { out: Some(std::io::BufWriter::with_capacity(FLUSH_BYTES, file)), pending: 0, last_flush: std::time::Instant::now() };
        Ok(Arc::new_cyclic(|me| Self { file: Mutex::new(writer), path, written, armed: false.into(), me: me.clone() }))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A line of Slipway's own, with a newline, readable at once.
    pub fn line(&self, text: impl AsRef<str>) {
        let mut b = text.as_ref().as_bytes().to_vec();
        b.push(b'\n');
        self.write(&b);
        self.flush();
    }

    /// Wakes followers whenever bytes reach the file.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.written.subscribe()
    }

    /// Writes out what is buffered. Call it when the step's output has ended, before saying so.
    pub fn flush(&self) {
        let mut w = self.file.lock().expect("log lock");
        self.flush_locked(&mut w);
    }

    fn flush_locked(&self, w: &mut Writer) {
        if w.pending == 0 {
            return;
        }
        if let Some(out) = w.out.as_mut() {
            if let Err(e) = out.flush() {
                tracing::warn!(path = %self.path.display(), error = %e, "cannot write a run log; further output of this step is dropped");
                w.out = None;
            }
        }
        let n = std::mem::take(&mut w.pending) as u64;
        w.last_flush = std::time::Instant::now();
        self.written.send_modify(|x| *x += n);
    }

    /// Makes sure a flush happens within FLUSH_AFTER even if nothing else is written.
    fn arm(&self) {
        if self.armed.swap(true, std::sync::atomic::Ordering::AcqRel) {
            return;
        }
        let me = self.me.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(h) => {
                h.spawn(async move {
                    tokio::time::sleep(FLUSH_AFTER).await;
                    if let Some(log) = me.upgrade() {
                        log.armed.store(false, std::sync::atomic::Ordering::Release);
                        log.flush();
                    }
                });
            }
            Err(_) => {
                // No runtime to time a flush: write through.
                self.armed.store(false, std::sync::atomic::Ordering::Release);
                self.flush();
            }
        }
    }
}

impl LogSink for StepLog {
    fn write(&self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let mut w = self.file.lock().expect("log lock");
        let Some(out) = w.out.as_mut() else { return };
        if let Err(e) = out.write_all(bytes) {
            tracing::warn!(path = %self.path.display(), error = %e, "cannot write a run log; further output of this step is dropped");
            w.out = None;
            return;
        }
        w.pending += bytes.len();
        if w.pending >= FLUSH_BYTES || w.last_flush.elapsed() >= FLUSH_AFTER {
            self.flush_locked(&mut w);
        } else {
            drop(w);
            self.arm();
        }
    }
}

impl Drop for StepLog {
    fn drop(&mut self) {
        if let Ok(w) = self.file.get_mut() {
            if let Some(out) = w.out.as_mut() {
                let _ = out.flush();
            }
        }
    }
}

/// A piece of a step's log for a reader: bytes `[offset, offset + text.len())` of the file,
/// cut at a UTF-8 boundary (invalid bytes become U+FFFD).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct LogChunk {
    pub run: String,
    pub stage: StageName,
    pub step: String,
    /// Byte offset of this chunk in the file.
    #[ts(type = "number")]
    pub offset: u64,
    pub text: String,
    /// The step will write nothing more (the last chunk of a follow).
    pub done: bool,
}

/// Splits `buf` into the longest prefix that is complete UTF-8 (invalid sequences replaced) and
/// the bytes of a sequence cut at the end, kept for the next read.
fn utf8_prefix(buf: &[u8]) -> (String, usize) {
    let mut end = buf.len();
    // A sequence cut at the end is at most 3 bytes long.
    for back in 1..=3.min(buf.len()) {
        let b = buf[buf.len() - back];
        if b & 0b1100_0000 == 0b1000_0000 {
            continue; // a continuation byte: keep looking for the lead
        }
        let need = match b {
            0xC2..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF4 => 4,
            _ => 1, // ASCII, or a byte that can never start a sequence
        };
        if need > back {
            end = buf.len() - back;
        }
        break;
    }
    (String::from_utf8_lossy(&buf[..end]).into_owned(), end)
}

/// Reads a step's log from `offset`, handing chunks of at most `max_chunk` bytes to `emit`,
/// until `finished()` says the step is over and the file is read to its end. `wake` (the
/// writer's [`StepLog::subscribe`], when it is in this process) makes it react at once; without
/// it the file is polled every `poll`. Returns the offset reached. `emit` returning false stops.
#[allow(clippy::too_many_arguments)]
pub async fn follow(
    path: &Path,
    mut offset: u64,
    max_chunk: usize,
    poll: Duration,
    mut wake: Option<watch::Receiver<u64>>,
    finished: &(dyn Fn() -> bool + Send + Sync),
    emit: &mut (dyn FnMut(String, u64, bool) -> bool + Send),
) -> std::io::Result<u64> {
    let mut buf = vec![0u8; max_chunk];
    let mut carry: Vec<u8> = vec![];
    let mut file: Option<tokio::fs::File> = None;
    loop {
        // Decide "finished" before reading, so bytes written just before the end are read.
        let was_finished = finished();
        if file.is_none() {
            match tokio::fs::File::open(path).await {
                Ok(mut f) => {
                    f.seek(std::io::SeekFrom::Start(offset + carry.len() as u64)).await?;
                    file = Some(f);
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        let mut progressed = false;
        if let Some(f) = file.as_mut() {
            loop {
                let room = max_chunk - carry.len().min(max_chunk - 1);
                let n = f.read(&mut buf[..room]).await?;
                if n == 0 {
                    break;
                }
                progressed = true;
                carry.extend_from_slice(&buf[..n]);
                let (text, used) = utf8_prefix(&carry);
                if used > 0 {
                    let start = offset;
                    offset += used as u64;
                    carry.drain(..used);
                    if !emit(text, start, false) {
                        return Ok(offset);
                    }
                }
            }
        }
        if was_finished && !progressed {
            let text = String::from_utf8_lossy(&carry).into_owned();
            let start = offset;
            offset += carry.len() as u64;
            emit(text, start, true);
            return Ok(offset);
        }
        if progressed {
            continue;
        }
        match wake.as_mut() {
            Some(w) => {
                let _ = tokio::time::timeout(poll, w.changed()).await;
            }
            None => tokio::time::sleep(poll).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[test]
    fn utf8_cut_sequences_wait_for_their_rest() {
        let s = "añb€".as_bytes();
        assert_eq!(utf8_prefix(&s[..2]), ("a".into(), 1));
        assert_eq!(utf8_prefix(&s[..3]), ("añ".into(), 3));
        assert_eq!(utf8_prefix(&s[..5]), ("añb".into(), 4));
        assert_eq!(utf8_prefix(s), ("añb€".into(), s.len()));
        assert_eq!(utf8_prefix(b"\xff\xfe").0, "\u{fffd}\u{fffd}");
    }

    #[tokio::test]
    async fn a_follower_gets_every_byte_in_order_while_the_writer_writes() {
        let d = tempfile::tempdir().unwrap();
        let path = step_path(d.path(), "p-1", StageName::Test, "backend");
        let log = StepLog::create(path.clone()).unwrap();
        let done = Arc::new(AtomicBool::new(false));
        let (w, d2, log2) = (log.subscribe(), done.clone(), log.clone());
        let writer = tokio::spawn(async move {
            for i in 0..20_000 {
                log2.write(format!("line {i} ünïcode\n").as_bytes());
                if i % 1000 == 0 {
                    tokio::task::yield_now().await;
                }
            }
            log2.write(b"no newline at the end");
            log2.flush(); // the writer's contract: flush before saying the step is over
            d2.store(true, Ordering::SeqCst);
        });
        let mut got = String::new();
        let mut chunks = 0;
        let mut last_done = false;
        let end = follow(&path, 0, 4096, Duration::from_millis(20), Some(w), &|| done.load(Ordering::SeqCst), &mut |t, off, is_done| {
            assert_eq!(off as usize, got.len(), "chunks are contiguous");
            assert!(t.len() <= 4096);
            got.push_str(&t);
            chunks += 1;
            last_done = is_done;
            true
        })
        .await
        .unwrap();
        writer.await.unwrap();
        let expected: String = (0..20_000).map(|i| format!("line {i} ünïcode\n")).collect::<String>() + "no newline at the end";
        assert_eq!(got.len(), expected.len());
        assert!(got == expected, "the follower's text differs from what was written");
        assert_eq!(end as usize, expected.len());
        assert!(last_done && chunks > 10);
        drop(log);
        assert_eq!(std::fs::read(&path).unwrap(), expected.as_bytes());
    }

    #[tokio::test]
    async fn following_a_finished_log_from_an_offset_reads_the_rest_and_ends() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("x.log");
        std::fs::write(&path, b"hello world").unwrap();
        let mut got = vec![];
        follow(&path, 6, 1024, Duration::from_millis(10), None, &|| true, &mut |t, off, done| {
            got.push((t, off, done));
            true
        })
        .await
        .unwrap();
        assert_eq!(got, vec![("world".to_string(), 6, false), (String::new(), 11, true)]);
    }

    #[tokio::test]
    async fn buffered_bytes_reach_the_file_within_the_flush_delay_without_more_writes() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("s.log");
        let log = StepLog::create(path.clone()).unwrap();
        let mut wake = log.subscribe();
        log.write(b"first\n");
        log.write(b"second\n"); // within FLUSH_AFTER of the first: buffered
        tokio::time::timeout(Duration::from_secs(2), wake.changed()).await.expect("a timed flush").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"first\nsecond\n");
        log.line("a line of Slipway's own is written at once");
        assert!(std::fs::read_to_string(&path).unwrap().ends_with("at once\n"));
    }
}
