//! Helpers for campaign tests: the fake Twilio, contacts and campaigns written through the
//! store, and an engine whose Twilio client does not retry 429s (so a test sees them).
#![allow(dead_code, clippy::unwrap_used)]

pub mod fake_twilio;

use chrono::{DateTime, TimeZone, Utc};
use std::collections::BTreeMap;
use std::time::Duration;

use common::ids::{CampaignId, ContactId};
use common::phone::PhoneNumber;
use main_app::AppState;
use main_app::campaigns::engine::Engine;
use main_app::campaigns::model::{Campaign, CampaignStatus, Member, MemberState};
use main_app::campaigns::settings_model::CampaignSettings;
use main_app::contacts::model::Contact;
use main_app::retry::Backoff;

/// An instant given as RFC 3339.
pub fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Now, truncated to the millisecond (the stored precision).
pub fn now_ms() -> DateTime<Utc> {
    Utc.timestamp_millis_opt(Utc::now().timestamp_millis()).unwrap()
}

/// A contact with `number` and an optional explicit zone.
pub fn contact(number: &str, zone: Option<&str>) -> Contact {
    let now = now_ms();
    Contact {
        id: ContactId::new(),
        phone: PhoneNumber::parse_e164(number).unwrap(),
        first_name: Some("Ann".into()),
        last_name: Some("Lee".into()),
        name: Some("Ann Lee".into()),
        email: None,
        time_zone: zone.map(str::to_owned),
        tags: vec![],
        custom_fields: BTreeMap::new(),
        notes: None,
        created_at: now,
        updated_at: now,
    }
}

/// Stores contacts for `numbers` and returns their ids in order.
pub async fn add_contacts(state: &AppState, numbers: &[&str]) -> Vec<ContactId> {
    let mut ids = Vec::new();
    for n in numbers {
        let c = contact(n, None);
        state.store.insert_contact(&c).await.unwrap();
        ids.push(c.id);
    }
    ids
}

/// Stores a running campaign with `settings` whose members are `contacts`, due at `due`.
pub async fn running_campaign(
    state: &AppState,
    settings: CampaignSettings,
    contacts: &[ContactId],
    due: DateTime<Utc>,
) -> Campaign {
    let now = now_ms();
    let c = Campaign {
        id: CampaignId::new(),
        name: "test campaign".into(),
        description: None,
        status: CampaignStatus::Draft,
        status_reason: None,
        settings,
        created_at: now,
        updated_at: utc("2000-01-01T00:00:00Z"),
        started_at: None,
        finished_at: None,
    };
    state.store.insert_campaign(&c).await.unwrap();
    let members: Vec<(ContactId, DateTime<Utc>)> = contacts.iter().map(|id| (id.clone(), due)).collect();
    state.store.add_members(&c.id, &members).await.unwrap();
    // Started once its members are in (a running campaign with none completes at once). The
    // state change is dated long ago so the failure breaker's window is not cut short by it.
    let old = utc("2000-01-01T00:00:00Z");
    let from = [CampaignStatus::Draft];
    state.store.set_status(&c.id, &from, CampaignStatus::Running, None, old).await.unwrap().unwrap()
}

/// An engine on `state` whose Twilio client gives up at the first 429.
pub fn engine(state: &AppState) -> Engine {
    let mut state = state.clone();
    state.twilio = state.twilio.clone().with_backoff(Backoff {
        base: Duration::from_millis(1),
        factor: 1.0,
        max: Duration::from_millis(1),
        max_attempts: 1,
    });
    Engine::new(state)
}

/// Every member of a campaign, in joining order.
pub async fn members(state: &AppState, id: &CampaignId) -> Vec<Member> {
    let page = main_app::calls::model::Page { offset: 0, limit: 1000 };
    state.store.list_members(id, &[], page).await.unwrap().items
}

/// The member of `contact`.
pub async fn member(state: &AppState, campaign: &CampaignId, contact: &ContactId) -> Member {
    state.store.get_member(campaign, contact).await.unwrap().unwrap()
}

/// Members in `state_`.
pub async fn count_in(state: &AppState, id: &CampaignId, s: MemberState) -> usize {
    members(state, id).await.iter().filter(|m| m.state == s).count()
}

/// The campaign as stored.
pub async fn campaign(state: &AppState, id: &CampaignId) -> Campaign {
    state.store.get_campaign(id).await.unwrap().unwrap()
}
