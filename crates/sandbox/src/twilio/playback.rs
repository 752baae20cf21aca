//! The playback buffer of a bidirectional stream (§5.3, §5.6).
//!
//! `media` from the server is appended to a FIFO that is drained at 8 bytes per millisecond (one
//! 160-byte frame per 20 ms tick). A `mark` is placed at the current end of the FIFO and echoed
//! when playback passes it, or at once when nothing is queued. `clear` discards the FIFO and
//! echoes every pending mark, in order.

use common::audio::ULAW_SILENCE;
use std::collections::VecDeque;

/// FIFO of μ-law audio with marks.
#[derive(Debug, Default)]
pub struct Playback {
    audio: VecDeque<u8>,
    /// (byte offset at which the mark is reached, name)
    marks: VecDeque<(u64, String)>,
    queued_total: u64,
    played_total: u64,
}

impl Playback {
    /// Appends audio.
    pub fn push_audio(&mut self, bytes: &[u8]) {
        self.audio.extend(bytes);
        self.queued_total += bytes.len() as u64;
    }

    /// Adds a mark; returns it at once if nothing is queued ahead of it.
    pub fn push_mark(&mut self, name: String) -> Option<String> {
        if self.audio.is_empty() && self.marks.is_empty() {
            return Some(name);
        }
        self.marks.push_back((self.queued_total, name));
        None
    }

    /// Plays one frame into `out` (silence where the FIFO runs short); returns the bytes of real
    /// audio played and appends the marks passed to `echoed`.
    pub fn play(&mut self, out: &mut [u8], echoed: &mut Vec<String>) -> usize {
        let n = out.len().min(self.audio.len());
        for (slot, byte) in out.iter_mut().zip(self.audio.drain(..n)) {
            *slot = byte;
        }
        out[n..].fill(ULAW_SILENCE);
        self.played_total += n as u64;
        while self.marks.front().is_some_and(|(at, _)| *at <= self.played_total) {
            if let Some((_, name)) = self.marks.pop_front() {
                echoed.push(name);
            }
        }
        n
    }

    /// Discards queued audio; returns the bytes discarded and appends every pending mark.
    pub fn clear(&mut self, echoed: &mut Vec<String>) -> usize {
        let n = self.audio.len();
        self.audio.clear();
        self.played_total = self.queued_total;
        echoed.extend(self.marks.drain(..).map(|(_, name)| name));
        n
    }

    /// Bytes waiting to be played.
    pub fn queued(&self) -> usize {
        self.audio.len()
    }

    /// Marks waiting for playback.
    pub fn pending_marks(&self) -> usize {
        self.marks.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(p: &mut Playback) -> (Vec<u8>, Vec<String>) {
        let mut out = vec![0u8; 160];
        let mut marks = Vec::new();
        p.play(&mut out, &mut marks);
        (out, marks)
    }

    #[test]
    fn mark_with_nothing_queued_echoes_at_once() {
        let mut p = Playback::default();
        assert_eq!(p.push_mark("a".into()), Some("a".into()));
    }

    #[test]
    fn marks_echo_when_playback_passes_them_in_order() {
        let mut p = Playback::default();
        p.push_audio(&[1u8; 200]);
        assert_eq!(p.push_mark("m1".into()), None);
        p.push_audio(&[2u8; 200]);
        assert_eq!(p.push_mark("m2".into()), None);
        let (out, marks) = frame(&mut p);
        assert_eq!(out, vec![1u8; 160]);
        assert!(marks.is_empty(), "40 bytes before m1 still queued");
        let (out, marks) = frame(&mut p);
        assert_eq!(&out[..40], &[1u8; 40]);
        assert_eq!(&out[40..], &[2u8; 120][..]);
        assert_eq!(marks, vec!["m1"]);
        let (out, marks) = frame(&mut p);
        assert_eq!(&out[..80], &[2u8; 80]);
        assert!(out[80..].iter().all(|b| *b == ULAW_SILENCE), "silence after the FIFO ran out");
        assert_eq!(marks, vec!["m2"]);
        assert_eq!(p.queued(), 0);
    }

    #[test]
    fn clear_discards_audio_and_echoes_pending_marks_in_order() {
        let mut p = Playback::default();
        p.push_audio(&[1u8; 1000]);
        p.push_mark("a".into());
        p.push_audio(&[1u8; 1000]);
        p.push_mark("b".into());
        frame(&mut p);
        let mut echoed = Vec::new();
        assert_eq!(p.clear(&mut echoed), 2000 - 160);
        assert_eq!(echoed, vec!["a", "b"]);
        assert_eq!(p.pending_marks(), 0);
        let (out, marks) = frame(&mut p);
        assert!(out.iter().all(|b| *b == ULAW_SILENCE) && marks.is_empty());
        assert_eq!(p.push_mark("c".into()), Some("c".into()), "nothing queued after clear");
    }
}
