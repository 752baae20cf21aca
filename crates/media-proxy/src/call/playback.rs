//! What the caller actually heard of each agent line, from Twilio mark echoes.
//!
//! Agent audio is pushed to Twilio faster than real time and Twilio plays it from a buffer, so
//! "sent" is not "heard". After agent audio the bridge sends a `mark` (at most every
//! `MARK_INTERVAL_MS` of audio, at the end of each burst, and when a line ends); Twilio echoes a
//! mark when everything queued before it has played — and, on `clear`, echoes every pending mark
//! at once. So the echoes of marks outstanding when we sent `clear` mean "cleared", later echoes
//! mean "played" (we keep that state ourselves).
//!
//! Between echoes a playout model fills in: Twilio plays in real time, so a chunk sent at `t`
//! starts playing at `max(t, end of what is queued)`. Every "played" echo re-anchors the model
//! (the mark was reached *now*). When a line is finalised — on `clear` (barge-in), on hang-up, or
//! at the end of the call — its heard length is `now − its projected start`, clamped between what
//! echoes confirmed and the audio it had:
//!
//! - **heard**: the whole line played (confirmed by its last mark's echo, or by the model when
//!   the call ended after its projected end);
//! - **cut off** (`heard_ms`): it had started playing when it was cleared or the call ended;
//! - **not heard**: cleared (or the call ended) before any of it played, or it had no audio.
//!
//! Times are microseconds since the stream's `start`; audio is counted in 8 kHz samples.

use common::events::{HeardState, Role, TranscriptLine};
use std::collections::VecDeque;

const US_PER_SAMPLE: u64 = 125;
const KEEP_LINES: usize = 16;

#[derive(Debug)]
struct Line {
    index: u32,
    text: String,
    time_in_call_us: u64,
    event_id: u64,
    audio: u64,
    confirmed: u64,
    play_start_us: Option<u64>,
    open: bool,
    live_marks: u32,
    state: HeardState,
    heard_ms: Option<u64>,
}

impl Line {
    fn to_transcript(&self) -> TranscriptLine {
        TranscriptLine {
            index: self.index,
            role: Role::Agent,
            text: self.text.clone(),
            time_in_call_ms: self.time_in_call_us / 1000,
            heard: Some(self.state),
            heard_ms: self.heard_ms,
            audio_ms: Some(self.audio * US_PER_SAMPLE / 1000),
        }
    }

    fn is_final(&self) -> bool {
        self.state != HeardState::Pending
    }

    /// Decides the line's state from the playout model at `now`.
    fn finalise(&mut self, now: u64) {
        self.open = false;
        let Some(start) = self.play_start_us.filter(|_| self.audio > 0) else {
            self.state = HeardState::NotHeard;
            return;
        };
        let elapsed = now.saturating_sub(start) / US_PER_SAMPLE;
        let heard = elapsed.clamp(self.confirmed, self.audio);
        if heard >= self.audio {
            self.state = HeardState::Heard;
        } else if heard == 0 {
            self.state = HeardState::NotHeard;
        } else {
            self.state = HeardState::CutOff;
            self.heard_ms = Some(heard * US_PER_SAMPLE / 1000);
        }
    }
}

#[derive(Debug)]
struct Mark {
    seq: u64,
    line: u32,
    pos: u64,
    projected_us: u64,
    cleared: bool,
}

/// The per-call playback tracker.
#[derive(Debug)]
pub struct Playback {
    lines: VecDeque<Line>,
    marks: VecDeque<Mark>,
    next_mark: u64,
    play_end_us: u64,
    unmarked: u64,
    mark_interval: u64,
}

/// What an agent audio chunk asks the bridge to do.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct AudioOutcome {
    /// This chunk is the first audio of its line (turn latency is measured here).
    pub first_of_line: bool,
    /// Send this mark after the chunk.
    pub mark: Option<String>,
}

impl Playback {
    /// A tracker that asks for a mark after at most `mark_interval_ms` of audio.
    pub fn new(mark_interval_ms: u64) -> Self {
        Self {
            lines: VecDeque::new(),
            marks: VecDeque::new(),
            next_mark: 0,
            play_end_us: 0,
            unmarked: 0,
            mark_interval: mark_interval_ms * 8,
        }
    }

