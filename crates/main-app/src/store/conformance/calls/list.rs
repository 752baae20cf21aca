//! Listing calls: filters, order, pagination, totals, unfinished calls.

use chrono::Duration;
use std::collections::BTreeSet;

use super::insert::page;
use super::insert_new;
use crate::calls::model::{Call, CallFilter, Page, StatusUpdate};
use crate::store::conformance::fixtures::{call_at, phone, t0};
use crate::store::{MAX_PAGE, Store};
use common::call::{CallStatus, Outcome};
use common::ids::{CallId, CampaignId, ContactId};

struct Spec {
    to: &'static str,
    status: CallStatus,
    outcome: Option<Outcome>,
    campaign: Option<usize>,
    contact: Option<usize>,
}

/// Stores five calls created one second apart (index i at t0 + i+1 s) and returns their ids.
async fn seed(store: &dyn Store, campaigns: &[CampaignId], contacts: &[ContactId]) -> Vec<CallId> {
    use CallStatus::*;
    let specs = [
        Spec {
            to: "+12015550123",
            status: Completed,
            outcome: Some(Outcome::ConversationHeld),
            campaign: Some(0),
            contact: Some(0),
        },
        Spec {
            to: "+61412345678",
            status: NoAnswer,
            outcome: Some(Outcome::NoAnswer),
            campaign: Some(0),
            contact: Some(1),
        },
        Spec { to: "+61412345679", status: InProgress, outcome: None, campaign: Some(1), contact: None },
        Spec { to: "+447400123456", status: Queued, outcome: None, campaign: None, contact: None },
        Spec {
            to: "+12015550124",
            status: Busy,
            outcome: Some(Outcome::Busy),
            campaign: None,
            contact: Some(0),
        },
    ];
    let mut ids = Vec::new();
    for (i, s) in specs.iter().enumerate() {
        let offset = i64::try_from(i).expect("small") + 1;
        let c = Call {
            to: phone(s.to),
            status: s.status,
            outcome: s.outcome,
            campaign_id: s.campaign.map(|n| campaigns[n].clone()),
            contact_id: s.contact.map(|n| contacts[n].clone()),
            ..call_at(t0() + Duration::seconds(offset))
        };
        ids.push(insert_new(store, &c).await.id);
    }
    ids
}

async fn ids_of(store: &dyn Store, filter: &CallFilter, page: Page) -> (Vec<CallId>, u64) {
    let p = store.list_calls(filter, page).await.expect("list_calls");
    (p.items.into_iter().map(|c| c.id).collect(), p.total)
}

/// Every filter narrows the list; filters combine with AND, values within one filter with OR.
pub async fn list_filters(store: &dyn Store) {
    let campaigns = [CampaignId::new(), CampaignId::new()];
    let contacts = [ContactId::new(), ContactId::new()];
    let ids = seed(store, &campaigns, &contacts).await;
    let c = |i: usize| ids[i].clone();
    let all = page(100);
    let expect = |v: Vec<CallId>| {
        let n = u64::try_from(v.len()).expect("small");
        (v, n)
    };

    let f = CallFilter::default();
    assert_eq!(ids_of(store, &f, all).await, expect(vec![c(4), c(3), c(2), c(1), c(0)]), "newest first");

    let f = CallFilter { statuses: vec![CallStatus::Completed, CallStatus::Busy], ..Default::default() };
    assert_eq!(ids_of(store, &f, all).await, expect(vec![c(4), c(0)]), "statuses: any of");
    let f = CallFilter { outcomes: vec![Outcome::NoAnswer, Outcome::Busy], ..Default::default() };
    assert_eq!(ids_of(store, &f, all).await, expect(vec![c(4), c(1)]), "outcomes: any of");

    for (needle, want) in [
        ("614123456", vec![c(2), c(1)]),
        ("+1201", vec![c(4), c(0)]),
        ("5550124", vec![c(4)]),
        ("+44", vec![c(3)]),
        ("999999", vec![]),
    ] {
        let f = CallFilter { phone: Some(needle.into()), ..Default::default() };
        assert_eq!(ids_of(store, &f, all).await, expect(want), "phone contains {needle}");
    }

    let f = CallFilter { campaign_id: Some(campaigns[0].clone()), ..Default::default() };
    assert_eq!(ids_of(store, &f, all).await, expect(vec![c(1), c(0)]), "campaign");
    let f = CallFilter { contact_id: Some(contacts[0].clone()), ..Default::default() };
    assert_eq!(ids_of(store, &f, all).await, expect(vec![c(4), c(0)]), "contact");
    let f = CallFilter { campaign_id: Some(CampaignId::new()), ..Default::default() };
    assert_eq!(ids_of(store, &f, all).await, expect(vec![]), "unknown campaign");

    let at = |s: i64| Some(t0() + Duration::seconds(s));
    let f = CallFilter { created_from: at(2), ..Default::default() };
    assert_eq!(ids_of(store, &f, all).await, expect(vec![c(4), c(3), c(2), c(1)]), "from is inclusive");
    let f = CallFilter { created_to: at(2), ..Default::default() };
    assert_eq!(ids_of(store, &f, all).await, expect(vec![c(0)]), "to is exclusive");
    let f = CallFilter { created_from: at(2), created_to: at(4), ..Default::default() };
    assert_eq!(ids_of(store, &f, all).await, expect(vec![c(2), c(1)]), "range");

    let f = CallFilter {
        campaign_id: Some(campaigns[0].clone()),
        statuses: vec![CallStatus::NoAnswer, CallStatus::InProgress],
        ..Default::default()
    };
    assert_eq!(ids_of(store, &f, all).await, expect(vec![c(1)]), "filters combine with AND");
    let f = CallFilter {
        statuses: vec![CallStatus::Completed],
        outcomes: vec![Outcome::NoAnswer],
        ..Default::default()
    };
    assert_eq!(ids_of(store, &f, all).await, expect(vec![]));

    let f = CallFilter { campaign_id: Some(campaigns[0].clone()), ..Default::default() };
    assert_eq!(ids_of(store, &f, page(1)).await, (vec![c(1)], 2), "total counts beyond the page");
}

