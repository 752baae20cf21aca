//! The engine's safety rules with controlled time: a pause stops dialling at once, Twilio's
//! balance error and a failure spike pause the campaign, uncallable contacts are skipped with
//! the reason, and dials left behind by a crashed instance are recovered without dialling twice.
#![allow(clippy::unwrap_used)]

mod campaign_support;
mod support;

use chrono::Duration;

use campaign_support::fake_twilio::{Behaviour, FakeTwilio};
use campaign_support::*;
use main_app::calls::model::Page;
use main_app::calls::service::{self, NewCall};
use main_app::campaigns::model::{Attempt, AttemptResult, CampaignStatus, MemberState};
use main_app::campaigns::settings_model::{CampaignSettings, RetryPolicy, RetryRule};
use main_app::contacts::model::DncEntry;
use support::{AUTH_TOKEN, TestApp};

async fn setup() -> (FakeTwilio, TestApp) {
    let fake = FakeTwilio::start(AUTH_TOKEN).await;
    let app = TestApp::spawn_with(&[("TWILIO_API_BASE", &fake.base), ("CAMPAIGN_ENGINE", "false")]).await;
    (fake, app)
}

fn numbers(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("+614915701{:02}", i + 10)).collect()
}

async fn contacts(app: &TestApp, n: usize) -> (Vec<String>, Vec<common::ids::ContactId>) {
    let nums = numbers(n);
    let refs: Vec<&str> = nums.iter().map(String::as_str).collect();
    let ids = add_contacts(&app.state, &refs).await;
    (nums, ids)
}

async fn attempts(app: &TestApp, c: &common::ids::CampaignId) -> Vec<Attempt> {
    app.state.store.list_attempts(c, None, Page { offset: 0, limit: 1000 }).await.unwrap().items
}

#[tokio::test]
async fn a_pause_stops_dialling_before_the_next_dial_and_a_resume_continues() {
    let (fake, app) = setup().await;
    let (_, ids) = contacts(&app, 20).await;
    let settings = CampaignSettings { calls_per_second: 2.0, max_concurrent: 20, ..Default::default() };
    let t = now_ms();
    let c = running_campaign(&app.state, settings, &ids, t).await;
    let mut e = engine(&app.state);
    assert_eq!(e.tick(t).await.unwrap().dialled, 2);
    // The API writes the pause before answering; the engine's next step dials nothing.
    let paused_at = t + Duration::milliseconds(600);
    let from = [CampaignStatus::Running];
    app.state.store.set_status(&c.id, &from, CampaignStatus::Paused, None, paused_at).await.unwrap().unwrap();
    for step in 1..=20 {
        assert_eq!(e.tick(paused_at + Duration::milliseconds(100 * step)).await.unwrap().dialled, 0);
    }
    assert_eq!(fake.calls().len(), 2);
    assert!(attempts(&app, &c.id).await.iter().all(|a| a.started_at < paused_at));
    assert_eq!(count_in(&app.state, &c.id, MemberState::Claimed).await, 0, "no claim left hanging");

    app.state
        .store
        .set_status(&c.id, &[CampaignStatus::Paused], CampaignStatus::Running, None, t)
        .await
        .unwrap();
    assert!(e.tick(paused_at + Duration::seconds(5)).await.unwrap().dialled > 0, "resumed");
}

#[tokio::test]
async fn insufficient_balance_pauses_the_campaign_without_using_up_the_contact() {
    let (fake, app) = setup().await;
    let (nums, ids) = contacts(&app, 3).await;
    fake.on(&nums[0], Behaviour::Reject(401, 20003, "Authenticate: insufficient account balance"));
    let settings = CampaignSettings { calls_per_second: 1.0, ..Default::default() };
    let t = now_ms();
    let c = running_campaign(&app.state, settings, &ids, t).await;
    let mut e = engine(&app.state);
    e.tick(t).await.unwrap();
    let paused = campaign(&app.state, &c.id).await;
    assert_eq!(paused.status, CampaignStatus::Paused);
    assert_eq!(paused.status_reason.as_deref(), Some("insufficient Twilio balance"));
    let m = member(&app.state, &c.id, &ids[0]).await;
    assert_eq!((m.state, m.attempts), (MemberState::Pending, 0));
    let a = attempts(&app, &c.id).await;
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].result, AttemptResult::NotDialled);
    for s in 1..10 {
        e.tick(t + Duration::seconds(s)).await.unwrap();
    }
    assert_eq!(fake.refused().len(), 1, "no endless re-dialling while paused");
    assert!(fake.calls().is_empty());
}

