//! A real `socket.io-client` (Node, `tests/socketio/client.mjs`) as a child process, driven over
//! JSON lines: what it receives is read back as [`Msg`]s.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;

/// One line the client printed.
pub type Msg = Value;

/// A connected (or refused) client.
pub struct SioClient {
    child: Child,
    stdin: ChildStdin,
    rx: mpsc::UnboundedReceiver<Msg>,
    next_id: u64,
    /// Everything received so far, in order.
    pub seen: Vec<Msg>,
    /// Received but not yet matched by a wait, in order.
    pending: std::collections::VecDeque<Msg>,
}

/// `tests/socketio` of the workspace (found from whichever crate's tests include this file).
fn client_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|dir| dir.join("tests/socketio"))
        .find(|dir| dir.join("client.mjs").exists())
        .expect("tests/socketio/client.mjs in the workspace")
}

/// Installs the client's npm dependencies once per test binary (from the lock file).
fn ensure_installed() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let dir = client_dir();
        if dir.join("node_modules/socket.io-client").exists() {
            return;
        }
        let status = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status()
            .expect("npm runs");
        assert!(status.success(), "npm ci in tests/socketio failed");
    });
}

impl SioClient {
    /// Starts a client for `base` with `options` (`auth`, `extraHeaders`, `transports`).
    pub async fn connect(base: &str, mut options: Value) -> Self {
        ensure_installed();
        options["url"] = json!(base);
        let mut child = Command::new("node")
            .arg(client_dir().join("client.mjs"))
            .arg(options.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    let _ = tx.send(v);
                }
            }
        });
        Self { child, stdin, rx, next_id: 0, seen: Vec::new(), pending: Default::default() }
    }

    /// Waits for the first message not matched before that matches `pred` (messages received
    /// earlier, e.g. while waiting for an ack, are considered first, in order).
    pub async fn wait_for(&mut self, what: &str, timeout: Duration, pred: impl Fn(&Msg) -> bool) -> Msg {
        if let Some(pos) = self.pending.iter().position(&pred) {
            return self.pending.remove(pos).expect("position is in range");
        }
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(m)) => {
                    self.seen.push(m.clone());
                    if pred(&m) {
                        return m;
                    }
                    self.pending.push_back(m);
                }
                Ok(None) => panic!("client exited while waiting for {what}; seen: {:?}", self.seen),
                Err(_) => panic!("timed out waiting for {what}; seen: {:?}", self.seen),
            }
        }
    }

    /// Waits for an event by name (and a predicate on its data).
    pub async fn event(&mut self, name: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let m = self
            .wait_for(name, Duration::from_secs(20), |m| {
                m["type"] == "event" && m["event"] == name && pred(&m["data"])
            })
            .await;
        m["data"].clone()
    }

    /// Everything not matched yet plus what arrives within `window` (for asserting something
    /// did not arrive).
    pub async fn drain(&mut self, window: Duration) -> Vec<Msg> {
        let deadline = tokio::time::Instant::now() + window;
        let mut out: Vec<Msg> = self.pending.drain(..).collect();
        while let Ok(Some(m)) = tokio::time::timeout_at(deadline, self.rx.recv()).await {
            self.seen.push(m.clone());
            out.push(m);
        }
        out
    }

    /// Waits until connected; panics on `connect_error`.
    pub async fn connected(&mut self) {
        let m = self
            .wait_for("connect", Duration::from_secs(20), |m| {
                m["type"] == "connect" || m["type"] == "connect_error"
            })
            .await;
        assert_eq!(m["type"], "connect", "connection refused: {m}");
    }

    /// Waits for the refusal and returns its message.
    pub async fn refused(&mut self) -> String {
        let m = self
            .wait_for("connect_error", Duration::from_secs(20), |m| {
                m["type"] == "connect" || m["type"] == "connect_error"
            })
            .await;
        assert_eq!(m["type"], "connect_error", "expected a refusal, got {m}");
        m["message"].as_str().unwrap_or_default().to_owned()
    }

    /// Emits `event` with `data` and returns its ack.
    pub async fn emit(&mut self, event: &str, data: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let cmd = json!({ "op": "emit", "event": event, "data": data, "id": id });
        self.stdin.write_all(format!("{cmd}\n").as_bytes()).await.unwrap();
        self.stdin.flush().await.unwrap();
        let m = self.wait_for("ack", Duration::from_secs(20), |m| m["type"] == "ack" && m["id"] == id).await;
        m["data"].clone()
    }

    /// Subscribes and asserts the ack is `{ok: true}`.
    pub async fn subscribe(&mut self, topic: &str, id: Option<&str>) {
        let ack = self.emit("subscribe", json!({ "topic": topic, "id": id })).await;
        assert_eq!(ack, json!({ "ok": true }), "subscribe {topic} {id:?}");
    }

    /// Disconnects and waits for the process to end.
    pub async fn close(mut self) {
        let _ = self.stdin.write_all(b"{\"op\":\"close\"}\n").await;
        let _ = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await;
    }
}
