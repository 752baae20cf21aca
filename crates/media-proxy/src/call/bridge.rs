//! The call actor: one task per live call around one `tokio::select!` over set-up, Twilio frames,
//! agent frames, one timer and shutdown.
//!
//! State machine: `Connecting` (context + signed URL + agent handshake; caller audio buffered) →
//! `AwaitingMetadata` (initiation sent; waiting for the agent's formats) → `Live` (audio both
//! ways) → optionally `Goodbye` (the agent ended: its last audio plays out until the final mark
//! echoes, capped) → ended. Every exit goes through [`Bridge::finish`], which closes both sockets,
//! decides every agent line's heard state and reports the end.
//!
//! Message handlers are plain functions: they update state and queue outgoing frames in two small
//! outboxes; the loop then writes the outboxes (`feed`) and flushes when it has nothing else
//! ready, so a burst costs one syscall per socket and the actor's future stays small (a few KiB
//! per call). Every write and flush has a deadline; a socket that misses it ends the call.

use axum::extract::ws::WebSocket;
use common::events::media::{EndReason, MediaEventKind};
use common::ids::CallId;
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::early::EarlyAudio;
use super::outbox::poll_once;
use super::playback::Playback;
use super::setup::{AgentWs, SetupOutcome};
use super::start::StartInfo;
use super::vad::TurnClock;
use crate::audio::transcode::{AgentToCaller, CallerToAgent};
use crate::events::CallEvents;
use crate::registry::StopSignal;
use crate::settings::Settings;

/// After the last agent audio of a burst, how long without more before a mark is sent.
const MARK_IDLE: Duration = Duration::from_millis(50);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    Connecting,
    AwaitingMetadata { deadline: Instant },
    Live,
    Goodbye { deadline: Instant },
}

/// How caller audio reaches the agent.
pub(super) enum Inbound {
    Passthrough,
    Pcm(Box<CallerToAgent>),
}

/// How agent audio reaches the caller.
pub(super) enum Outbound {
    Passthrough,
    Pcm(Box<AgentToCaller>),
}

/// Counters reported in `StreamStats`.
#[derive(Debug, Default)]
pub(super) struct Stats {
    pub frames_in: u64,
    pub frames_out: u64,
    pub stale_dropped: u64,
    pub unknown: u64,
}

/// How and why a call ends.
#[derive(Debug)]
pub(super) struct Ending {
    /// `None`: the stream was never trusted (main-app refused the token); nothing is reported
    /// beyond the refusal itself.
    pub reason: Option<EndReason>,
    pub detail: Option<String>,
    pub hangup: bool,
    /// Whether the Twilio socket is still there to be closed.
    pub twilio_open: bool,
}

impl Ending {
    pub fn new(reason: EndReason, detail: impl Into<Option<String>>) -> Self {
        // Whoever ended it, the phone call must end too: main-app hangs up through Twilio REST
        // unless the caller already did.
        let hangup = reason != EndReason::CallerHungUp;
        Self { reason: Some(reason), detail: detail.into(), hangup, twilio_open: true }
    }

    pub fn untrusted() -> Self {
        Self { reason: None, detail: None, hangup: false, twilio_open: true }
    }
}

