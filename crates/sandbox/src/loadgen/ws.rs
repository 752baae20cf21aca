//! The load generator's own minimal WebSocket (RFC 6455) on plain tokio sockets.
//!
//! The generator plays both ends of every call (Twilio's client and the agent's server), so it
//! handles twice the bridge's sockets on one core. A general-purpose WebSocket stack (a task per
//! socket per direction, a timer per stream, a random mask and an allocation per frame) made the
//! generator, not the bridge, the limit from about 500 streams. Here a connection is a shared
//! [`Conn`]: one reader task waits for readability and parses frames in place; writes are
//! `try_write` from whoever has a frame (the shared ticker, or the reader answering a mark), with
//! anything the kernel did not take kept in order and flushed first on the next write.
//!
//! Only what the benchmark needs: the upgrade handshakes, unfragmented text frames, close and
//! ping/pong. Client frames are masked (a fresh key per frame from a cheap generator), as the
//! RFC requires and the bridge's WebSocket stack checks.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha1::{Digest, Sha1};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// RFC 6455 §1.3.
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/// Opcodes used here.
pub const TEXT: u8 = 0x1;
/// Close frame.
pub const CLOSE: u8 = 0x8;
/// Ping frame.
pub const PING: u8 = 0x9;
/// Pong frame.
pub const PONG: u8 = 0xA;
/// Bytes a peer may leave unread before the connection counts as stuck.
const MAX_PENDING: usize = 1 << 20;
/// Largest frame accepted.
const MAX_FRAME: usize = 1 << 20;

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`.
pub fn accept_key(key: &str) -> String {
    let mut sha = Sha1::new();
    sha.update(key.as_bytes());
    sha.update(GUID.as_bytes());
    STANDARD.encode(sha.finalize())
}

/// Reads an HTTP head (up to the blank line); returns it and any bytes after it.
async fn read_head(tcp: &mut TcpStream) -> anyhow::Result<(String, Vec<u8>)> {
    let mut buf = Vec::with_capacity(1024);
    loop {
        if let Some(end) = memchr::memmem::find(&buf, b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            return Ok((String::from_utf8_lossy(&buf).into_owned(), rest));
        }
        anyhow::ensure!(buf.len() < 16 * 1024, "HTTP head too long");
        let mut chunk = [0u8; 1024];
        let n = tcp.read(&mut chunk).await?;
        anyhow::ensure!(n > 0, "closed during the handshake");
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|line| {
        let (k, v) = line.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Client handshake on `tcp` for `ws://host/path`; returns the connection.
pub async fn connect(mut tcp: TcpStream, host: &str, path: &str, seed: u32) -> anyhow::Result<Conn> {
    tcp.set_nodelay(true)?;
    let key = STANDARD.encode(seed.to_le_bytes().repeat(4));
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).await?;
    let (head, rest) = read_head(&mut tcp).await?;
    anyhow::ensure!(
        head.starts_with("HTTP/1.1 101"),
        "upgrade refused: {}",
        head.lines().next().unwrap_or("")
    );
    anyhow::ensure!(
        header(&head, "sec-websocket-accept") == Some(accept_key(&key).as_str()),
        "bad accept key"
    );
    Ok(Conn::new(tcp, rest, Some(seed | 1)))
}

/// Server handshake on an accepted `tcp`; returns the request line's path and the connection.
pub async fn accept(mut tcp: TcpStream) -> anyhow::Result<(String, Conn)> {
    tcp.set_nodelay(true)?;
    let (head, rest) = read_head(&mut tcp).await?;
    let path = head.split_whitespace().nth(1).unwrap_or_default().to_owned();
    let Some(key) = header(&head, "sec-websocket-key") else {
        tcp.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n").await?;
        anyhow::bail!("not a WebSocket upgrade");
    };
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
        accept_key(key)
    );
    tcp.write_all(response.as_bytes()).await?;
    Ok((path, Conn::new(tcp, rest, None)))
}

/// Appends one frame (FIN set) to `out`, masked when `mask` is given.
pub fn encode(out: &mut Vec<u8>, opcode: u8, payload: &[u8], mask: Option<[u8; 4]>) {
    out.push(0x80 | opcode);
    let bit = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => out.push(bit | n as u8),
        n if n <= usize::from(u16::MAX) => {
            out.push(bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    match mask {
        None => out.extend_from_slice(payload),
        Some(key) => {
            out.extend_from_slice(&key);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i & 3]));
        }
    }
}

/// One parsed frame: its opcode and where its (unmasked) payload sits in the buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Opcode.
    pub opcode: u8,
    /// Payload range in the buffer.
    pub payload: std::ops::Range<usize>,
}