    fn open_line(&mut self) -> Option<&mut Line> {
        self.lines.back_mut().filter(|l| l.open)
    }

    /// Whether an agent line is open (audio goes to it).
    pub fn has_open_line(&self) -> bool {
        self.lines.back().is_some_and(|l| l.open)
    }

    /// Index of the open line, if any.
    pub fn open_line_index(&self) -> Option<u32> {
        self.lines.back().filter(|l| l.open).map(|l| l.index)
    }

    /// Opens a new agent line (after ending the open one: see [`Playback::end_line`]).
    pub fn start_line(&mut self, index: u32, text: String, now: u64, event_id: u64) {
        debug_assert!(!self.has_open_line(), "end_line first");
        self.lines.push_back(Line {
            index,
            text,
            time_in_call_us: now,
            event_id,
            audio: 0,
            confirmed: 0,
            play_start_us: None,
            open: true,
            live_marks: 0,
            state: HeardState::Pending,
            heard_ms: None,
        });
        while self.lines.len() > KEEP_LINES && self.lines.front().is_some_and(Line::is_final) {
            self.lines.pop_front();
        }
    }

    /// Gives the open line its text when its audio came before its `agent_response`.
    pub fn title_open_line(&mut self, text: &str, event_id: u64) -> Option<TranscriptLine> {
        let line = self.open_line().filter(|l| l.text.is_empty())?;
        line.text = text.to_owned();
        line.event_id = event_id;
        Some(line.to_transcript())
    }

    /// Records `samples` of agent audio sent to Twilio at `now` for the open line.
    pub fn audio(&mut self, samples: u64, now: u64) -> AudioOutcome {
        let play_end = self.play_end_us;
        let Some(line) = self.open_line() else { return AudioOutcome::default() };
        let start = now.max(play_end);
        let first_of_line = line.play_start_us.is_none();
        if first_of_line {
            line.play_start_us = Some(start);
        }
        line.audio += samples;
        self.play_end_us = start + samples * US_PER_SAMPLE;
        self.unmarked += samples;
        let mark = (self.unmarked >= self.mark_interval).then(|| self.make_mark()).flatten();
        AudioOutcome { first_of_line, mark }
    }

    /// Whether audio was sent since the last mark.
    pub fn has_unmarked_audio(&self) -> bool {
        self.unmarked > 0
    }

    /// A mark covering the open line's audio so far (`None` when nothing is unmarked).
    pub fn make_mark(&mut self) -> Option<String> {
        if self.unmarked == 0 {
            return None;
        }
        let seq = self.next_mark;
        let projected_us = self.play_end_us;
        let line = self.open_line()?;
        line.live_marks += 1;
        let (index, pos) = (line.index, line.audio);
        self.next_mark += 1;
        self.unmarked = 0;
        self.marks.push_back(Mark { seq, line: index, pos, projected_us, cleared: false });
        Some(format!("m{seq}"))
    }

    /// Ends the open line (a new turn began, or the agent ended). Returns the final mark to send,
    /// and the line's update when it is already known to have been heard in full.
    pub fn end_line(&mut self) -> (Option<String>, Option<TranscriptLine>) {
        let mark = self.make_mark();
        let Some(line) = self.open_line() else { return (mark, None) };
        line.open = false;
        if line.audio == 0 {
            line.state = HeardState::NotHeard;
            return (mark, (!line.text.is_empty()).then(|| line.to_transcript()));
        }
        if line.live_marks == 0 && line.confirmed >= line.audio {
            line.state = HeardState::Heard;
            return (mark, Some(line.to_transcript()));
        }
        (mark, None)
    }

    fn line_mut(&mut self, index: u32) -> Option<&mut Line> {
        self.lines.iter_mut().find(|l| l.index == index)
    }

    fn shift_projection(&mut self, from_us: u64, now: u64) {
        // The mark projected at `from_us` was reached at `now`: move everything queued after it.
        let shift =
            |t: u64| if now >= from_us { t + (now - from_us) } else { t.saturating_sub(from_us - now) };
        self.play_end_us = shift(self.play_end_us).max(now);
        for line in self.lines.iter_mut().filter(|l| !l.is_final()) {
            if let Some(start) = line.play_start_us.filter(|&s| s >= from_us) {
                line.play_start_us = Some(shift(start));
            }
        }
        for mark in &mut self.marks {
            mark.projected_us = shift(mark.projected_us);
        }
    }

