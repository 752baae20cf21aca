//! When the stream's outgoing messages go on the wire: at once by default, or with the timing
//! faults of reference §5.6 ("jittered frames"; §5.4: "frames can be bunched by network jitter").
//!
//! The stream writer hands every message to [`Pacing::push`] with the instant it was produced
//! and sends what comes back, each not before its release instant. Order is always kept (one
//! TCP connection): jitter holds each message back a random amount but never lets it overtake
//! the previous one, so messages behind a long delay bunch up; bursts hold the callee's frames
//! until `burst_frames` of them are ready and release them together. A `stop` or close releases
//! everything held. The frames' `timestamp`s are untouched: only delivery is disturbed.

use crate::scenario::StreamBehaviour;
use std::time::Duration;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

/// What an outgoing message is, for pacing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A callee `media` frame (bursts count these).
    Media,
    /// `connected`, `start`, a mark echo.
    Control,
    /// `stop` or the close: everything held goes out.
    End,
}

/// One message on its way to the writer.
#[derive(Debug)]
pub(crate) struct Outgoing {
    /// When the call's actor produced it (the jitter is added to this, not to the time the
    /// writer gets to it, so delays do not accumulate).
    pub at: Instant,
    /// What it is.
    pub kind: Kind,
    /// The WebSocket message.
    pub msg: Message,
}

/// The release schedule of one stream.
#[derive(Debug)]
pub(crate) struct Pacing {
    jitter_ms: u64,
    burst: usize,
    /// Release instant of the last message handed out (nothing may go before it).
    last_release: Option<Instant>,
    held: Vec<Outgoing>,
    held_frames: usize,
}

impl Pacing {
    /// The schedule for a scenario's stream faults (none: every message goes at once).
    pub fn new(faults: &StreamBehaviour) -> Self {
        Self {
            jitter_ms: faults.jitter_ms,
            burst: faults.burst_frames.max(1) as usize,
            last_release: None,
            held: Vec::new(),
            held_frames: 0,
        }
    }

    /// Takes one message; returns the messages now due, in order, each with the instant before
    /// which it must not be sent.
    pub fn push(&mut self, out: Outgoing, now: Instant) -> Vec<(Instant, Message)> {
        let kind = out.kind;
        self.held.push(out);
        if kind == Kind::Media {
            self.held_frames += 1;
        }
        let due = match kind {
            Kind::Media => self.held_frames >= self.burst,
            Kind::Control => self.held_frames == 0,
            Kind::End => true,
        };
        if !due {
            return Vec::new();
        }
        self.held_frames = 0;
        let bursting = self.burst > 1;
        let held = std::mem::take(&mut self.held);
        held.into_iter()
            .map(|o| {
                // A burst goes when its last frame is ready; otherwise each at its own time.
                let base = if bursting { now.max(o.at) } else { o.at };
                let jitter = match self.jitter_ms {
                    0 => Duration::ZERO,
                    j => Duration::from_millis(rand::random_range(0..=j)),
                };
                let release = self.last_release.map_or(base + jitter, |last| last.max(base + jitter));
                self.last_release = Some(release);
                (release, o.msg)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn media(at: Instant) -> Outgoing {
        Outgoing { at, kind: Kind::Media, msg: Message::text("m") }
    }

    #[test]
    fn without_faults_every_message_is_due_when_produced() {
        let mut p = Pacing::new(&StreamBehaviour::default());
        let t0 = Instant::now();
        for i in 0..5u64 {
            let at = t0 + Duration::from_millis(20 * i);
            let due = p.push(media(at), at);
            assert_eq!(due.len(), 1);
            assert_eq!(due[0].0, at);
        }
    }

    #[test]
    fn bursts_hold_frames_until_the_group_is_complete_and_end_flushes() {
        let mut p = Pacing::new(&StreamBehaviour { burst_frames: 3, ..Default::default() });
        let t0 = Instant::now();
        let control = Outgoing { at: t0, kind: Kind::Control, msg: Message::text("start") };
        assert_eq!(p.push(control, t0).len(), 1, "nothing held: control goes at once");
        let at = |i: u64| t0 + Duration::from_millis(20 * i);
        assert!(p.push(media(at(1)), at(1)).is_empty());
        let echo = Outgoing { at: at(1), kind: Kind::Control, msg: Message::text("mark") };
        assert!(p.push(echo, at(1)).is_empty(), "a mark echo waits behind held frames");
        assert!(p.push(media(at(2)), at(2)).is_empty());
        let due = p.push(media(at(3)), at(3));
        assert_eq!(due.len(), 4);
        assert!(due.iter().all(|(release, _)| *release == at(3)), "the burst goes together");
        assert!(p.push(media(at(4)), at(4)).is_empty());
        let end = Outgoing { at: at(5), kind: Kind::End, msg: Message::text("stop") };
        assert_eq!(p.push(end, at(5)).len(), 2, "stop releases what is held");
    }

    #[test]
    fn jitter_delays_within_bounds_and_never_reorders() {
        let mut p = Pacing::new(&StreamBehaviour { jitter_ms: 100, ..Default::default() });
        let t0 = Instant::now();
        let mut last = t0;
        let mut delayed = 0;
        for i in 0..200u64 {
            let at = t0 + Duration::from_millis(20 * i);
            let due = p.push(media(at), at);
            let release = due[0].0;
            assert!(release >= last, "order kept");
            assert!(release >= at && release <= at + Duration::from_millis(100), "bounded by the jitter");
            if release > at + Duration::from_millis(5) {
                delayed += 1;
            }
            last = release;
        }
        assert!(delayed > 100, "most frames held back: {delayed}");
    }
}
