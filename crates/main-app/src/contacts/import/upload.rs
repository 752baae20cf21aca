//! Streaming an uploaded file into a synchronous parser: the request body is read chunk by
//! chunk (never buffered whole), hashed (SHA-256) and counted against a size limit, while a
//! blocking task parses it through an `io::Read` fed by a bounded channel.

use axum::body::Body;
use bytes::Bytes;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use std::io::{self, Read};
use std::time::Duration;
use tokio::sync::mpsc;

/// Chunks buffered between the upload and the parser (back-pressure beyond this).
const CHANNEL_CHUNKS: usize = 32;
/// Longest pause between two chunks of an upload.
const CHUNK_TIMEOUT: Duration = Duration::from_secs(60);

/// Why an upload could not be read.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// Larger than allowed.
    #[error("the file is larger than {0} bytes")]
    TooLarge(usize),
    /// The client stopped sending, or the connection failed.
    #[error("the upload failed: {0}")]
    Interrupted(String),
    /// The parser task panicked.
    #[error("the parser failed")]
    Parser,
}

/// What was received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// Hex SHA-256 of the bytes.
    pub sha256: String,
    /// How many bytes.
    pub bytes: u64,
}

/// `io::Read` over chunks arriving on a channel (used on the blocking pool only).
pub struct ChannelReader {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = out.len().min(self.current.len());
        out[..n].copy_from_slice(&self.current[..n]);
        self.current = self.current.slice(n..);
        Ok(n)
    }
}

/// Streams `body` (at most `limit` bytes) into `parse`, running on the blocking pool.
pub async fn parse_body<T, F>(body: Body, limit: usize, parse: F) -> Result<(T, Received), UploadError>
where
    T: Send + 'static,
    F: FnOnce(ChannelReader) -> T + Send + 'static,
{
    let (tx, rx) = mpsc::channel(CHANNEL_CHUNKS);
    let parser = tokio::task::spawn_blocking(move || parse(ChannelReader { rx, current: Bytes::new() }));
    let mut stream = body.into_data_stream();
    let mut hash = Sha256::new();
    let mut total: usize = 0;
    let mut failure = None;
    loop {
        let chunk = match tokio::time::timeout(CHUNK_TIMEOUT, stream.next()).await {
            Ok(Some(Ok(chunk))) => chunk,
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                failure = Some(UploadError::Interrupted(e.to_string()));
                break;
            }
            Err(_) => {
                failure = Some(UploadError::Interrupted("no data for 60 s".into()));
                break;
            }
        };
        total += chunk.len();
        if total > limit {
            failure = Some(UploadError::TooLarge(limit));
            break;
        }
        hash.update(&chunk);
        // The parser ended early (it stops at the first fatal problem): drain the rest unparsed.
        if tx.send(Ok(chunk)).await.is_err() {
            continue;
        }
    }
    if let Some(f) = &failure {
        // The parser sees an error instead of a silent end of file. Ignoring a send failure is
        // safe: it means the parser already finished.
        let _ = tx.send(Err(io::Error::other(f.to_string()))).await;
    }
    drop(tx);
    let parsed = parser.await.map_err(|_| UploadError::Parser)?;
    match failure {
        Some(f) => Err(f),
        None => Ok((parsed, Received { sha256: hex::encode(hash.finalize()), bytes: total as u64 })),
    }
}
