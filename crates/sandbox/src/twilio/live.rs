//! The answered part of a call: an actor around one `select!` over the 20 ms media clock, REST
//! requests, the media stream, the AMD decision, the time limit and shutdown.
//!
//! Every tick the callee hears one frame of what we play (stream playback, `<Say>` audio or
//! silence) and answers with one frame of its own; the frame goes to the stream server if a
//! stream is open, and both go to the recording. Between ticks the TwiML program advances:
//! `<Say>`/`<Pause>` occupy the clock, `<Connect><Stream>` occupies it until the stream closes,
//! then the verbs after `</Connect>` (or the `action` URL) run; no verbs left ends the call.

use super::amd::{self, AmdPlan, Trigger};
use super::call::CallCtx;
use super::callbacks::Callback;
use super::callee::{Callee, CalleeEvent};
use super::fetch;
use super::params::{Hook, TwimlSource};
use super::record::{EndReason, RecordingSummary};
use super::recording::{Recorder, StoredRecording};
use super::registry::Control;
use super::stream::{self, StreamConn, StreamEvent};
use super::twiml::Verb;
use crate::audio::FRAME_SAMPLES;
use crate::audio::synth::{self, GREETING_VOICE};
use chrono::Utc;
use common::audio::{ULAW_SILENCE, ulaw_decode, ulaw_encode};
use common::call::{AnsweredBy, CallStatus};
use std::collections::VecDeque;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior, sleep_until};

/// What the live phase hands to `finish`.
pub(crate) struct LiveOutcome {
    pub reason: EndReason,
    pub recorder: Option<Recorder>,
}

enum Activity {
    Idle,
    WaitAmd,
    Say(VecDeque<i16>),
    Pause(u32),
    Stream,
}

struct Amd {
    plan: AmdPlan,
    started: Instant,
    decided: bool,
}

struct Live<'a> {
    ctx: &'a mut CallCtx,
    callee: Callee,
    recorder: Option<Recorder>,
    verbs: VecDeque<Verb>,
    pending: Option<(TwimlSource, &'static str)>,
    activity: Activity,
    stream: Option<StreamConn>,
    after_stream: Option<Hook>,
    amd: Option<Amd>,
    ticks: u64,
}

/// Answers the call and runs it until it ends.
pub(crate) async fn run(ctx: &mut CallCtx, control: &mut mpsc::Receiver<Control>) -> LiveOutcome {
    let answered = Instant::now();
    ctx.answered_at = Some(answered);
    ctx.entry.update(|r| r.start_time = Some(Utc::now()));
    ctx.set_status(CallStatus::InProgress, vec![]);
    let recorder = ctx.req.record.then(|| start_recording(ctx));
    let amd = ctx.req.amd.map(|mode| Amd {
        plan: amd::plan(&ctx.scenario, mode, ctx.req.amd_timeout_secs, |ms| ctx.state.scaled(ms)),
        started: answered,
        decided: false,
    });
    let sync_amd = amd.is_some() && !ctx.req.async_amd;
    let pending = Some((ctx.twiml.clone(), "url"));
    let mut live = Live {
        callee: Callee::new(&ctx.scenario),
        ctx,
        recorder,
        verbs: VecDeque::new(),
        pending,
        activity: if sync_amd { Activity::WaitAmd } else { Activity::Idle },
        stream: None,
        after_stream: None,
        amd,
        ticks: 0,
    };
    let reason = live.run(control).await;
    if let Some(conn) = live.stream.take() {
        conn.finish(live.ctx, "call_ended");
    }
    LiveOutcome { reason, recorder: live.recorder }
}

fn start_recording(ctx: &CallCtx) -> Recorder {
    let limits = ctx.state.config.limits;
    let rec = Recorder::new(
        common::ids::RecordingSid::random().to_string(),
        limits.max_recording_secs,
        ctx.req.recording_channels,
    );
    ctx.state.recordings.put(StoredRecording {
        sid: rec.sid.clone(),
        account_sid: ctx.account_sid.clone(),
        call_sid: ctx.sid.clone(),
        status: "in-progress",
        start_time: rec.started,
        updated: rec.started,
        duration_secs: None,
        channels: rec.channels,
        wav: bytes::Bytes::new(),
    });
    let summary =
        RecordingSummary { sid: rec.sid.clone(), status: "in-progress".to_owned(), duration_secs: None };
    ctx.entry.update(|r| r.recording = Some(summary));
    if let Some(hook) = ctx.req.recording_callback.clone().filter(|_| ctx.req.wants_recording("in-progress"))
    {
        let params = super::finish::recording_params(ctx, &rec.sid, "in-progress", None, rec.started);
        ctx.callbacks.send(Callback { kind: "recording", hook, params });
    }
    rec
}

