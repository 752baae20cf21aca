//! The simulated person (or machine) at the other end of a call.
//!
//! Driven by the call's 20 ms media clock: each tick it hears one frame of what we play and
//! produces one frame of its own audio. A person listens for the agent with a VAD, waits for the
//! agent to finish (or talks over it when the scenario says so), then says the next line of the
//! shared script as synthesised speech; it hangs up after the script, mid-sentence, or when it
//! has heard nothing for too long. A voicemail box plays a greeting and a beep, then listens for
//! a message; a fax machine sends CNG tones.

use crate::audio::FRAME_SAMPLES;
use crate::audio::synth::{self, CALLEE_VOICE, GREETING_VOICE, Rng};
use crate::audio::vad::{DEFAULT_THRESHOLD, Vad, VadEvent};
use crate::scenario::{CalleeKind, HumanBehaviour, Scenario, VoicemailBehaviour};
use std::collections::VecDeque;

/// Something the call must react to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalleeEvent {
    /// The callee hung up.
    HangUp,
    /// A voicemail greeting ended (with or without a beep): the machine is recording.
    GreetingEnded {
        /// Whether a beep was played.
        beep: bool,
    },
    /// Audio was heard after the greeting: a message is being left.
    MessageHeard,
}

/// What a person says after `patience_ms` without hearing anything.
const HELLO: &str = "Hello?";
/// After the script, the person hangs up this long after the agent's last words.
const LEAVE_DELAY_MS: u64 = 800;
/// A voicemail box hangs up when no message starts within this time.
const NO_MESSAGE_HANGUP_MS: u64 = 10_000;
/// A fax machine gives up after this long.
const FAX_GIVE_UP_MS: u64 = 15_000;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    Listening { next_line: usize, speak_at: Option<u64>, hello_said: bool },
    Speaking { line: Option<usize>, hangup_after: Option<usize> },
    Leaving { hangup_at: Option<u64> },
    Greeting,
    Beep,
    Recording { since: u64, message: bool },
    Fax,
    Silent,
    Gone,
}

/// The callee's state.
#[derive(Debug)]
pub struct Callee {
    kind: CalleeKind,
    human: HumanBehaviour,
    voicemail: VoicemailBehaviour,
    lines: Vec<String>,
    vad: Vad,
    out: VecDeque<i16>,
    spoken: usize,
    rng: Rng,
    t_ms: u64,
    last_heard_ms: u64,
    hello_next: usize,
    phase: Phase,
}

impl Callee {
    /// The callee of a scenario, at the moment of answer.
    pub fn new(scenario: &Scenario) -> Self {
        let phase = match scenario.callee {
            CalleeKind::Human => Phase::Listening { next_line: 0, speak_at: None, hello_said: false },
            CalleeKind::Voicemail => Phase::Greeting,
            CalleeKind::Fax => Phase::Fax,
            CalleeKind::Silent => Phase::Silent,
        };
        let mut callee = Self {
            kind: scenario.callee,
            human: scenario.human.clone(),
            voicemail: scenario.voicemail.clone(),
            lines: scenario.script.turns.iter().map(|t| t.user.clone()).collect(),
            vad: Vad::new(8000, DEFAULT_THRESHOLD, 60, 600),
            out: VecDeque::new(),
            spoken: 0,
            rng: Rng::from_bytes(scenario.name.as_bytes()),
            t_ms: 0,
            last_heard_ms: 0,
            hello_next: 0,
            phase,
        };
        if callee.kind == CalleeKind::Voicemail {
            callee.out.extend(vec![0i16; 2400]);
            callee.out.extend(synth::speech(&callee.voicemail.greeting, GREETING_VOICE, 8000));
        }
        callee
    }

    /// Whether the callee has hung up.
    pub fn is_gone(&self) -> bool {
        self.phase == Phase::Gone
    }

    /// Milliseconds since answer.
    pub fn now_ms(&self) -> u64 {
        self.t_ms
    }

    /// One 20 ms tick: hears `heard` (8 kHz samples we played), writes its own audio to `frame`.
    pub fn tick(&mut self, heard: &[i16], frame: &mut [i16; FRAME_SAMPLES], events: &mut Vec<CalleeEvent>) {
        let mut vad_events = Vec::new();
        self.vad.push(heard, &mut vad_events);
        if self.vad.is_speaking() || !vad_events.is_empty() {
            self.last_heard_ms = self.t_ms;
        }
        for ev in vad_events {
            self.on_vad(ev, events);
        }
        self.step(events);
        for slot in frame.iter_mut() {
            *slot = match self.out.pop_front() {
                Some(s) => {
                    self.spoken += 1;
                    s
                }
                None => ((self.rng.next_f32() * 2.0 - 1.0) * 30.0) as i16,
            };
        }
        if self.phase == Phase::Gone {
            frame.fill(0);
        }
        self.t_ms += 20;
    }