#[tokio::test]
async fn a_failure_spike_pauses_the_campaign_with_the_reason() {
    let (fake, app) = setup().await;
    let (_, ids) = contacts(&app, 12).await;
    fake.by_default(Behaviour::Reject(400, 21215, "Geo permissions do not allow this number"));
    let retry = RetryPolicy { failed: RetryRule { max_attempts: 1, delay_minutes: 1 }, ..Default::default() };
    let settings = CampaignSettings { calls_per_second: 3.0, max_concurrent: 3, retry, ..Default::default() };
    let t = now_ms();
    let c = running_campaign(&app.state, settings, &ids, t).await;
    let mut e = engine(&app.state);
    for s in 0..10 {
        e.tick(t + Duration::seconds(s)).await.unwrap();
    }
    let paused = campaign(&app.state, &c.id).await;
    assert_eq!(paused.status, CampaignStatus::Paused);
    let reason = paused.status_reason.unwrap();
    assert!(reason.starts_with("failure spike: "), "{reason}");
    let refused = fake.refused().len();
    assert!((5..=8).contains(&refused), "stopped soon after the 5th failure: {refused}");
    assert!(count_in(&app.state, &c.id, MemberState::Pending).await >= 4, "the rest wait for a resume");
}

#[tokio::test]
async fn uncallable_contacts_are_skipped_with_the_reason() {
    let (fake, app) = setup().await;
    let (nums, ids) = contacts(&app, 4).await;
    let dnc = DncEntry {
        phone: common::phone::PhoneNumber::parse_e164(&nums[0]).unwrap(),
        reason: Some("asked not to be called".into()),
        source: "manual".into(),
        created_at: now_ms(),
    };
    app.state.store.add_dnc(&dnc).await.unwrap();
    app.state.store.delete_contacts(&[ids[1].clone()]).await.unwrap();
    let mut with_company = contact("+61491570190", None);
    with_company.custom_fields.insert("Company".into(), "Acme".into());
    app.state.store.insert_contact(&with_company).await.unwrap();
    let mut all = ids.clone();
    all.push(with_company.id.clone());
    let settings = CampaignSettings {
        prompt: Some("Call {{first_name}} at {{company}}".into()),
        calls_per_second: 10.0,
        ..Default::default()
    };
    let t = now_ms();
    let c = running_campaign(&app.state, settings, &all, t).await;
    let r = engine(&app.state).tick(t).await.unwrap();
    assert_eq!((r.dialled, r.skipped), (1, 4));
    let note = |i: usize| {
        let id = all[i].clone();
        let state = app.state.clone();
        let cid = c.id.clone();
        async move { member(&state, &cid, &id).await.note.unwrap() }
    };
    assert_eq!(note(0).await, "on the do-not-call list: asked not to be called");
    assert_eq!(note(1).await, "the contact was deleted");
    assert_eq!(note(2).await, "missing template variables: company");
    assert_eq!(fake.calls().len(), 1);
    assert_eq!(fake.calls()[0].to, "+61491570190");
    let call =
        app.state.store.list_calls(&Default::default(), Page { offset: 0, limit: 5 }).await.unwrap().items;
    assert_eq!(call[0].prompt.as_deref(), Some("Call Ann at Acme"));
}

