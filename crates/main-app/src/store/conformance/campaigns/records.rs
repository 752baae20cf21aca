//! Campaign records, state changes and members (joining, listing, counting).

use std::collections::HashSet;

use super::{at, campaign, running_with};
use crate::calls::model::Page;
use crate::campaigns::model::{CampaignFilter, CampaignStatus, MemberState};
use crate::campaigns::settings_model::CampaignSettings;
use crate::store::Store;
use crate::store::conformance::fixtures::t0;
use common::ids::ContactId;

use CampaignStatus::{Canceled, Draft, Paused, Running, Scheduled};

fn page(offset: u64, limit: u64) -> Page {
    Page { offset, limit }
}

/// Campaigns round-trip; a state change happens only from the expected states and stamps its
/// times; settings cannot change once a campaign is final.
pub async fn campaign_states_are_conditional(store: &dyn Store) {
    let c = campaign(Draft);
    store.insert_campaign(&c).await.expect("insert");
    assert_eq!(store.get_campaign(&c.id).await.expect("get"), Some(c.clone()));

    assert_eq!(store.set_status(&c.id, &[Running], Paused, None, at(1)).await.expect("refused"), None);
    let run = store
        .set_status(&c.id, &[Draft, Scheduled], Running, None, at(2))
        .await
        .expect("start")
        .expect("moved");
    assert_eq!((run.status, run.started_at, run.updated_at), (Running, Some(at(2)), at(2)));
    let paused = store
        .set_status(&c.id, &[Running], Paused, Some("$insufficient balance"), at(3))
        .await
        .expect("pause")
        .expect("moved");
    assert_eq!(paused.status_reason.as_deref(), Some("$insufficient balance"));
    let again =
        store.set_status(&c.id, &[Paused], Running, None, at(4)).await.expect("resume").expect("moved");
    assert_eq!((again.started_at, again.status_reason), (Some(at(2)), None), "first start kept");

    let mut s = CampaignSettings { max_concurrent: 9, ..c.settings.clone() };
    s.prompt = Some("{{x}} $y".into());
    let edited =
        store.update_campaign(&c.id, "Renamed", None, &s, at(5)).await.expect("edit").expect("edited");
    assert_eq!((edited.name.as_str(), edited.description.as_ref(), &edited.settings), ("Renamed", None, &s));

    let done =
        store.set_status(&c.id, &[Running], Canceled, None, at(6)).await.expect("cancel").expect("moved");
    assert_eq!((done.finished_at, done.status), (Some(at(6)), Canceled));
    assert_eq!(store.update_campaign(&c.id, "x", None, &s, at(7)).await.expect("edit"), None, "final");
    assert_eq!(store.set_status(&c.id, &[], Running, None, at(8)).await.expect("empty from"), None);
    assert_eq!(store.get_campaign(&c.id).await.expect("get"), Some(done));
}

/// Listing filters by state and searches name and description; newest first.
pub async fn campaigns_list_and_search(store: &dyn Store) {
    let mut a = campaign(Draft);
    a.name = "Alpha (test)".into();
    let mut b = campaign(Running);
    b.name = "Beta".into();
    b.description = Some("second ALPHA list".into());
    b.created_at = at(10);
    store.insert_campaign(&a).await.expect("insert");
    store.insert_campaign(&b).await.expect("insert");
    let all = store.list_campaigns(&CampaignFilter::default(), page(0, 10)).await.expect("list");
    assert_eq!(all.items.iter().map(|c| c.id.clone()).collect::<Vec<_>>(), vec![b.id.clone(), a.id.clone()]);
    let running = CampaignFilter { statuses: vec![Running, Paused], search: None };
    assert_eq!(store.list_campaigns(&running, page(0, 10)).await.expect("list").items, vec![b.clone()]);
    let alpha = CampaignFilter { statuses: vec![], search: Some("alpha".into()) };
    assert_eq!(store.list_campaigns(&alpha, page(0, 10)).await.expect("list").total, 2);
    let literal = CampaignFilter { statuses: vec![], search: Some("(test)".into()) };
    assert_eq!(store.list_campaigns(&literal, page(0, 10)).await.expect("list").items, vec![a]);
}

/// Joining is idempotent and keeps order; removal only takes pending members; counts add up;
/// deleting a campaign takes its members with it.
pub async fn members_join_list_count_and_leave(store: &dyn Store) {
    let (c, contacts) = running_with(store, 5).await;
    let extra = ContactId::new();
    let again = vec![(contacts[0].clone(), at(0)), (extra.clone(), at(100))];
    assert_eq!(store.add_members(&c.id, &again).await.expect("add"), 1, "existing members left alone");
    let listed = store.list_members(&c.id, &[], page(0, 100)).await.expect("list");
    let order: Vec<ContactId> = listed.items.iter().map(|m| m.contact_id.clone()).collect();
    let mut expected = contacts.clone();
    expected.push(extra.clone());
    assert_eq!(order, expected, "joining order");
    assert!(listed.items.iter().all(|m| m.state == MemberState::Pending && m.attempts == 0));
    assert_eq!(listed.items[0].due_at, Some(t0()));

    let stats = store.member_stats(&c.id).await.expect("stats");
    assert_eq!((stats.total, stats.pending, stats.unfinished(), stats.next_due), (6, 6, 6, Some(t0())));
    let m = store.get_member(&c.id, &extra).await.expect("get").expect("member");
    assert_eq!(m.due_at, Some(at(100)));

    store.claim_member(&c.id, "i1", at(0), at(60)).await.expect("claim").expect("claimed");
    let removed =
        store.remove_members(&c.id, &[contacts[0].clone(), contacts[1].clone()]).await.expect("remove");
    assert_eq!(removed, 1, "a claimed member stays");
    let pending = store.list_members(&c.id, &[MemberState::Pending], page(0, 100)).await.expect("list");
    assert_eq!(pending.total, 4);
    let ids: HashSet<String> = pending.items.iter().map(|m| m.id.clone()).collect();
    assert_eq!(ids.len(), 4);

    assert!(store.delete_campaign(&c.id).await.expect("delete"));
    assert!(!store.delete_campaign(&c.id).await.expect("delete twice"));
    assert_eq!(store.list_members(&c.id, &[], page(0, 10)).await.expect("list").total, 0);
    assert_eq!(store.get_campaign(&c.id).await.expect("get"), None);
}