/// Parses the frame at `buf[at..]`, unmasking its payload in place. `Ok(None)`: incomplete;
/// `Ok(Some((frame, next)))`: `next` is where the following frame starts.
pub fn parse(buf: &mut [u8], at: usize) -> anyhow::Result<Option<(Frame, usize)>> {
    let b = &buf[at..];
    if b.len() < 2 {
        return Ok(None);
    }
    anyhow::ensure!(b[0] & 0x80 != 0, "fragmented frames are not used by the bridge");
    let opcode = b[0] & 0x0F;
    let masked = b[1] & 0x80 != 0;
    let (len, mut head) = match b[1] & 0x7F {
        126 if b.len() >= 4 => (usize::from(u16::from_be_bytes([b[2], b[3]])), 4),
        127 if b.len() >= 10 => {
            let mut l = [0u8; 8];
            l.copy_from_slice(&b[2..10]);
            (usize::try_from(u64::from_be_bytes(l))?, 10)
        }
        126 | 127 => return Ok(None),
        n => (usize::from(n), 2),
    };
    anyhow::ensure!(len <= MAX_FRAME, "frame of {len} bytes");
    let key = if masked {
        if b.len() < head + 4 {
            return Ok(None);
        }
        let k = [b[head], b[head + 1], b[head + 2], b[head + 3]];
        head += 4;
        Some(k)
    } else {
        None
    };
    if b.len() < head + len {
        return Ok(None);
    }
    let start = at + head;
    if let Some(key) = key {
        for (i, byte) in buf[start..start + len].iter_mut().enumerate() {
            *byte ^= key[i & 3];
        }
    }
    Ok(Some((Frame { opcode, payload: start..start + len }, start + len)))
}

struct Writer {
    /// Bytes the kernel has not taken yet, in order.
    pending: Vec<u8>,
    /// Where the next frame is built.
    scratch: Vec<u8>,
    /// Client side: xorshift state for the per-frame masking keys.
    mask: Option<u32>,
}

/// One WebSocket connection shared by its reader task and its writers.
pub struct Conn {
    tcp: TcpStream,
    writer: Mutex<Writer>,
    /// Bytes read after the handshake, handed to the reader.
    leftover: Mutex<Vec<u8>>,
    closed: AtomicBool,
}

impl Conn {
    fn new(tcp: TcpStream, leftover: Vec<u8>, mask: Option<u32>) -> Self {
        let writer = Writer { pending: Vec::new(), scratch: Vec::with_capacity(512), mask };
        Self {
            tcp,
            writer: Mutex::new(writer),
            leftover: Mutex::new(leftover),
            closed: AtomicBool::new(false),
        }
    }