/// Everything one call owns.
pub struct Bridge {
    pub(super) call_id: CallId,
    pub(super) stream_sid: String,
    pub(super) call_sid: String,
    pub(super) started: Instant,
    pub(super) settings: Arc<Settings>,
    pub(super) twilio: WebSocket,
    pub(super) agent: Option<Box<AgentWs>>,
    /// The agent socket after the agent closed it: its close reply still has to be flushed.
    pub(super) closed_agent: Option<Box<AgentWs>>,
    pub(super) out_twilio: Vec<String>,
    pub(super) out_agent: Vec<String>,
    pub(super) setup: Option<BoxFuture<'static, SetupOutcome>>,
    pub(super) phase: Phase,
    pub(super) events: CallEvents,
    pub(super) early: EarlyAudio,
    pub(super) inbound: Inbound,
    pub(super) outbound: Outbound,
    pub(super) playback: Playback,
    pub(super) turn: TurnClock<Instant>,
    pub(super) next_index: u32,
    pub(super) last_interrupt: Option<u64>,
    /// Legacy audio (no `event_id`) is stale: an interruption came and no new reply began since.
    pub(super) legacy_stale: bool,
    pub(super) last_media_at: Instant,
    pub(super) last_agent_at: Instant,
    pub(super) last_agent_audio_at: Instant,
    pub(super) max_duration_at: Instant,
    /// Fires when the drain deadline passes.
    pub(super) stop: StopSignal,
    pub(super) twilio_dirty: bool,
    pub(super) agent_dirty: bool,
    pub(super) stats: Stats,
    pub(super) agent_error: Option<String>,
    /// Code of the close sent to the agent at the end (1000 unless the agent broke a limit).
    pub(super) agent_close: CloseCode,
    pub(super) conversation_id: Option<String>,
    /// main-app accepted the token: this stream's events may be reported (seq from 0).
    pub(super) trusted: bool,
}

async fn poll_setup(setup: &mut Option<BoxFuture<'static, SetupOutcome>>) -> SetupOutcome {
    match setup {
        Some(fut) => fut.await,
        None => std::future::pending().await,
    }
}

async fn next_agent(
    agent: &mut Option<Box<AgentWs>>,
) -> Option<Result<tungstenite::Message, tungstenite::Error>> {
    match agent {
        Some(ws) => ws.next().await,
        None => std::future::pending().await,
    }
}

/// `Pending` once without asking to be polled again, then `Ready`: the task sleeps until one of
/// the wakers it has already left somewhere fires (a wake during the current poll counts).
#[derive(Default)]
struct WaitForWake(bool);

impl std::future::Future for WaitForWake {
    type Output = ();

    fn poll(mut self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        if std::mem::replace(&mut self.0, true) {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    }
}

impl Bridge {
    /// A bridge for a verified stream; `setup` is already running.
    pub(super) fn new(
        twilio: WebSocket,
        start: &StartInfo,
        call_id: CallId,
        events: CallEvents,
        settings: Arc<Settings>,
        setup: BoxFuture<'static, SetupOutcome>,
        stop: StopSignal,
    ) -> Self {
        let now = Instant::now();
        let bridge = &settings.bridge;
        Self {
            call_id,
            stream_sid: start.stream_sid.clone(),
            call_sid: start.call_sid.clone(),
            started: now,
            early: EarlyAudio::new(bridge.early_audio_buffer.as_millis() as u64),
            playback: Playback::new(bridge.mark_interval.as_millis() as u64),
            max_duration_at: now + settings.limits.max_call_duration,
            settings,
            twilio,
            agent: None,
            closed_agent: None,
            out_twilio: Vec::new(),
            out_agent: Vec::new(),
            setup: Some(setup),
            phase: Phase::Connecting,
            events,
            inbound: Inbound::Passthrough,
            outbound: Outbound::Passthrough,
            turn: TurnClock::default(),
            next_index: 0,
            last_interrupt: None,
            legacy_stale: false,
            last_media_at: now,
            last_agent_at: now,
            last_agent_audio_at: now,
            stop,
            twilio_dirty: false,
            agent_dirty: false,
            stats: Stats::default(),
            agent_error: None,
            agent_close: CloseCode::Normal,
            conversation_id: None,
            trusted: false,
        }
    }

    /// Runs the call to its end. Boxed: an `async fn` taking a large value by move keeps it
    /// twice in its future (the argument and the local), which cost ≈ 1 KiB of every live
    /// call's task; behind a box the call's state is stored once.
    pub async fn run(mut self: Box<Self>) {
        let ending = self.run_loop().await;
        self.finish(ending).await;
    }