async fn next_event(stream: &mut Option<StreamConn>) -> StreamEvent {
    match stream {
        Some(conn) => conn.events.recv().await.unwrap_or(StreamEvent::Closed(None)),
        None => std::future::pending().await,
    }
}

async fn sleep_opt(at: Option<Instant>) {
    match at {
        Some(at) => sleep_until(at).await,
        None => std::future::pending().await,
    }
}

impl Live<'_> {
    async fn run(&mut self, control: &mut mpsc::Receiver<Control>) -> EndReason {
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        tick.set_missed_tick_behavior(MissedTickBehavior::Burst);
        let limit = Instant::now() + Duration::from_secs(u64::from(self.ctx.req.time_limit_secs));
        let shutdown = self.ctx.state.shutdown.clone();
        loop {
            if let Some(end) = self.advance().await {
                return end;
            }
            let amd_at = self.amd_deadline();
            tokio::select! {
                _ = shutdown.cancelled() => return EndReason::Shutdown,
                _ = sleep_until(limit) => return EndReason::TimeLimit,
                Some(c) = control.recv() => if let Some(end) = self.on_control(c) { return end },
                ev = next_event(&mut self.stream) => self.on_stream_event(ev),
                _ = sleep_opt(amd_at) => self.amd_timer(),
                _ = tick.tick() => if let Some(end) = self.on_tick() { return end },
            }
        }
    }

    /// Runs instantaneous verbs until something occupies the clock; `Some` ends the call.
    async fn advance(&mut self) -> Option<EndReason> {
        while matches!(self.activity, Activity::Idle) {
            if let Some((source, kind)) = self.pending.take() {
                match fetch::load(self.ctx, &source, kind).await {
                    Some(verbs) => self.verbs = verbs.into(),
                    None => return Some(EndReason::TwimlError),
                }
                continue;
            }
            match self.verbs.pop_front() {
                None => return Some(EndReason::TwimlEnd),
                Some(Verb::Hangup) => return Some(EndReason::TwimlHangup),
                Some(Verb::Reject) => return Some(EndReason::TwimlReject),
                Some(Verb::Say { text, loops }) => {
                    self.ctx.entry.update(|r| r.says.push(text.clone()));
                    let mut audio = VecDeque::new();
                    for _ in 0..loops {
                        audio.extend(synth::speech(&text, GREETING_VOICE, 8000));
                        audio.extend(std::iter::repeat_n(0, 2400));
                    }
                    self.activity = Activity::Say(audio);
                }
                Some(Verb::Pause { secs }) if secs > 0 => self.activity = Activity::Pause(secs * 50),
                Some(Verb::Redirect(hook)) => {
                    self.verbs.clear();
                    self.pending = Some((TwimlSource::Url(hook), "redirect"));
                }
                Some(Verb::Connect { stream: Some(spec), action }) => {
                    match stream::open(self.ctx, &spec).await {
                        Ok(conn) => {
                            self.stream = Some(conn);
                            self.after_stream = action;
                            self.activity = Activity::Stream;
                        }
                        Err(code) => {
                            tracing::info!(call_sid = %self.ctx.sid, code, "stream connect failed");
                            self.continue_after_connect(action);
                        }
                    }
                }
                Some(Verb::Unsupported(name)) => tracing::debug!(verb = %name, "TwiML verb ignored"),
                Some(Verb::Pause { .. } | Verb::Connect { stream: None, .. }) => {}
            }
        }
        None
    }

    fn continue_after_connect(&mut self, action: Option<Hook>) {
        if let Some(hook) = action {
            self.verbs.clear();
            self.pending = Some((TwimlSource::Url(hook), "action"));
        }
    }

    fn on_control(&mut self, c: Control) -> Option<EndReason> {
        match c {
            Control::End { cancel: true, done } => {
                // `canceled` has no effect on an answered call.
                let _ = done.send(());
                None
            }
            Control::End { cancel: false, done } => {
                self.ctx.pending_ack = Some(done);
                Some(EndReason::RestCompleted)
            }
            Control::Redirect { source, done } => {
                if let Some(conn) = self.stream.take() {
                    conn.finish(self.ctx, "redirect");
                }
                self.ctx.entry.update(|r| r.redirects += 1);
                self.verbs.clear();
                self.after_stream = None;
                self.activity = Activity::Idle;
                self.pending = Some((source, "redirect"));
                let _ = done.send(());
                None
            }
        }
    }

    fn on_stream_event(&mut self, ev: StreamEvent) {
        let Some(conn) = self.stream.as_mut() else { return };
        match ev {
            StreamEvent::Message(msg) => {
                conn.handle(msg);
                conn.flush(self.ctx);
            }
            StreamEvent::Invalid => conn.stats.invalid_messages += 1,
            StreamEvent::Early => conn.stats.early_messages += 1,
            StreamEvent::Closed(code) => {
                if let Some(conn) = self.stream.take() {
                    conn.closed_by_server(self.ctx, code);
                }
                self.activity = Activity::Idle;
                let action = self.after_stream.take();
                self.continue_after_connect(action);
            }
        }
    }

    /// One 20 ms step of the media clock.
    fn on_tick(&mut self) -> Option<EndReason> {
        self.ticks += 1;
        let mut outbound = [0i16; FRAME_SAMPLES];
        match &mut self.activity {
            Activity::Stream => {
                if let Some(conn) = self.stream.as_mut() {
                    let mut ulaw = [ULAW_SILENCE; FRAME_SAMPLES];
                    conn.play(&mut ulaw);
                    for (o, b) in outbound.iter_mut().zip(ulaw) {
                        *o = ulaw_decode(b);
                    }
                }
            }
            Activity::Say(audio) => {
                for o in &mut outbound {
                    *o = audio.pop_front().unwrap_or(0);
                }
                if audio.is_empty() {
                    self.activity = Activity::Idle;
                }
            }
            Activity::Pause(frames) => {
                *frames -= 1;
                if *frames == 0 {
                    self.activity = Activity::Idle;
                }
            }
            Activity::Idle | Activity::WaitAmd => {}
        }
        let mut inbound = [0i16; FRAME_SAMPLES];
        let mut events = Vec::new();
        self.callee.tick(&outbound, &mut inbound, &mut events);
        if let Some(conn) = self.stream.as_mut() {
            let ulaw: [u8; FRAME_SAMPLES] = inbound.map(ulaw_encode);
            conn.send_media(&ulaw);
            if self.ticks.is_multiple_of(25) {
                conn.flush(self.ctx);
            }
        }
        if let Some(rec) = self.recorder.as_mut() {
            rec.push(&inbound, &outbound);
        }
        for ev in events {
            match ev {
                CalleeEvent::HangUp => return Some(EndReason::CalleeHangup),
                CalleeEvent::GreetingEnded { .. } => self.greeting_ended(),
                CalleeEvent::MessageHeard => self.ctx.entry.update(|r| r.voicemail_message_received = true),
            }
        }
        None
    }

    fn amd_deadline(&self) -> Option<Instant> {
        let amd = self.amd.as_ref().filter(|a| !a.decided)?;
        Some(match amd.plan.trigger {
            Trigger::After(d) => amd.started + d.min(amd.plan.timeout),
            Trigger::GreetingEnd => amd.started + amd.plan.timeout,
        })
    }

    fn amd_timer(&mut self) {
        let Some(amd) = self.amd.as_ref() else { return };
        let result = match amd.plan.trigger {
            Trigger::After(d) if d <= amd.plan.timeout => amd.plan.answered_by,
            _ => AnsweredBy::Unknown,
        };
        self.amd_decide(result);
    }

    fn greeting_ended(&mut self) {
        let Some(amd) = self.amd.as_ref().filter(|a| !a.decided) else { return };
        if amd.plan.trigger == Trigger::GreetingEnd {
            self.amd_decide(amd.plan.answered_by);
        }
    }

    fn amd_decide(&mut self, answered_by: AnsweredBy) {
        let Some(amd) = self.amd.as_mut() else { return };
        amd.decided = true;
        let ms = amd.started.elapsed().as_millis() as u64;
        self.ctx.entry.update(|r| {
            r.answered_by = Some(answered_by.as_str().to_owned());
            r.amd_duration_ms = Some(ms);
        });
        if self.ctx.req.async_amd {
            if let Some(hook) = self.ctx.req.amd_callback.clone() {
                let params = amd::callback_params(&self.ctx.account_sid, &self.ctx.sid, answered_by, ms);
                self.ctx.callbacks.send(Callback { kind: "amd", hook, params });
            }
        } else {
            self.ctx.sync_answered_by = Some(answered_by);
            if matches!(self.activity, Activity::WaitAmd) {
                self.activity = Activity::Idle;
            }
        }
    }
}
