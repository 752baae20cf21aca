use super::*;
use crate::audio::synth::{AGENT_VOICE, speech};
use crate::scenario::ScenarioBook;
use crate::scenario::builtin;
use common::audio::rms;

/// Drives a callee with an "agent" that plays `agent_audio` starting at the given tick.
struct Harness {
    callee: Callee,
    heard: VecDeque<i16>,
    speaking_ticks: Vec<u64>,
    events: Vec<(u64, CalleeEvent)>,
}

impl Harness {
    fn new(number: &str) -> Self {
        let scenario = ScenarioBook::builtin().lookup(number);
        Self {
            callee: Callee::new(&scenario),
            heard: VecDeque::new(),
            speaking_ticks: vec![],
            events: vec![],
        }
    }

    fn play(&mut self, text: &str) {
        self.heard.extend(speech(text, AGENT_VOICE, 8000));
    }

    /// Runs `ms` of time; returns whether the callee made sound in that span.
    fn run(&mut self, ms: u64) -> bool {
        let mut loud = false;
        for _ in 0..ms / 20 {
            let heard: Vec<i16> = (0..FRAME_SAMPLES).map(|_| self.heard.pop_front().unwrap_or(0)).collect();
            let mut frame = [0i16; FRAME_SAMPLES];
            let mut evs = Vec::new();
            let t = self.callee.now_ms();
            self.callee.tick(&heard, &mut frame, &mut evs);
            if rms(&frame) > 1000.0 {
                loud = true;
                self.speaking_ticks.push(t);
            }
            self.events.extend(evs.into_iter().map(|e| (t, e)));
        }
        loud
    }

    fn silence_agent(&mut self) {
        self.heard.clear();
    }
}

#[test]
fn a_person_waits_for_the_agent_answers_each_turn_then_hangs_up() {
    let script = crate::script::Script::default();
    let mut h = Harness::new(builtin::NORMAL);
    assert!(!h.run(2000), "silent until the agent speaks");
    h.play(&script.first_message);
    let first_ms = synth::speech_duration_ms(&script.first_message);
    assert!(!h.run(first_ms), "does not talk over the agent");
    assert!(h.run(1500), "answers after the agent finished");
    let started = h.speaking_ticks[0];
    assert!(started >= 2000 + first_ms + 400, "thinks before answering: {started}");
    h.run(synth::speech_duration_ms(&script.turns[0].user));
    h.play(&script.turns[0].agent);
    h.run(synth::speech_duration_ms(&script.turns[0].agent) + 3000);
    assert!(h.events.is_empty());
    h.play(&script.turns[1].agent);
    h.run(synth::speech_duration_ms(&script.turns[1].agent) + 2000);
    assert_eq!(h.events.iter().map(|(_, e)| *e).collect::<Vec<_>>(), vec![CalleeEvent::HangUp]);
    assert!(h.callee.is_gone());
    assert!(!h.run(1000), "silent once gone");
}

#[test]
fn the_interrupter_talks_over_the_agent() {
    let mut h = Harness::new(builtin::INTERRUPTER);
    h.play(&"A very long opening statement that goes on and on and on without any pause at all.".repeat(2));
    assert!(h.run(3000), "speaks while the agent is still talking");
    let first = h.speaking_ticks[0];
    assert!((880..1100).contains(&first), "interrupts ~900 ms in: {first}");
}

#[test]
fn hangs_up_halfway_through_the_second_line() {
    let script = crate::script::Script::default();
    let mut h = Harness::new(builtin::HANGUP_MID_SENTENCE);
    h.play(&script.first_message);
    h.run(
        synth::speech_duration_ms(&script.first_message)
            + 1000
            + synth::speech_duration_ms(&script.turns[0].user),
    );
    h.play(&script.turns[0].agent);
    h.run(synth::speech_duration_ms(&script.turns[0].agent) + 600);
    h.silence_agent();
    h.run(synth::speech_duration_ms(&script.turns[1].user));
    assert_eq!(h.events.len(), 1, "{:?}", h.events);
    assert_eq!(h.events[0].1, CalleeEvent::HangUp);
}

#[test]
fn says_hello_then_gives_up_when_nobody_talks() {
    let mut h = Harness::new(builtin::NORMAL);
    assert!(!h.run(12_000));
    assert!(h.run(2000), "says hello after 12 s of silence");
    h.run(12_000);
    assert_eq!(h.events.last().map(|e| e.1), Some(CalleeEvent::HangUp));
}

#[test]
fn voicemail_greets_beeps_and_notices_a_message() {
    let mut h = Harness::new(builtin::VOICEMAIL);
    h.run(8000);
    let greeting_end = h.events.iter().find(|(_, e)| *e == CalleeEvent::GreetingEnded { beep: true });
    let (at, _) = greeting_end.expect("greeting and beep end");
    assert!(*at > 3000, "after greeting and beep: {at}");
    h.play("Hi Sam, this is Sunrise Energy, please call us back.");
    h.run(4000);
    assert!(h.events.iter().any(|(_, e)| *e == CalleeEvent::MessageHeard));
    h.run(6000);
    assert_eq!(h.events.last().map(|e| e.1), Some(CalleeEvent::HangUp), "hangs up after the message");
}

#[test]
fn voicemail_without_message_hangs_up_and_fax_gives_up() {
    let mut h = Harness::new(builtin::VOICEMAIL_NO_BEEP);
    h.run(20_000);
    let kinds: Vec<_> = h.events.iter().map(|e| e.1).collect();
    assert_eq!(kinds, vec![CalleeEvent::GreetingEnded { beep: false }, CalleeEvent::HangUp]);
    let mut fax = Harness::new(builtin::FAX);
    assert!(fax.run(1000), "CNG tone");
    fax.run(15_000);
    assert_eq!(fax.events.last().map(|e| e.1), Some(CalleeEvent::HangUp));
}