    async fn step_writes(&mut self) -> Option<Ending> {
        if self.out_twilio.is_empty() && self.out_agent.is_empty() && self.closed_agent.is_none() {
            return None;
        }
        self.write_out().await
    }

    async fn run_loop(&mut self) -> Ending {
        let sleep = tokio::time::sleep_until(self.next_deadline());
        tokio::pin!(sleep);
        let mut fired = false;
        // Whether the deadline's inputs may have changed since it was last computed.
        let mut recheck = true;
        loop {
            // The timer always follows the nearest deadline. Deadlines mostly move later (every
            // frame pushes inactivity and mark-idle back); moving a Tokio timer later is one
            // atomic store (the timer wheel re-files it when the old instant passes, without
            // waking the task), whereas leaving it early woke every call about every 50 ms
            // while the agent talked, only to find nothing due.
            if recheck || fired {
                let deadline = self.next_deadline();
                if fired || deadline != sleep.deadline() {
                    sleep.as_mut().reset(deadline);
                    fired = false;
                }
            }
            recheck = true;
            let dirty = self.twilio_dirty || self.agent_dirty;
            let mut idle = false;
            let step = tokio::select! {
                biased;
                () = self.stop.fired() => {
                    Some(Ending::new(EndReason::Shutdown, Some("drain deadline passed".to_owned())))
                }
                _ = &mut sleep => {
                    fired = true;
                    self.on_timer()
                }
                outcome = poll_setup(&mut self.setup) => {
                    self.setup = None;
                    self.on_setup(outcome)
                }
                msg = self.twilio.recv() => self.on_twilio(msg),
                msg = next_agent(&mut self.agent) => self.on_agent(msg),
                _ = std::future::ready(()), if dirty => {
                    let mut flush = std::pin::pin!(self.flush());
                    match poll_once(flush.as_mut()).await {
                        Poll::Ready(ending) => {
                            idle = true;
                            ending
                        }
                        Poll::Pending => flush.await,
                    }
                }
            };
            let written = self.step_writes().await;
            if let Some(ending) = step.or(written) {
                return ending;
            }
            if idle {
                // The flush arm runs only when every other arm has just returned `Pending`, each
                // leaving this task's waker with its source (the sockets' readiness, the timer,
                // the stop signal, the set-up future: all kept past the arm's future), and this
                // flush finished without yielding, so no wake meant for those sources was spent
                // on it (a wake while the task runs makes it run again). Polling them all again
                // now would find nothing, so sleep until woken: one round of polls less per
                // message. A flush that had to wait for a socket is followed by a full round.
                WaitForWake::default().await;
                // A flush changes no deadline: the timer is still right.
                recheck = false;
            }
        }
    }

    /// Microseconds since `start`.
    pub(super) fn call_us(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.started).as_micros() as u64
    }

    pub(super) fn next_index(&mut self) -> u32 {
        let index = self.next_index;
        self.next_index += 1;
        index
    }

    fn next_deadline(&self) -> Instant {
        let limits = &self.settings.limits;
        let mut at = self.max_duration_at.min(self.last_media_at + limits.inactivity_timeout);
        match self.phase {
            Phase::AwaitingMetadata { deadline } | Phase::Goodbye { deadline } => at = at.min(deadline),
            Phase::Connecting | Phase::Live => {}
        }
        if self.agent.is_some() {
            at = at.min(self.last_agent_at + limits.agent_idle_timeout);
        }
        if self.playback.has_unmarked_audio() {
            at = at.min(self.last_agent_audio_at + MARK_IDLE);
        }
        at
    }

