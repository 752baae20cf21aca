//! Turns a claimed member into a call to place, or says why not now (deferred to its next
//! calling window, or while the person is on a call from another campaign) or never (skipped:
//! do-not-call, deleted contact, missing template variables, no window ever opens).

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde_json::Value;
use std::collections::BTreeMap;

use super::super::model::{Campaign, Member};
use super::super::{template, window};
use crate::calls::model::{CallFilter, Page};
use crate::calls::service::NewCall;
use crate::contacts::model::Contact;
use crate::contacts::tz;
use crate::state::AppState;
use crate::store::StoreResult;
use common::call::CallStatus;
use common::phone::PhoneNumber;

/// Most dynamic variables passed to the agent (the call API's own limit).
const MAX_VARIABLES: usize = 50;
/// Longest variable value passed to the agent.
const MAX_VALUE_CHARS: usize = 2_000;

/// A contact on a call from another campaign is looked at again after this.
pub(super) const BUSY_ELSEWHERE_RETRY: Duration = Duration::seconds(30);
/// How far back a call still not ended counts as the person being on the line (older ones are
/// records whose end was missed; start-up reconciliation settles them).
const LIVE_CALL_HORIZON: Duration = Duration::hours(2);

/// What to do with a claimed member.
#[derive(Debug, Clone)]
pub enum Prepared {
    /// Place this call.
    Dial(Box<NewCall>),
    /// Not now: due again at `due_at`.
    Defer {
        /// When.
        due_at: DateTime<Utc>,
        /// Why.
        note: String,
    },
    /// Never.
    Skip {
        /// Why.
        note: String,
    },
}

/// The campaign's default zone (UTC if the stored name no longer parses).
pub fn default_zone(campaign: &Campaign) -> Tz {
    tz::parse_zone(&campaign.settings.time_zone).unwrap_or(Tz::UTC)
}

/// Decides for `member` of `campaign` at `now`.
pub async fn prepare(
    state: &AppState,
    campaign: &Campaign,
    member: &Member,
    now: DateTime<Utc>,
) -> StoreResult<Prepared> {
    let Some(contact) = state.store.get_contact(&member.contact_id).await? else {
        return Ok(Prepared::Skip { note: "the contact was deleted".into() });
    };
    if let Some(entry) = state.store.get_dnc(&contact.phone).await? {
        let why = entry.reason.map(|r| format!(": {r}")).unwrap_or_default();
        return Ok(Prepared::Skip { note: format!("on the do-not-call list{why}") });
    }
    // One person is never rung by two campaigns at once (campaign dials are planned one at a
    // time per instance, and a dial is `dialing` before the next member is prepared).
    if let Some(other) = state.store.in_flight_elsewhere(&contact.id, &campaign.id).await? {
        let note = format!("on a call from campaign {other}; tried again shortly");
        return Ok(Prepared::Defer { due_at: now + BUSY_ELSEWHERE_RETRY, note });
    }
    if on_a_single_call(state, &contact.phone, now).await? {
        let note = "on another call to this number; tried again shortly".to_owned();
        return Ok(Prepared::Defer { due_at: now + BUSY_ELSEWHERE_RETRY, note });
    }
    let (zone, _) = tz::effective(contact.time_zone.as_deref(), &contact.phone, default_zone(campaign));
    match window::next_opening(&campaign.settings.windows, zone, now) {
        None => return Ok(Prepared::Skip { note: "no calling window ever opens".into() }),
        Some(due_at) if due_at > now => {
            let local = due_at.with_timezone(&zone).format("%a %H:%M");
            let note = format!("outside the calling window; opens {local} ({zone})");
            return Ok(Prepared::Defer { due_at, note });
        }
        Some(_) => {}
    }
    Ok(build(state, campaign, &contact))
}

/// Whether a call to `phone` placed outside campaigns (a single call from the API or the
/// dashboard) has not ended yet.
async fn on_a_single_call(state: &AppState, phone: &PhoneNumber, now: DateTime<Utc>) -> StoreResult<bool> {
    let filter = CallFilter {
        statuses: CallStatus::ALL.into_iter().filter(|s| !s.is_terminal()).collect(),
        phone: Some(phone.as_str().to_owned()),
        created_from: Some(now - LIVE_CALL_HORIZON),
        ..Default::default()
    };
    let live = state.store.list_calls(&filter, Page { offset: 0, limit: 20 }).await?;
    Ok(live.items.iter().any(|c| &c.to == phone && c.campaign_id.is_none()))
}

/// The call for `contact`, or a skip naming the variables it lacks.
pub fn build(state: &AppState, campaign: &Campaign, contact: &Contact) -> Prepared {
    let s = &campaign.settings;
    let vars = template::contact_variables(contact);
    let render = |t: &Option<String>| t.as_deref().map(|t| template::render(t, &vars)).transpose();
    let (prompt, first_message) = match (render(&s.prompt), render(&s.first_message)) {
        (Ok(p), Ok(f)) => (p, f),
        (p, f) => {
            let mut missing: Vec<String> = p.err().into_iter().chain(f.err()).flatten().collect();
            missing.sort();
            missing.dedup();
            return Prepared::Skip { note: format!("missing template variables: {}", missing.join(", ")) };
        }
    };
    let policy = s.amd_policy.clone().unwrap_or_else(|| state.settings.post_call.amd_policy.clone());
    Prepared::Dial(Box::new(NewCall {
        to: Some(contact.phone.clone()),
        from: s.caller_id.clone(),
        name: contact.name.clone().or_else(|| display_name(contact)),
        prompt,
        first_message,
        language: s.language.clone(),
        dynamic_variables: agent_variables(vars),
        contact_id: Some(contact.id.clone()),
        campaign_id: Some(campaign.id.clone()),
        idempotency_key: None,
        amd: state.settings.calls.amd.then_some(policy.detection_mode()),
        amd_policy: Some(policy),
    }))
}

fn display_name(c: &Contact) -> Option<String> {
    let parts: Vec<&str> = [c.first_name.as_deref(), c.last_name.as_deref()].into_iter().flatten().collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// The contact's variables in the form the agent accepts (names of letters, digits and `_` up to
/// 64 characters, not `system__…`; values up to 2,000 characters; at most 50).
fn agent_variables(vars: BTreeMap<String, String>) -> BTreeMap<String, Value> {
    vars.into_iter()
        .filter(|(k, _)| {
            k.len() <= 64
                && !k.starts_with("system__")
                && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
        .map(|(k, v)| (k, Value::String(v.chars().take(MAX_VALUE_CHARS).collect())))
        .take(MAX_VARIABLES)
        .collect()
}
