//! The actor's writes: handlers queue frames into two outboxes, the loop writes them (`feed`)
//! under the write deadline and flushes when idle. A failed or stuck Twilio write ends the call
//! with a hang-up request (the stream is unusable; the phone call may still be up); a failed agent
//! write is an agent failure.

use axum::extract::ws;
use common::events::media::EndReason;
use futures_util::SinkExt;
use std::future::Future;
use std::pin::{Pin, pin};
use std::task::Poll;
use std::time::Duration;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite;

use super::bridge::{Bridge, Ending, Phase};

/// `fut`'s output, or `None` if it takes longer than `limit`. A write into a socket with room
/// completes on its first poll, as nearly all do: only one that does not pays for the deadline
/// (a clock read and a timer entry, which per frame were 1 % of the proxy's CPU).
async fn within<F: Future>(limit: Duration, fut: F) -> Option<F::Output> {
    let mut fut = pin!(fut);
    if let Poll::Ready(out) = poll_once(fut.as_mut()).await {
        return Some(out);
    }
    timeout(limit, fut).await.ok()
}

/// Polls `fut` once with the task's context: its output if it is done, `Pending` if not (its
/// wakers are then registered, and it can be awaited on).
pub(super) async fn poll_once<F: Future>(mut fut: Pin<&mut F>) -> Poll<F::Output> {
    std::future::poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx))).await
}

impl Bridge {
    /// Queues a text frame to Twilio (written by the loop right after the handler).
    pub(super) fn push_twilio(&mut self, text: String) {
        self.out_twilio.push(text);
    }

    /// Queues a text frame to the agent, if there is one.
    pub(super) fn push_agent(&mut self, text: String) {
        if self.agent.is_some() {
            self.out_agent.push(text);
        }
    }

    /// Writes the outboxes (`feed`: into the socket buffers) under the write deadline; a failed
    /// or stuck Twilio write means the caller is gone, a failed agent write is an agent failure.
    pub(super) async fn write_out(&mut self) -> Option<Ending> {
        let limit = self.settings.limits.write_timeout;
        if let Some(mut closed) = self.closed_agent.take() {
            // Best effort: send the reply to the agent's close; the socket is done either way.
            let _ = within(Duration::from_millis(200), closed.flush()).await;
        }
        let mut queue = std::mem::take(&mut self.out_twilio);
        let mut failed = false;
        for text in queue.drain(..) {
            if failed {
                continue;
            }
            let write = self.twilio.feed(ws::Message::Text(text.into()));
            failed = !matches!(within(limit, write).await, Some(Ok(())));
            self.twilio_dirty = true;
        }
        self.out_twilio = queue;
        if failed {
            return Some(self.twilio_stuck());
        }
        let mut queue = std::mem::take(&mut self.out_agent);
        if let Some(agent) = self.agent.as_mut() {
            for text in queue.drain(..) {
                if failed {
                    continue;
                }
                let write = agent.feed(tungstenite::Message::Text(text.into()));
                failed = !matches!(within(limit, write).await, Some(Ok(())));
                self.agent_dirty = true;
            }
        }
        queue.clear();
        self.out_agent = queue;
        if failed {
            self.agent = None;
            self.report_error("agent_write_failed", "could not write to the agent socket");
            return Some(Ending::new(EndReason::AgentError, Some("agent_write_failed".to_owned())));
        }
        None
    }

    pub(super) async fn flush(&mut self) -> Option<Ending> {
        let limit = self.settings.limits.write_timeout;
        if std::mem::take(&mut self.twilio_dirty)
            && !matches!(within(limit, self.twilio.flush()).await, Some(Ok(())))
        {
            return Some(self.twilio_stuck());
        }
        if std::mem::take(&mut self.agent_dirty)
            && let Some(agent) = self.agent.as_mut()
            && !matches!(within(limit, agent.flush()).await, Some(Ok(())))
        {
            self.agent = None;
            self.report_error("agent_write_failed", "could not flush the agent socket");
            return Some(Ending::new(EndReason::AgentError, Some("agent_write_failed".to_owned())));
        }
        None
    }

    /// The Twilio socket is gone (closed, errored or stuck).
    pub(super) fn twilio_lost(&mut self) -> Ending {
        let mut ending = self.caller_gone();
        ending.twilio_open = false;
        ending
    }

    /// A write to Twilio failed or missed `WRITE_TIMEOUT_MS`: the stream is unusable, but unlike
    /// a `stop` or a close this does not say the phone call ended, so main-app is asked to hang
    /// it up (harmless if it already ended) rather than leave the callee on a silent line.
    pub(super) fn twilio_stuck(&mut self) -> Ending {
        let mut ending = self.twilio_lost();
        ending.hangup = true;
        let detail = ending.detail.take();
        ending.detail = Some(
            detail.map_or_else(|| "twilio_write_failed".to_owned(), |d| format!("{d}; twilio_write_failed")),
        );
        ending
    }

    /// Twilio said `stop` or closed: the caller hung up (or the call was ended elsewhere).
    pub(super) fn caller_gone(&mut self) -> Ending {
        if matches!(self.phase, Phase::Goodbye { .. }) {
            let mut ending =
                Ending::new(EndReason::AgentEnded, Some("caller hung up during goodbye".to_owned()));
            ending.hangup = false;
            return ending;
        }
        Ending::new(EndReason::CallerHungUp, None)
    }
}