    fn on_timer(&mut self) -> Option<Ending> {
        let now = Instant::now();
        let limits = &self.settings.limits;
        if now >= self.max_duration_at {
            return Some(Ending::new(EndReason::MaxDuration, None));
        }
        match self.phase {
            Phase::Goodbye { deadline } if now >= deadline => {
                return Some(Ending::new(EndReason::AgentEnded, Some("goodbye playout capped".to_owned())));
            }
            Phase::AwaitingMetadata { deadline } if now >= deadline => {
                self.report_error("agent_timeout", "no conversation_initiation_metadata in time");
                return Some(Ending::new(
                    EndReason::AgentUnavailable,
                    Some("agent_metadata_timeout".to_owned()),
                ));
            }
            _ => {}
        }
        if now >= self.last_media_at + limits.inactivity_timeout {
            return Some(Ending::new(EndReason::Inactivity, None));
        }
        if self.agent.is_some() && now >= self.last_agent_at + limits.agent_idle_timeout {
            self.report_error("agent_silent", "no message from the agent in time");
            return Some(Ending::new(EndReason::AgentError, Some("agent_idle_timeout".to_owned())));
        }
        if self.playback.has_unmarked_audio()
            && now >= self.last_agent_audio_at + MARK_IDLE
            && let Some(mark) = self.playback.make_mark()
        {
            self.push_twilio(super::wire::twilio_mark(&self.stream_sid, &mark));
        }
        None
    }

    fn on_setup(&mut self, outcome: SetupOutcome) -> Option<Ending> {
        match outcome {
            SetupOutcome::Ready { ctx, ws } => {
                self.trusted = true;
                self.emit_stream_started();
                if let Some(secs) = ctx.max_duration_secs.filter(|&s| s > 0) {
                    self.max_duration_at = self.max_duration_at.min(self.started + Duration::from_secs(secs));
                }
                self.agent = Some(ws);
                self.last_agent_at = Instant::now();
                self.phase = Phase::AwaitingMetadata {
                    deadline: Instant::now() + self.settings.limits.metadata_timeout,
                };
                None
            }
            SetupOutcome::Refused { code } => {
                tracing::warn!(%code, "main-app refused the stream token: no conversation opened");
                self.report_refused(&code, "main-app refused the stream token");
                Some(Ending::untrusted())
            }
            SetupOutcome::ContextUnavailable(detail) => {
                tracing::error!(%detail, "call context unavailable: no conversation opened");
                self.report_refused("context_unavailable", &detail);
                Some(Ending::untrusted())
            }
            SetupOutcome::AgentFailed { ctx, code, detail } => {
                tracing::error!(code, %detail, "agent unreachable");
                drop(ctx);
                self.trusted = true;
                self.emit_stream_started();
                self.report_error(code, &detail);
                Some(Ending::new(EndReason::AgentUnavailable, Some(code.to_owned())))
            }
        }
    }

    fn emit_stream_started(&mut self) {
        let kind = MediaEventKind::StreamStarted {
            stream_sid: self.stream_sid.clone(),
            call_sid: self.call_sid.clone(),
        };
        self.events.emit(kind);
    }

    fn report_refused(&self, code: &str, message: &str) {
        self.events.queue().report_refused(self.call_id.clone(), code, message);
    }

    /// Reports caller audio that did not fit the early buffer (once: when the stream goes live,
    /// or at the end of a call that never did).
    pub(super) fn report_early_overflow(&mut self) {
        let (frames, ms) = self.early.take_dropped();
        if frames == 0 {
            return;
        }
        let cap = self.settings.bridge.early_audio_buffer.as_millis();
        tracing::warn!(
            frames,
            ms,
            cap_ms = cap,
            "early caller audio exceeded the buffer: later frames dropped"
        );
        let message = format!(
            "{frames} caller frames ({ms} ms) arrived while the agent was connecting and did not fit the {cap} ms buffer: dropped"
        );
        self.report_error("early_audio_dropped", &message);
    }

    pub(super) fn report_error(&mut self, code: &str, message: &str) {
        self.events.emit(MediaEventKind::Error { code: code.to_owned(), message: message.to_owned() });
    }
}
