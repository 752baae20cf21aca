//! The dialling engine: one per main-app instance, ticking over the store.
//!
//! Every tick ([`Engine::tick`], which tests call with a controlled `now`):
//! 1. **Reconcile** ([`reconcile`]): every member in flight is checked against its call record;
//!    a call that ended finishes its attempt (outcome, retry policy); a dial whose lease expired
//!    (an instance crashed or stalled between claiming and recording the call) is taken over
//!    and recovered through the call's idempotency key, which is the attempt id. Outcomes still
//!    open to refinement are settled once post-call processing finalized the call.
//! 2. **Advance** each scheduled or running campaign: start it at its start date, complete it at
//!    its end date, pause it on a failure spike, then dial ([`dial`]): while concurrent slots
//!    (counted in the store, not in memory) and the pacing bucket allow, claim the next due
//!    member with one atomic write, check it (contact, do-not-call, calling window in the
//!    contact's zone, template variables), begin its attempt (refused once the campaign is not
//!    running), and place the call. A campaign with nothing left to dial or running completes.
//! 3. **Publish** progress that changed (`campaign:progress`).
//!
//! Call endings are also heard live (`LiveEvent::CallEnded`) so a slot frees at once; missing
//! one costs nothing, the next tick reconciles from the store. Nothing here survives a restart
//! and nothing needs to: a new engine (new instance id) picks up from the records.

pub mod dial;
pub mod prepare;
pub mod reconcile;

use chrono::{DateTime, Duration, Utc};
use std::collections::{HashMap, HashSet};
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use super::model::{Campaign, CampaignFilter, CampaignStatus};
use super::pacing::Pacer;
use super::progress::{self, Progress};
use crate::calls::model::Page;
use crate::live::LiveEvent;
use crate::state::AppState;
use crate::store::StoreResult;
use common::ids::CampaignId;

/// Most campaigns advanced per tick.
const MAX_CAMPAIGNS: u64 = 1000;
/// A campaign's progress is recomputed at most this often (and pushed when it changed).
const PROGRESS_EVERY: Duration = Duration::seconds(1);

/// What one tick did (for tests and logs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Calls placed (new attempts and recovered dials).
    pub dialled: usize,
    /// Attempts that ended.
    pub finished: usize,
    /// Members deferred to a later window.
    pub deferred: usize,
    /// Members skipped for good.
    pub skipped: usize,
    /// Stale dials taken over from another (or a dead) instance.
    pub recovered: usize,
}

/// One instance's engine. Owned by its task; tests own one directly.
pub struct Engine {
    state: AppState,
    instance: String,
    pacers: HashMap<CampaignId, Pacer>,
    published: HashMap<CampaignId, (DateTime<Utc>, Progress)>,
    touched: HashSet<CampaignId>,
    last_settle: Option<DateTime<Utc>>,
}

impl Engine {
    /// A new engine with a fresh instance id.
    pub fn new(state: AppState) -> Self {
        let instance = format!("main-app-{}", uuid::Uuid::new_v4());
        Self {
            state,
            instance,
            pacers: HashMap::new(),
            published: HashMap::new(),
            touched: HashSet::new(),
            last_settle: None,
        }
    }

    /// The id written into the leases this engine holds.
    pub fn instance_id(&self) -> &str {
        &self.instance
    }

    /// The pacing rate currently in force for a campaign on this instance.
    pub fn pacing_rate(&self, campaign: &CampaignId) -> Option<f64> {
        self.pacers.get(campaign).map(Pacer::rate)
    }

    fn lease(&self) -> Duration {
        Duration::from_std(self.state.settings.campaigns.lease).unwrap_or(Duration::minutes(2))
    }

    /// One step: reconcile, advance every active campaign (paused ones only to end them at their
    /// end date), publish progress.
    pub async fn tick(&mut self, now: DateTime<Utc>) -> StoreResult<TickReport> {
        let mut report = TickReport::default();
        self.reconcile(now, &mut report).await?;
        self.settle(now).await?;
        let filter = CampaignFilter {
            statuses: vec![CampaignStatus::Scheduled, CampaignStatus::Running, CampaignStatus::Paused],
            search: None,
        };
        let active =
            self.state.store.list_campaigns(&filter, Page { offset: 0, limit: MAX_CAMPAIGNS }).await?;
        let mut dials = Vec::new();
        for campaign in active.items {
            let id = campaign.id.clone();
            match self.advance(campaign, now, &mut report).await {
                Ok(mut planned) => dials.append(&mut planned),
                Err(e) => tracing::error!(campaign_id = %id, error = %e, "campaign step failed"),
            }
        }
        self.place_all(dials, now, &mut report).await;
        let watched: Vec<CampaignId> = self.published.keys().cloned().collect();
        self.touched.extend(watched);
        self.publish(now).await;
        Ok(report)
    }