    /// Twilio echoed mark `name` at `now`. Returns lines now known to have been heard in full.
    pub fn echo(&mut self, name: &str, now: u64) -> Vec<TranscriptLine> {
        let mut updates = Vec::new();
        let Some(seq) = name.strip_prefix('m').and_then(|s| s.parse::<u64>().ok()) else { return updates };
        if !self.marks.iter().any(|m| m.seq == seq) {
            return updates;
        }
        // Echoes come in order; an earlier mark whose echo went missing has played too.
        while let Some(mark) = self.marks.pop_front() {
            let done = mark.seq == seq;
            if !mark.cleared {
                self.shift_projection(mark.projected_us, now);
            }
            if let Some(line) = self.line_mut(mark.line).filter(|l| !l.is_final()) {
                line.live_marks = line.live_marks.saturating_sub(1);
                if !mark.cleared {
                    line.confirmed = line.confirmed.max(mark.pos);
                    // The line's first `pos` samples have played by `now`: that dates its start.
                    line.play_start_us = Some(now.saturating_sub(mark.pos * US_PER_SAMPLE));
                }
                if !line.open && line.live_marks == 0 && line.confirmed >= line.audio {
                    line.state = HeardState::Heard;
                    updates.push(line.to_transcript());
                }
            }
            if done {
                break;
            }
        }
        updates
    }

    fn finalise_all(&mut self, now: u64) -> Vec<TranscriptLine> {
        let mut updates = Vec::new();
        for line in self.lines.iter_mut().filter(|l| !l.is_final()) {
            line.finalise(now);
            if line.audio > 0 || !line.text.is_empty() {
                updates.push(line.to_transcript());
            }
        }
        updates
    }

    /// The bridge sent `clear` at `now` (barge-in): every unfinished line is decided from what
    /// played, and the echoes of the marks outstanding now will mean "cleared".
    pub fn clear(&mut self, now: u64) -> Vec<TranscriptLine> {
        let updates = self.finalise_all(now);
        for mark in &mut self.marks {
            mark.cleared = true;
        }
        self.play_end_us = now;
        self.unmarked = 0;
        updates
    }

    /// The call ended at `now`: decide every unfinished line.
    pub fn finish(&mut self, now: u64) -> Vec<TranscriptLine> {
        self.unmarked = 0;
        self.finalise_all(now)
    }

    /// Whether every mark sent has been echoed as played (or was cleared): the goodbye is over.
    pub fn all_played(&self) -> bool {
        self.unmarked == 0 && self.marks.iter().all(|m| m.cleared)
    }

