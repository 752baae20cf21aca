//! Contacts joining a campaign: each becomes a pending member due at its own next calling-window
//! opening (in its zone), so contacts outside their window are not even claimed until then.

use chrono::{DateTime, Utc};

use super::engine::prepare::default_zone;
use super::model::Campaign;
use super::window;
use crate::contacts::model::Contact;
use crate::contacts::tz;
use crate::state::AppState;
use crate::store::StoreResult;
use common::ids::ContactId;

/// Contacts read per query while joining.
const BATCH: usize = 1000;

/// When `contact` may first be called in `campaign`, from `now` (its start date if later).
pub fn first_due(campaign: &Campaign, contact: &Contact, now: DateTime<Utc>) -> DateTime<Utc> {
    let from = campaign.settings.start_at.map_or(now, |s| s.max(now));
    let (zone, _) = tz::effective(contact.time_zone.as_deref(), &contact.phone, default_zone(campaign));
    // No window ever opening: due now; the engine then skips it with the reason.
    window::next_opening(&campaign.settings.windows, zone, from).unwrap_or(from)
}

/// Adds `contacts` to `campaign` (existing members untouched). Returns how many joined.
pub async fn join(
    state: &AppState,
    campaign: &Campaign,
    contacts: &[Contact],
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    let members: Vec<(ContactId, DateTime<Utc>)> =
        contacts.iter().map(|c| (c.id.clone(), first_due(campaign, c, now))).collect();
    state.store.add_members(&campaign.id, &members).await
}

/// Adds the contacts with these ids (unknown ids are ignored). Returns how many joined.
pub async fn join_ids(
    state: &AppState,
    campaign: &Campaign,
    ids: &[ContactId],
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    let mut added = 0;
    for chunk in ids.chunks(BATCH) {
        let mut contacts = state.store.get_contacts(chunk).await?;
        // Keep the order given (joining order is dialling order among equally due members).
        let position = |id: &ContactId| chunk.iter().position(|c| c == id).unwrap_or(usize::MAX);
        contacts.sort_by_key(|c| position(&c.id));
        added += join(state, campaign, &contacts, now).await?;
    }
    Ok(added)
}
