//! Conformance cases of [`CampaignStore`](crate::campaigns::store::CampaignStore) and
//! [`DialStore`](crate::campaigns::store::DialStore), split by concern.

mod claims;
mod records;

pub use claims::*;
pub use records::*;

use chrono::{DateTime, Duration, Utc};

use crate::campaigns::model::{Attempt, AttemptResult, Campaign, CampaignStatus, Member};
use crate::campaigns::settings_model::CampaignSettings;
use crate::store::Store;
use crate::store::conformance::fixtures::t0;
use common::ids::{CampaignId, ContactId};

/// A campaign in `status`, created at [`t0`].
pub fn campaign(status: CampaignStatus) -> Campaign {
    Campaign {
        id: CampaignId::new(),
        name: "Spring \"renewals\" $promo".into(),
        description: Some("Zoë's list".into()),
        status,
        status_reason: None,
        settings: CampaignSettings { prompt: Some("Hi {{name}}".into()), ..CampaignSettings::default() },
        created_at: t0(),
        updated_at: t0(),
        started_at: None,
        finished_at: None,
    }
}

/// `t0 + s seconds`.
pub fn at(s: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(s)
}

/// Stores a running campaign with `n` members due at `t0`, returning it and the contact ids
/// (in joining order).
pub async fn running_with(store: &dyn Store, n: usize) -> (Campaign, Vec<ContactId>) {
    let c = campaign(CampaignStatus::Running);
    store.insert_campaign(&c).await.expect("insert campaign");
    let contacts: Vec<ContactId> = (0..n).map(|_| ContactId::new()).collect();
    let members: Vec<(ContactId, DateTime<Utc>)> = contacts.iter().map(|id| (id.clone(), t0())).collect();
    assert_eq!(store.add_members(&c.id, &members).await.expect("add"), n as u64);
    (c, contacts)
}

/// The attempt `owner` would begin for a claimed member at `started`.
pub fn attempt_for(m: &Member, owner: &str, started: DateTime<Utc>) -> Attempt {
    Attempt {
        id: uuid::Uuid::now_v7().to_string(),
        campaign_id: m.campaign_id.clone(),
        contact_id: m.contact_id.clone(),
        member_id: m.id.clone(),
        number: m.attempts + 1,
        instance_id: owner.to_owned(),
        started_at: started,
        call_id: None,
        ended_at: None,
        outcome: None,
        outcome_final: false,
        result: AttemptResult::Dialing,
        detail: None,
    }
}