    /// Starts, ends, breaks or dials one active campaign; returns the dials it planned.
    async fn advance(
        &mut self,
        mut campaign: Campaign,
        now: DateTime<Utc>,
        report: &mut TickReport,
    ) -> StoreResult<Vec<dial::Dial>> {
        let store = self.state.store.clone();
        let ended = campaign.settings.end_at.is_some_and(|e| e <= now);
        if campaign.status == CampaignStatus::Paused {
            // A paused campaign whose end date passes is over: it would never dial again.
            let from = [CampaignStatus::Paused];
            let reason = Some("the end date passed");
            if ended
                && store
                    .set_status(&campaign.id, &from, CampaignStatus::Completed, reason, now)
                    .await?
                    .is_some()
            {
                self.touched.insert(campaign.id.clone());
            }
            return Ok(Vec::new());
        }
        self.touched.insert(campaign.id.clone());
        if campaign.status == CampaignStatus::Scheduled {
            if campaign.settings.start_at.is_some_and(|s| s > now) {
                return Ok(Vec::new());
            }
            let from = [CampaignStatus::Scheduled];
            let Some(started) =
                store.set_status(&campaign.id, &from, CampaignStatus::Running, None, now).await?
            else {
                return Ok(Vec::new());
            };
            tracing::info!(campaign_id = %campaign.id, "scheduled campaign started");
            self.touched.insert(campaign.id.clone());
            campaign = started;
        }
        if ended {
            let reason = Some("the end date passed");
            store
                .set_status(&campaign.id, &[CampaignStatus::Running], CampaignStatus::Completed, reason, now)
                .await?;
            self.touched.insert(campaign.id.clone());
            return Ok(Vec::new());
        }
        if self.breaker_tripped(&campaign, now).await? {
            return Ok(Vec::new());
        }
        let planned = self.plan(&campaign, now, report).await?;
        if planned.is_empty() && store.complete_if_drained(&campaign.id, now).await?.is_some() {
            tracing::info!(campaign_id = %campaign.id, "campaign completed");
            self.touched.insert(campaign.id.clone());
        }
        Ok(planned)
    }

    /// Pauses `campaign` when too many of its recent calls failed. Returns true if it did.
    async fn breaker_tripped(&mut self, campaign: &Campaign, now: DateTime<Utc>) -> StoreResult<bool> {
        let cfg = &self.state.settings.campaigns;
        let window = Duration::from_std(cfg.failure_window).unwrap_or(Duration::minutes(2));
        // Failures from before the last state change (a resume) do not count again.
        let since = (now - window).max(campaign.updated_at);
        let recent = self.state.store.attempt_stats(&campaign.id, Some(since)).await?;
        let ratio = if recent.ended == 0 { 0.0 } else { recent.failed as f64 / recent.ended as f64 };
        if recent.ended < cfg.failure_min_calls || ratio <= cfg.failure_ratio {
            return Ok(false);
        }
        let reason = format!(
            "failure spike: {} of the last {} calls failed within {} s",
            recent.failed,
            recent.ended,
            window.num_seconds()
        );
        tracing::warn!(campaign_id = %campaign.id, %reason, "pausing campaign");
        let from = [CampaignStatus::Running];
        let paused = self
            .state
            .store
            .set_status(&campaign.id, &from, CampaignStatus::Paused, Some(&reason), now)
            .await?;
        self.touched.insert(campaign.id.clone());
        Ok(paused.is_some())
    }

    /// Publishes the progress of campaigns touched this tick (and refreshes idle ones).
    async fn publish(&mut self, now: DateTime<Utc>) {
        let touched: Vec<CampaignId> = self.touched.drain().collect();
        for id in touched {
            let last = self.published.get(&id).map(|(at, _)| *at);
            if last.is_some_and(|at| now - at < PROGRESS_EVERY) {
                self.touched.insert(id);
                continue;
            }
            if let Err(e) = self.publish_one(&id, now).await {
                tracing::warn!(campaign_id = %id, error = %e, "cannot compute campaign progress");
            }
        }
    }

    async fn publish_one(&mut self, id: &CampaignId, now: DateTime<Utc>) -> StoreResult<()> {
        let Some(campaign) = self.state.store.get_campaign(id).await? else {
            self.published.remove(id);
            self.state.live.remove_campaign(id.as_str());
            return Ok(());
        };
        let p = progress::compute(&*self.state.store, &campaign, now).await?;
        if self.published.get(id).is_none_or(|(_, old)| p.changed_from(old)) {
            self.state.live.publish_campaign(p.to_live());
        }
        let active =
            matches!(campaign.status, CampaignStatus::Running | CampaignStatus::Scheduled) || p.in_flight > 0;
        if active {
            self.published.insert(id.clone(), (now, p));
        } else {
            // Watched again when something touches it (a resume, a call ending).
            self.published.remove(id);
            if campaign.status.is_final() {
                self.state.live.remove_campaign(id.as_str());
            }
        }
        Ok(())
    }

    /// Marks a campaign's progress as needing a refresh (the API calls this after a change).
    pub fn touch(&mut self, id: &CampaignId) {
        self.touched.insert(id.clone());
    }
}

/// Runs the engine until `stop` (no-op when `CAMPAIGN_ENGINE=false`).
pub async fn run(state: AppState, stop: CancellationToken) {
    if !state.settings.campaigns.engine {
        tracing::info!("campaign engine disabled in this instance (CAMPAIGN_ENGINE=false)");
        return;
    }
    let mut engine = Engine::new(state.clone());
    tracing::info!(instance = engine.instance_id(), "campaign engine started");
    let mut events = state.live.subscribe();
    let mut tick = tokio::time::interval(state.settings.campaigns.tick);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => {
                if let Err(e) = engine.tick(Utc::now()).await {
                    tracing::error!(error = %e, "campaign engine tick failed");
                }
            }
            event = events.recv() => match event {
                Ok(LiveEvent::CallEnded(call)) => engine.on_call_ended(&call, Utc::now()).await,
                // Missed events are caught up by the next tick's reconciliation.
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            },
        }
    }
}