/// Claims and begins an attempt as a crashed instance would have left it: `dialing`, leased
/// until `lease_until`, maybe with its call placed.
async fn leave_a_stale_dial(
    app: &TestApp,
    c: &main_app::campaigns::model::Campaign,
    at: chrono::DateTime<chrono::Utc>,
    with_call: bool,
) -> Attempt {
    let lease_until = at + Duration::seconds(120);
    let m = app.state.store.claim_member(&c.id, "crashed", at, lease_until).await.unwrap().unwrap();
    let a = Attempt {
        id: uuid::Uuid::now_v7().to_string(),
        campaign_id: c.id.clone(),
        contact_id: m.contact_id.clone(),
        member_id: m.id.clone(),
        number: 1,
        instance_id: "crashed".into(),
        started_at: at,
        call_id: None,
        ended_at: None,
        outcome: None,
        outcome_final: false,
        result: AttemptResult::Dialing,
        detail: None,
    };
    assert!(app.state.store.begin_attempt(&a, "crashed", lease_until).await.unwrap());
    if with_call {
        let contact = app.state.store.get_contact(&m.contact_id).await.unwrap().unwrap();
        let call = NewCall {
            to: Some(contact.phone),
            contact_id: Some(m.contact_id.clone()),
            campaign_id: Some(c.id.clone()),
            idempotency_key: Some(a.id.clone()),
            ..Default::default()
        };
        service::place_call(&app.state, call).await.unwrap();
    }
    a
}

#[tokio::test]
async fn a_dial_left_by_a_crash_is_recovered_through_its_idempotency_key_never_twice() {
    let (fake, app) = setup().await;
    let (nums, ids) = contacts(&app, 2).await;
    let settings = CampaignSettings { calls_per_second: 10.0, ..Default::default() };
    let t = now_ms();
    let c = running_campaign(&app.state, settings, &ids, t).await;
    // Crash after the call was placed but before it was recorded on the member.
    let placed = leave_a_stale_dial(&app, &c, t, true).await;
    // Crash after the attempt began but before the call was created.
    let unplaced = leave_a_stale_dial(&app, &c, t, false).await;
    assert_eq!(fake.calls().len(), 1);

    let mut e = engine(&app.state);
    let early = e.tick(t + Duration::seconds(60)).await.unwrap();
    assert_eq!((early.recovered, early.dialled), (0, 0), "leases still valid: hands off");
    let r = e.tick(t + Duration::seconds(121)).await.unwrap();
    assert_eq!(r.recovered, 2);
    assert_eq!(fake.calls().len(), 2, "only the unplaced attempt was dialled");
    assert_eq!(fake.dials_of(&nums[0]), 1);
    assert_eq!(fake.dials_of(&nums[1]), 1);
    for a in [&placed, &unplaced] {
        let m = member(&app.state, &c.id, &a.contact_id).await;
        assert_eq!(
            (m.state, m.attempt_id.as_deref(), m.attempts),
            (MemberState::Live, Some(a.id.as_str()), 1)
        );
        let call = app.state.store.get_call(m.call_id.as_ref().unwrap()).await.unwrap().unwrap();
        assert_eq!(call.idempotency_key.as_deref(), Some(a.id.as_str()), "same attempt, same key");
    }
    // Everything ends normally afterwards.
    for call in fake.calls() {
        fake.end(&call.sid, "completed", Some("human")).await;
    }
    e.tick(t + Duration::seconds(122)).await.unwrap();
    assert_eq!(campaign(&app.state, &c.id).await.status, CampaignStatus::Completed);
    assert_eq!(attempts(&app, &c.id).await.len(), 2);
}

#[tokio::test]
async fn a_stale_dial_of_a_paused_campaign_goes_back_to_pending_undialled() {
    let (fake, app) = setup().await;
    let (_, ids) = contacts(&app, 1).await;
    let t = now_ms();
    let c = running_campaign(&app.state, CampaignSettings::default(), &ids, t).await;
    let stale = leave_a_stale_dial(&app, &c, t, false).await;
    app.state
        .store
        .set_status(&c.id, &[CampaignStatus::Running], CampaignStatus::Paused, None, t)
        .await
        .unwrap();
    let r = engine(&app.state).tick(t + Duration::seconds(121)).await.unwrap();
    assert_eq!((r.recovered, r.dialled), (1, 0));
    assert!(fake.calls().is_empty());
    let m = member(&app.state, &c.id, &ids[0]).await;
    assert_eq!((m.state, m.attempts), (MemberState::Pending, 0));
    let a = app.state.store.get_attempt(&stale.id).await.unwrap().unwrap();
    assert_eq!(a.result, AttemptResult::NotDialled);
}
