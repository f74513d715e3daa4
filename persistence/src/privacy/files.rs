//! [`ZipExports`]: archives as zip files of JSON under the exports directory.
//!
//! Rules: an archive is written to `<id>.zip.part` (mode 0600, in a directory of mode 0700) and renamed to
//! `<id>.zip` only once complete, so a reader never finds half an archive and a crash leaves only a part file
//! the next build replaces. The `zip` crate writes synchronously: the writing runs on one blocking task fed
//! by a bounded channel of [`CHANNEL`] chunks, so the async side never holds more than a few pages in memory
//! and never blocks a runtime thread on the disk.

use std::fs;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use tgos_domain::ids::DataSubjectRequestId;
use tgos_domain::privacy::ports::{ArchiveError, ArchiveWriter, ExportFiles};
use tokio::sync::mpsc;
use zip::write::SimpleFileOptions;

use crate::private_fs;

/// Chunks in flight between the builder and the writing task.
const CHANNEL: usize = 4;

/// The archives' directory.
#[derive(Debug, Clone)]
pub struct ZipExports {
    dir: PathBuf,
}

impl ZipExports {
    /// Creates the directory (mode 0700) when missing.
    pub fn new(dir: &Path) -> std::io::Result<Self> {
        private_fs::create_private_dir(dir)?;
        Ok(Self { dir: dir.to_owned() })
    }

    fn part(&self, id: DataSubjectRequestId) -> PathBuf {
        self.dir.join(format!("{id}.zip.part"))
    }
}

pub(crate) fn failed(error: impl std::fmt::Display) -> ArchiveError {
    ArchiveError(error.to_string())
}

/// A zip written to `part` (any earlier one there replaced) and renamed to `done` when it finishes.
pub(crate) fn start_zip(part: PathBuf, done: PathBuf) -> Result<Box<dyn ArchiveWriter>, ArchiveError> {
    match fs::remove_file(&part) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(failed(error)),
        _ => {}
    }
    let file = private_fs::create_private_file(&part).map_err(failed)?;
    let (sender, receiver) = mpsc::channel(CHANNEL);
    let task = tokio::task::spawn_blocking(move || write_zip(file, receiver, &part, &done));
    Ok(Box::new(ZipWriting {
        sender: Some(sender),
        task,
    }))
}

impl ExportFiles for ZipExports {
    fn create(&self, id: DataSubjectRequestId) -> Result<Box<dyn ArchiveWriter>, ArchiveError> {
        start_zip(self.part(id), self.locate(id))
    }

    fn locate(&self, id: DataSubjectRequestId) -> PathBuf {
        self.dir.join(format!("{id}.zip"))
    }

    fn delete(&self, id: DataSubjectRequestId) -> Result<(), ArchiveError> {
        for path in [self.locate(id), self.part(id)] {
            match fs::remove_file(&path) {
                Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(failed(error)),
                _ => {}
            }
        }
        Ok(())
    }
}

enum Chunk {
    Start(String),
    Bytes(Vec<u8>),
    Finish,
}

/// The blocking side: entries as they come; on `Finish` the central directory, a sync and the rename. A
/// channel closed without `Finish` (the build failed) removes the part file.
fn write_zip(
    file: fs::File,
    mut receiver: mpsc::Receiver<Chunk>,
    part: &Path,
    done: &Path,
) -> Result<u64, ArchiveError> {
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    let mut zip = zip::ZipWriter::new(BufWriter::new(file));
    let result = (|| {
        while let Some(chunk) = receiver.blocking_recv() {
            match chunk {
                Chunk::Start(name) => zip.start_file(name, options).map_err(failed)?,
                Chunk::Bytes(bytes) => zip.write_all(&bytes).map_err(failed)?,
                Chunk::Finish => return Ok(true),
            }
        }
        Ok(false)
    })();
    match result {
        Ok(true) => {
            let writer = zip.finish().map_err(failed)?;
            let file = writer.into_inner().map_err(|error| failed(error.error()))?;
            file.sync_all().map_err(failed)?;
            let bytes = file.metadata().map_err(failed)?.len();
            fs::rename(part, done).map_err(failed)?;
            Ok(bytes)
        }
        Ok(false) | Err(_) => {
            drop(zip);
            let _ = fs::remove_file(part);
            result.and(Err(ArchiveError("the archive was abandoned".to_owned())))
        }
    }
}

struct ZipWriting {
    sender: Option<mpsc::Sender<Chunk>>,
    task: tokio::task::JoinHandle<Result<u64, ArchiveError>>,
}

impl ZipWriting {
    async fn send(&mut self, chunk: Chunk) -> Result<(), ArchiveError> {
        let sender = self.sender.as_ref().ok_or_else(|| failed("the archive is finished"))?;
        if sender.send(chunk).await.is_err() {
            // The writing task stopped: its error says why.
            self.sender = None;
            let task = std::mem::replace(&mut self.task, tokio::task::spawn_blocking(|| Ok(0)));
            return Err(task
                .await
                .map_err(failed)?
                .err()
                .unwrap_or_else(|| failed("the writer stopped")));
        }
        Ok(())
    }
}

#[async_trait]
impl ArchiveWriter for ZipWriting {
    async fn start_file(&mut self, name: &str) -> Result<(), ArchiveError> {
        self.send(Chunk::Start(name.to_owned())).await
    }

    async fn write(&mut self, bytes: Vec<u8>) -> Result<(), ArchiveError> {
        self.send(Chunk::Bytes(bytes)).await
    }

    async fn finish(mut self: Box<Self>) -> Result<u64, ArchiveError> {
        self.send(Chunk::Finish).await?;
        self.sender = None;
        let task = std::mem::replace(&mut self.task, tokio::task::spawn_blocking(|| Ok(0)));
        task.await.map_err(failed)?
    }
}