    fn on_vad(&mut self, ev: VadEvent, events: &mut Vec<CalleeEvent>) {
        let t = self.t_ms;
        let lines = self.lines.len();
        match (&mut self.phase, ev) {
            (Phase::Listening { next_line, speak_at, .. }, VadEvent::SpeechStart { .. })
                if *next_line < lines =>
            {
                if let Some(after) = self.human.interrupt_after_ms {
                    *speak_at = Some(t + after);
                } else {
                    *speak_at = None;
                }
            }
            (Phase::Listening { next_line, speak_at, .. }, VadEvent::SpeechEnd { .. })
                if *next_line < lines && (speak_at.is_none() || self.human.interrupt_after_ms.is_none()) =>
            {
                *speak_at = Some(t + self.human.think_ms);
            }
            (Phase::Leaving { hangup_at }, VadEvent::SpeechEnd { .. }) => {
                *hangup_at = Some(t + LEAVE_DELAY_MS)
            }
            (Phase::Recording { message, .. }, VadEvent::SpeechStart { .. }) if !*message => {
                *message = true;
                events.push(CalleeEvent::MessageHeard);
            }
            _ => {}
        }
    }

    fn say(&mut self, text: &str, line: Option<usize>) {
        let speech = synth::speech(text, CALLEE_VOICE, 8000);
        let hangup_after = line.filter(|l| self.human.hangup_mid_line == Some(*l)).map(|_| speech.len() / 2);
        self.out.extend(speech);
        self.spoken = 0;
        self.phase = Phase::Speaking { line, hangup_after };
    }

    fn hang_up(&mut self, events: &mut Vec<CalleeEvent>) {
        self.out.clear();
        self.phase = Phase::Gone;
        events.push(CalleeEvent::HangUp);
    }

    fn step(&mut self, events: &mut Vec<CalleeEvent>) {
        let t = self.t_ms;
        let quiet_for = t.saturating_sub(self.last_heard_ms);
        match self.phase.clone() {
            Phase::Listening { next_line, speak_at, hello_said } => {
                if speak_at.is_some_and(|at| t >= at) && next_line < self.lines.len() {
                    let line = self.lines[next_line].clone();
                    self.say(&line, Some(next_line));
                } else if quiet_for > self.human.patience_ms {
                    if hello_said {
                        self.hang_up(events);
                    } else {
                        self.last_heard_ms = t;
                        self.hello_next = next_line;
                        self.say(HELLO, None);
                    }
                }
            }
            Phase::Speaking { line, hangup_after } => {
                if hangup_after.is_some_and(|n| self.spoken >= n) {
                    self.hang_up(events);
                } else if self.out.is_empty() {
                    self.last_heard_ms = t;
                    self.after_speaking(line);
                }
            }
            Phase::Leaving { hangup_at }
                if hangup_at.is_some_and(|at| t >= at) || quiet_for > self.human.patience_ms =>
            {
                self.hang_up(events);
            }
            Phase::Greeting | Phase::Beep | Phase::Recording { .. } | Phase::Fax => self.step_machine(events),
            Phase::Silent if quiet_for > self.human.patience_ms && t > self.human.patience_ms => {
                self.hang_up(events);
            }
            _ => {}
        }
    }

    /// Voicemail box and fax machine.
    fn step_machine(&mut self, events: &mut Vec<CalleeEvent>) {
        let t = self.t_ms;
        let quiet_for = t.saturating_sub(self.last_heard_ms);
        match self.phase.clone() {
            Phase::Greeting if self.out.is_empty() => {
                if self.voicemail.beep {
                    self.out.extend(synth::tone(1000.0, 500, 8000, 9000.0));
                    self.phase = Phase::Beep;
                } else {
                    events.push(CalleeEvent::GreetingEnded { beep: false });
                    self.phase = Phase::Recording { since: t, message: false };
                }
            }
            Phase::Beep if self.out.is_empty() => {
                events.push(CalleeEvent::GreetingEnded { beep: true });
                self.phase = Phase::Recording { since: t, message: false };
            }
            Phase::Recording { since, message } => {
                let elapsed = t - since;
                let done = if message {
                    (!self.vad.is_speaking() && quiet_for > self.voicemail.silence_hangup_ms)
                        || elapsed > self.voicemail.max_message_ms
                } else {
                    elapsed > NO_MESSAGE_HANGUP_MS
                };
                if done {
                    self.hang_up(events);
                }
            }
            Phase::Fax if t > FAX_GIVE_UP_MS => self.hang_up(events),
            Phase::Fax if t.is_multiple_of(3500) => self.out.extend(synth::tone(1100.0, 500, 8000, 9000.0)),
            _ => {}
        }
    }

    fn after_speaking(&mut self, line: Option<usize>) {
        let next_line = match line {
            Some(l) => l + 1,
            None => self.hello_next,
        };
        self.phase = if line.is_some() && next_line >= self.lines.len() && self.human.hangup_after_script {
            Phase::Leaving { hangup_at: None }
        } else {
            Phase::Listening { next_line, speak_at: None, hello_said: line.is_none() }
        };
    }
}

#[cfg(test)]
mod tests;