    /// Applies an `agent_response_correction`: the line with `event_id` (or else the latest line
    /// whose text is `original`) gets the corrected text.
    pub fn correct(&mut self, event_id: u64, original: &str, corrected: &str) -> Option<TranscriptLine> {
        let pos = self
            .lines
            .iter()
            .rposition(|l| l.event_id == event_id && event_id != 0)
            .or_else(|| self.lines.iter().rposition(|l| l.text == original))?;
        let line = &mut self.lines[pos];
        line.text = corrected.to_owned();
        Some(line.to_transcript())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1000;
    const FRAME: u64 = 160; // 20 ms

    fn states(updates: &[TranscriptLine]) -> Vec<(u32, HeardState, Option<u64>)> {
        updates.iter().map(|l| (l.index, l.heard.expect("agent line"), l.heard_ms)).collect()
    }

    #[test]
    fn a_line_whose_marks_all_echo_is_heard() {
        let mut p = Playback::new(100);
        p.start_line(0, "Hello there".into(), 0, 1);
        let mut marks = Vec::new();
        for i in 0..10 {
            // a burst: 200 ms of audio sent within 10 ms
            if let Some(m) = p.audio(FRAME, i * MS).mark {
                marks.push(m);
            }
        }
        assert_eq!(marks, ["m0", "m1"], "one mark per 100 ms of audio");
        let (last, update) = p.end_line();
        assert_eq!(last, None, "nothing unmarked");
        assert!(update.is_none(), "not played yet");
        assert!(p.echo("m0", 100 * MS).is_empty());
        assert!(!p.all_played());
        let updates = p.echo("m1", 200 * MS);
        assert_eq!(states(&updates), [(0, HeardState::Heard, None)]);
        assert_eq!(updates[0].audio_ms, Some(200));
        assert!(p.all_played());
    }

    #[test]
    fn clear_mid_line_cuts_it_off_where_it_was_and_later_echoes_are_ignored() {
        let mut p = Playback::new(100);
        p.start_line(0, "A long answer".into(), 0, 1);
        for i in 0..50 {
            p.audio(FRAME, i * MS / 10); // 1 s of audio sent in 5 ms
        }
        assert!(p.echo("m0", 100 * MS).is_empty()); // first 100 ms played at t=100 ms
        let updates = p.clear(350 * MS);
        assert_eq!(states(&updates), [(0, HeardState::CutOff, Some(350))]);
        // Twilio now echoes the cleared marks: they must not turn the line into "heard".
        for i in 1..10 {
            assert!(p.echo(&format!("m{i}"), 351 * MS).is_empty());
        }
        assert!(p.all_played());
    }

    #[test]
    fn a_line_queued_behind_another_is_not_heard_when_cleared_early() {
        let mut p = Playback::new(100);
        p.start_line(0, "First".into(), 0, 1);
        for _ in 0..25 {
            p.audio(FRAME, 0); // 500 ms queued at t=0
        }
        p.end_line();
        p.start_line(1, "Second".into(), MS, 2);
        for _ in 0..25 {
            p.audio(FRAME, MS); // queued behind the first: projected start 500 ms
        }
        let updates = p.clear(300 * MS);
        assert_eq!(states(&updates), [(0, HeardState::CutOff, Some(300)), (1, HeardState::NotHeard, None)]);
    }

    #[test]
    fn echoes_re_anchor_the_model_when_playout_runs_late() {
        let mut p = Playback::new(100);
        p.start_line(0, "Slow network".into(), 0, 1);
        for _ in 0..25 {
            p.audio(FRAME, 0); // 500 ms, projected to play 0..500 ms
        }
        // Twilio only reached the first mark (100 ms of audio) at 400 ms: playout started late.
        p.echo("m0", 400 * MS);
        let updates = p.clear(450 * MS);
        assert_eq!(states(&updates), [(0, HeardState::CutOff, Some(150))]);
    }

    #[test]
    fn hang_up_decides_open_lines_and_text_only_lines_are_not_heard() {
        let mut p = Playback::new(100);
        p.start_line(0, "No audio for this one".into(), 0, 1);
        let (_, update) = p.end_line();
        assert_eq!(states(&[update.expect("decided at once")]), [(0, HeardState::NotHeard, None)]);
        p.start_line(1, "Goodbye".into(), 0, 2);
        for _ in 0..5 {
            p.audio(FRAME, 0);
        }
        let updates = p.finish(1000 * MS);
        assert_eq!(states(&updates), [(1, HeardState::Heard, None)], "played out long before the end");
    }

    #[test]
    fn untitled_lines_get_their_text_and_corrections_apply() {
        let mut p = Playback::new(100);
        p.start_line(3, String::new(), 0, 0);
        assert!(p.audio(FRAME, 0).first_of_line);
        assert!(!p.audio(FRAME, 0).first_of_line);
        let titled = p.title_open_line("Hi, this is Acme", 7).expect("untitled line");
        assert_eq!(titled.text, "Hi, this is Acme");
        assert!(p.title_open_line("again", 8).is_none(), "only untitled lines");
        let fixed = p.correct(7, "Hi, this is Acme", "Hi, this").expect("found");
        assert_eq!((fixed.index, fixed.text.as_str()), (3, "Hi, this"));
        assert!(p.correct(99, "unknown", "x").is_none());
    }

    #[test]
    fn the_final_mark_of_a_line_covers_its_tail() {
        let mut p = Playback::new(200);
        p.start_line(0, "Short".into(), 0, 1);
        assert_eq!(p.audio(FRAME, 0).mark, None);
        assert!(p.has_unmarked_audio());
        let (mark, _) = p.end_line();
        assert_eq!(mark.as_deref(), Some("m0"));
        let updates = p.echo("m0", 20 * MS);
        assert_eq!(states(&updates), [(0, HeardState::Heard, None)]);
    }
}