    /// Whether the connection failed or was closed.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    /// Marks the connection closed (no more writes).
    pub fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
    }

    /// Sends one frame whose payload `fill` writes into the given buffer. Returns false once the
    /// connection is closed, failed, or its peer stopped reading.
    pub fn send_with(&self, opcode: u8, fill: impl FnOnce(&mut Vec<u8>)) -> bool {
        if self.is_closed() {
            return false;
        }
        let Ok(mut w) = self.writer.lock() else { return false };
        let w = &mut *w;
        let mut body = std::mem::take(&mut w.scratch);
        body.clear();
        fill(&mut body);
        let mask = w.mask.as_mut().map(|state| {
            // xorshift32: a fresh key per frame at the cost of three shifts.
            *state ^= *state << 13;
            *state ^= *state >> 17;
            *state ^= *state << 5;
            state.to_le_bytes()
        });
        let ok = if w.pending.is_empty() {
            let mut frame = Vec::with_capacity(body.len() + 14);
            encode(&mut frame, opcode, &body, mask);
            self.write_now(&mut w.pending, &frame)
        } else {
            encode(&mut w.pending, opcode, &body, mask);
            let pending = std::mem::take(&mut w.pending);
            self.write_now(&mut w.pending, &pending)
        };
        w.scratch = body;
        if !ok || w.pending.len() > MAX_PENDING {
            self.close();
            return false;
        }
        true
    }

    /// Sends a text frame.
    pub fn send_text(&self, text: &[u8]) -> bool {
        self.send_with(TEXT, |b| b.extend_from_slice(text))
    }

    /// Writes what the kernel takes of `bytes`; the rest goes to `pending`.
    fn write_now(&self, pending: &mut Vec<u8>, bytes: &[u8]) -> bool {
        let mut at = 0;
        while at < bytes.len() {
            match self.tcp.try_write(&bytes[at..]) {
                Ok(0) => return false,
                Ok(n) => at += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(_) => return false,
            }
        }
        pending.extend_from_slice(&bytes[at..]);
        true
    }

    /// Reads frames until the connection ends, calling `on_text` for each text frame (with its
    /// payload, mutable); answers pings and closes. Returns whether the peer closed cleanly
    /// (a close frame) rather than failing.
    pub async fn read_frames(&self, mut on_text: impl FnMut(&mut [u8])) -> bool {
        let mut buf = self.leftover.lock().map(|mut l| std::mem::take(&mut *l)).unwrap_or_default();
        buf.reserve(4096);
        let mut at = 0;
        loop {
            loop {
                match parse(&mut buf, at) {
                    Ok(Some((frame, next))) => {
                        at = next;
                        match frame.opcode {
                            TEXT => on_text(&mut buf[frame.payload]),
                            CLOSE => {
                                // Echo the close (best effort) and stop.
                                let code =
                                    buf[frame.payload].get(..2).map(<[u8]>::to_vec).unwrap_or_default();
                                self.send_with(CLOSE, |b| b.extend_from_slice(&code));
                                self.close();
                                return true;
                            }
                            PING => {
                                let data = buf[frame.payload].to_vec();
                                self.send_with(PONG, |b| b.extend_from_slice(&data));
                            }
                            _ => {}
                        }
                    }
                    Ok(None) => break,
                    Err(_) => {
                        self.close();
                        return false;
                    }
                }
            }
            buf.drain(..at);
            at = 0;
            if buf.capacity() - buf.len() < 1024 {
                buf.reserve(4096);
            }
            if self.tcp.readable().await.is_err() {
                self.close();
                return false;
            }
            match self.tcp.try_read_buf(&mut buf) {
                Ok(0) => {
                    self.close();
                    return false;
                }
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => {
                    self.close();
                    return false;
                }
            }
            // Flush anything a full socket buffer held back.
            self.flush_pending();
        }
    }

    /// Retries held-back bytes (called by the reader after each read).
    fn flush_pending(&self) {
        let Ok(mut w) = self.writer.lock() else { return };
        if w.pending.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut w.pending);
        if !self.write_now(&mut w.pending, &pending) {
            self.close();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_accept_key_matches_rfc_6455() {
        assert_eq!(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn frames_round_trip_masked_and_not_at_every_length_form() {
        for len in [0usize, 5, 125, 126, 300, 65_535, 65_536] {
            let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            for mask in [None, Some([1, 2, 3, 4])] {
                let mut buf = b"xx".to_vec();
                encode(&mut buf, TEXT, &payload, mask);
                encode(&mut buf, CLOSE, &[3, 232], None);
                let (frame, next) = parse(&mut buf, 2).expect("valid").expect("complete");
                assert_eq!(frame.opcode, TEXT);
                assert_eq!(&buf[frame.payload], &payload[..], "len {len} mask {mask:?}");
                let (close, end) = parse(&mut buf, next).expect("valid").expect("complete");
                assert_eq!((close.opcode, &buf[close.payload], end), (CLOSE, &[3u8, 232][..], buf.len()));
            }
        }
    }

    #[test]
    fn incomplete_frames_wait_for_more_and_fragments_are_refused() {
        let mut buf = Vec::new();
        encode(&mut buf, TEXT, &[7; 200], Some([9, 9, 9, 9]));
        for cut in 0..buf.len() {
            assert_eq!(parse(&mut buf[..cut].to_vec(), 0).expect("valid"), None, "cut at {cut}");
        }
        let mut fragment = vec![0x01, 0x01, b'a'];
        assert!(parse(&mut fragment, 0).is_err());
    }

    #[tokio::test]
    async fn a_client_and_a_server_talk_and_close() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.expect("accept");
            let (path, conn) = accept(tcp).await.expect("handshake");
            let mut got = Vec::new();
            let clean = conn
                .read_frames(|text| {
                    got.push(String::from_utf8_lossy(text).into_owned());
                    assert!(conn.send_text(b"pong:"));
                })
                .await;
            (path, got, clean)
        });
        let tcp = TcpStream::connect(addr).await.expect("connect");
        let conn = connect(tcp, &addr.to_string(), "/x?y=1", 42).await.expect("client handshake");
        assert!(conn.send_text(b"hello") && conn.send_text(b"again"));
        let mut replies = 0;
        let reader = async {
            conn.read_frames(|_| {
                replies += 1;
                if replies == 2 {
                    conn.send_with(CLOSE, |b| b.extend_from_slice(&1000u16.to_be_bytes()));
                }
            })
            .await
        };
        assert!(reader.await, "the server echoed the close");
        let (path, got, clean) = server.await.expect("server");
        assert_eq!(
            (path.as_str(), got, clean),
            ("/x?y=1", vec!["hello".to_owned(), "again".to_owned()], true)
        );
    }
}