/// Pages walk the list newest first (ties broken by id, descending) with a constant total.
pub async fn list_pagination_newest_first(store: &dyn Store) {
    let mut stored = Vec::new();
    for i in 0..25 {
        stored.push(insert_new(store, &call_at(t0() + Duration::seconds(i))).await);
    }
    for _ in 0..3 {
        stored.push(insert_new(store, &call_at(t0() + Duration::seconds(7))).await);
    }
    stored.sort_by(|a, b| (b.created_at, b.id.as_str()).cmp(&(a.created_at, a.id.as_str())));
    let expected: Vec<CallId> = stored.iter().map(|c| c.id.clone()).collect();
    let f = CallFilter::default();

    let mut walked = Vec::new();
    for offset in [0, 10, 20] {
        let p = store.list_calls(&f, Page { offset, limit: 10 }).await.expect("list");
        assert_eq!(p.total, 28);
        assert_eq!((p.offset, p.limit), (offset, 10));
        walked.extend(p.items.into_iter().map(|c| c.id));
    }
    assert_eq!(walked, expected, "pages are disjoint, complete and ordered");

    let p = store.list_calls(&f, Page { offset: 30, limit: 10 }).await.expect("list");
    assert!(p.items.is_empty(), "past the end");
    assert_eq!(p.total, 28);
    let p = store.list_calls(&f, Page { offset: 0, limit: 0 }).await.expect("list");
    assert!(p.items.is_empty(), "limit 0 returns no items");
    assert_eq!(p.total, 28);
    let p = store.list_calls(&f, Page { offset: 0, limit: 1_000_000 }).await.expect("list");
    assert_eq!((p.items.len(), p.limit), (28, MAX_PAGE), "the limit is capped");
    assert_eq!(p.items, stored, "listed calls are complete records");
}

/// Exactly the calls with a non-terminal status, and no longer once they end.
pub async fn unfinished_calls(store: &dyn Store) {
    let mut open = BTreeSet::new();
    for (i, status) in CallStatus::ALL.into_iter().enumerate() {
        let at = t0() + Duration::seconds(i64::try_from(i).expect("small"));
        let c = insert_new(store, &Call { status, ..call_at(at) }).await;
        if !status.is_terminal() {
            open.insert(c.id);
        }
    }
    assert_eq!(open.len(), 4, "queued, initiated, ringing, in-progress");
    let listed: BTreeSet<CallId> =
        store.list_unfinished_calls().await.expect("unfinished").into_iter().map(|c| c.id).collect();
    assert_eq!(listed, open);

    let first = open.pop_first().expect("one open call");
    let update = StatusUpdate { status: CallStatus::Canceled, at: t0() };
    assert!(store.advance_status(&first, &update).await.expect("advance").is_some());
    let listed: BTreeSet<CallId> =
        store.list_unfinished_calls().await.expect("unfinished").into_iter().map(|c| c.id).collect();
    assert_eq!(listed, open, "an ended call is no longer unfinished");
}
