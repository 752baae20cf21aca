//! The live-calls registry: an in-memory view of every call that has not ended, and the stream
//! of live events the dashboard and the campaign engine listen to.
//!
//! The store is the truth; this is a cache of it, rebuilt at start-up from the store's
//! unfinished calls. Every change to a call passes through [`LiveHub::publish_call`], which
//! updates the registry and broadcasts a [`LiveEvent`]. Subscribers (the Socket.IO bridge, the
//! campaign engine) read from a bounded broadcast channel: a subscriber that falls behind misses
//! events (it is told how many) and resynchronises from a snapshot, which is why every Socket.IO
//! subscription starts with one. [`socketio`] forwards these events into Socket.IO rooms.

pub mod socketio;

use dashmap::DashMap;
use std::sync::Arc;
use tokio::sync::broadcast;

use crate::calls::model::Call;
use common::events::TranscriptLine;
use common::events::live::{CampaignProgress, LiveCall};
use common::ids::CallId;

/// How many events a slow subscriber may lag before it misses some.
const CHANNEL_CAPACITY: usize = 4096;

/// Something that happened to a live call.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveEvent {
    /// A call was created.
    CallCreated(LiveCall),
    /// A call changed (status, answered-by, conversation id, ...).
    CallUpdated(LiveCall),
    /// A call reached a terminal status.
    CallEnded(LiveCall),
    /// A whole transcript line, new or updated.
    Transcript {
        /// The call.
        call_id: String,
        /// The line.
        line: TranscriptLine,
    },
    /// A campaign's progress changed (published by the campaign engine).
    CampaignProgress(CampaignProgress),
}

/// The registry and its event channel. Cheap to clone.
#[derive(Clone)]
pub struct LiveHub {
    calls: Arc<DashMap<CallId, LiveCall>>,
    transcripts: Arc<DashMap<CallId, Vec<TranscriptLine>>>,
    campaigns: Arc<DashMap<String, CampaignProgress>>,
    events: broadcast::Sender<LiveEvent>,
}

impl Default for LiveHub {
    fn default() -> Self {
        Self::new()
    }
}

impl LiveHub {
    /// An empty registry.
    pub fn new() -> Self {
        let (events, _) = broadcast::channel(CHANNEL_CAPACITY);
        Self {
            calls: Arc::new(DashMap::new()),
            transcripts: Arc::new(DashMap::new()),
            campaigns: Arc::new(DashMap::new()),
            events,
        }
    }

    /// Listens to live events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.events.subscribe()
    }

    /// Records the call's current state and tells subscribers. `created` marks a new call.
    pub fn publish_call(&self, call: &Call, created: bool) {
        let live = to_live(call);
        let event = if call.status.is_terminal() {
            self.calls.remove(&call.id);
            self.transcripts.remove(&call.id);
            LiveEvent::CallEnded(live)
        } else {
            self.calls.insert(call.id.clone(), live.clone());
            if created { LiveEvent::CallCreated(live) } else { LiveEvent::CallUpdated(live) }
        };
        // No subscribers is normal (nobody watching): ignoring the send error is safe.
        let _ = self.events.send(event);
    }

    /// Adds or replaces (same `index`) a transcript line of a live call and tells subscribers.
    pub fn publish_transcript(&self, call_id: &CallId, line: TranscriptLine) {
        if self.calls.contains_key(call_id) {
            let mut lines = self.transcripts.entry(call_id.clone()).or_default();
            match lines.iter_mut().find(|l| l.index == line.index) {
                Some(existing) => *existing = line.clone(),
                None => {
                    lines.push(line.clone());
                    lines.sort_by_key(|l| l.index);
                }
            }
        }
        // See publish_call.
        let _ = self.events.send(LiveEvent::Transcript { call_id: call_id.to_string(), line });
    }

    /// Records a campaign's latest progress and pushes it to the `campaigns` and
    /// `campaign:<id>` rooms: the one call the campaign engine makes on every change.
    pub fn publish_campaign(&self, progress: CampaignProgress) {
        self.campaigns.insert(progress.campaign_id.clone(), progress.clone());
        // See publish_call.
        let _ = self.events.send(LiveEvent::CampaignProgress(progress));
    }

    /// Forgets a campaign that is no longer active (it leaves `campaigns:snapshot`).
    pub fn remove_campaign(&self, campaign_id: &str) {
        self.campaigns.remove(campaign_id);
    }

    /// The latest progress of every active campaign known to this instance, by id.
    pub fn campaigns(&self) -> Vec<CampaignProgress> {
        let mut all: Vec<CampaignProgress> = self.campaigns.iter().map(|e| e.value().clone()).collect();
        all.sort_by(|a, b| a.campaign_id.cmp(&b.campaign_id));
        all
    }

    /// The latest progress of one campaign.
    pub fn campaign(&self, campaign_id: &str) -> Option<CampaignProgress> {
        self.campaigns.get(campaign_id).map(|e| e.value().clone())
    }

    /// Every live call, oldest first.
    pub fn snapshot(&self) -> Vec<LiveCall> {
        let mut calls: Vec<LiveCall> = self.calls.iter().map(|e| e.value().clone()).collect();
        calls.sort_by_key(|c| c.created_at);
        calls
    }

    /// One live call.
    pub fn get(&self, id: &CallId) -> Option<LiveCall> {
        self.calls.get(id).map(|e| e.value().clone())
    }

    /// The live transcript so far of a call (empty once it ended).
    pub fn transcript(&self, id: &CallId) -> Vec<TranscriptLine> {
        self.transcripts.get(id).map(|e| e.value().clone()).unwrap_or_default()
    }

    /// Number of live calls.
    pub fn len(&self) -> usize {
        self.calls.len()
    }

    /// True when no call is live.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }
}

/// The live view of a stored call.
pub fn to_live(call: &Call) -> LiveCall {
    LiveCall {
        id: call.id.to_string(),
        call_sid: call.call_sid.as_ref().map(ToString::to_string),
        to: call.to.to_string(),
        from: call.from.to_string(),
        name: call.name.clone(),
        status: call.status,
        answered_by: call.answered_by,
        outcome: call.outcome,
        terminated_by: call.terminated_by.clone(),
        created_at: call.created_at,
        answered_at: call.answered_at,
        ended_at: call.ended_at,
        campaign_id: call.campaign_id.as_ref().map(ToString::to_string),
        contact_id: call.contact_id.as_ref().map(ToString::to_string),
        conversation_id: call.conversation_id.clone(),
    }
}
