//! The campaign engine with controlled time: every tick is `Engine::tick(now)` with a chosen
//! `now`, against a real main-app (store, webhooks) and a fake Twilio that records dials. Calls
//! end through Twilio's signed status callback, as in production.
#![allow(clippy::unwrap_used)]

mod campaign_support;
mod support;

use chrono::Duration;

use campaign_support::fake_twilio::{Behaviour, FakeTwilio};
use campaign_support::*;
use main_app::calls::model::Page;
use main_app::calls::service::{self, NewCall};
use main_app::campaigns::model::{CampaignStatus, MemberState};
use main_app::campaigns::settings_model::{
    CallingWindow, CampaignSettings, Day, LocalTime, RetryPolicy, RetryRule,
};
use support::{AUTH_TOKEN, TestApp};

async fn setup() -> (FakeTwilio, TestApp) {
    let fake = FakeTwilio::start(AUTH_TOKEN).await;
    let app = TestApp::spawn_with(&[("TWILIO_API_BASE", &fake.base), ("CAMPAIGN_ENGINE", "false")]).await;
    (fake, app)
}

async fn end_all(fake: &FakeTwilio, status: &str, answered_by: Option<&str>) {
    for call in fake.calls().into_iter().filter(|c| c.ended.is_none()) {
        fake.end(&call.sid, status, answered_by).await;
    }
}

#[tokio::test]
async fn every_contact_is_dialled_once_within_the_concurrency_limit_then_the_campaign_completes() {
    let (fake, app) = setup().await;
    let numbers = ["+61491570101", "+61491570102", "+61491570103"];
    let ids = add_contacts(&app.state, &numbers).await;
    let settings = CampaignSettings { max_concurrent: 2, calls_per_second: 10.0, ..Default::default() };
    let t = now_ms();
    let c = running_campaign(&app.state, settings, &ids, t).await;
    let mut e = engine(&app.state);

    assert_eq!(e.tick(t).await.unwrap().dialled, 2, "two slots");
    assert_eq!(e.tick(t + Duration::seconds(1)).await.unwrap().dialled, 0, "slots full, nothing ended");
    end_all(&fake, "completed", Some("human")).await;
    let r = e.tick(t + Duration::seconds(2)).await.unwrap();
    assert_eq!((r.finished, r.dialled), (2, 1), "two ended, the third dialled");
    end_all(&fake, "completed", Some("human")).await;
    let r = e.tick(t + Duration::seconds(3)).await.unwrap();
    assert_eq!((r.finished, r.dialled), (1, 0));

    for n in numbers {
        assert_eq!(fake.dials_of(n), 1, "{n}");
    }
    let done = campaign(&app.state, &c.id).await;
    assert_eq!(done.status, CampaignStatus::Completed);
    let p = main_app::campaigns::progress::compute(&*app.state.store, &done, t).await.unwrap();
    assert_eq!((p.total, p.done, p.dialled, p.answered, p.remaining, p.in_flight), (3, 3, 3, 3, 0, 0));
    assert_eq!(p.percent_complete, 100.0);
    // Each call carries the campaign, the contact and the attempt id as idempotency key.
    let attempts = app.state.store.list_attempts(&c.id, None, Page { offset: 0, limit: 10 }).await.unwrap();
    for a in attempts.items {
        let call = app.state.store.get_call(a.call_id.as_ref().unwrap()).await.unwrap().unwrap();
        assert_eq!(call.idempotency_key.as_deref(), Some(a.id.as_str()));
        assert_eq!((call.campaign_id.as_ref(), call.contact_id.as_ref()), (Some(&c.id), Some(&a.contact_id)));
    }
}

fn weekdays_9_to_5() -> Vec<CallingWindow> {
    vec![CallingWindow {
        days: vec![Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri],
        start: LocalTime::parse("09:00").unwrap(),
        end: LocalTime::parse("17:00").unwrap(),
    }]
}

#[tokio::test]
async fn windows_are_evaluated_in_each_contacts_zone_across_a_daylight_saving_change() {
    let (fake, app) = setup().await;
    let london = contact("+442079460958", None); // zone inferred from the number
    let sydney = contact("+61291234567", None); // NSW landline: Australia/Sydney
    let new_york = contact("+14155552671", Some("America/New_York")); // explicit
    for c in [&london, &sydney, &new_york] {
        app.state.store.insert_contact(c).await.unwrap();
    }
    let ids = [london.id.clone(), sydney.id.clone(), new_york.id.clone()];
    let settings =
        CampaignSettings { windows: weekdays_9_to_5(), calls_per_second: 10.0, ..Default::default() };
    // Fri 2025-04-04 08:00 UTC: 09:00 in London (BST), 19:00 in Sydney (AEDT), 04:00 in New York.
    let t = utc("2025-04-04T08:00:00Z");
    let c = running_campaign(&app.state, settings, &ids, t).await;
    let mut e = engine(&app.state);

    let r = e.tick(t).await.unwrap();
    assert_eq!((r.dialled, r.deferred), (1, 2));
    assert_eq!(fake.dials_of("+442079460958"), 1);
    let ny = member(&app.state, &c.id, &new_york.id).await;
    assert_eq!((ny.state, ny.due_at), (MemberState::Pending, Some(utc("2025-04-04T13:00:00Z"))), "09:00 EDT");
    // Sydney leaves daylight saving on Sunday: Monday 09:00 is 23:00 UTC, not 22:00 as the Friday before.
    let syd = member(&app.state, &c.id, &sydney.id).await;
    assert_eq!(syd.due_at, Some(utc("2025-04-06T23:00:00Z")));
    assert!(syd.note.as_deref().unwrap().contains("Australia/Sydney"), "{:?}", syd.note);

    assert_eq!(e.tick(utc("2025-04-04T12:59:00Z")).await.unwrap().dialled, 0);
    assert_eq!(e.tick(utc("2025-04-04T13:00:00Z")).await.unwrap().dialled, 1);
    assert_eq!(fake.dials_of("+14155552671"), 1);
    assert_eq!(e.tick(utc("2025-04-06T22:30:00Z")).await.unwrap().dialled, 0, "22:30 UTC is 08:30 AEST");
    assert_eq!(e.tick(utc("2025-04-06T23:00:00Z")).await.unwrap().dialled, 1);
    assert_eq!(fake.dials_of("+61291234567"), 1);
}

#[tokio::test]
async fn retries_follow_the_policy_of_each_outcome() {
    let (fake, app) = setup().await;
    let outcomes = [
        ("+61491570101", "no-answer", None, 3),
        ("+61491570102", "busy", None, 2),
        ("+61491570103", "failed", None, 1),
        ("+61491570104", "completed", Some("machine_end_beep"), 2),
        ("+61491570105", "completed", Some("human"), 1),
    ];
    let numbers: Vec<&str> = outcomes.iter().map(|o| o.0).collect();
    let ids = add_contacts(&app.state, &numbers).await;
    let retry = RetryPolicy {
        no_answer: RetryRule { max_attempts: 3, delay_minutes: 10 },
        busy: RetryRule { max_attempts: 2, delay_minutes: 5 },
        failed: RetryRule { max_attempts: 1, delay_minutes: 1 },
        voicemail: RetryRule { max_attempts: 2, delay_minutes: 60 },
    };
    let settings =
        CampaignSettings { retry, calls_per_second: 10.0, max_concurrent: 10, ..Default::default() };
    let t = now_ms();
    let c = running_campaign(&app.state, settings, &ids, t).await;
    let mut e = engine(&app.state);
    for minute in 0..180 {
        e.tick(t + Duration::minutes(minute)).await.unwrap();
        for call in fake.calls().into_iter().filter(|c| c.ended.is_none()) {
            let (_, status, amd, _) = outcomes.iter().find(|o| o.0 == call.to).unwrap();
            fake.end(&call.sid, status, *amd).await;
        }
    }
    for (i, (number, _, _, expected)) in outcomes.iter().enumerate() {
        assert_eq!(fake.dials_of(number), *expected, "{number}");
        let attempts =
            app.state.store.list_attempts(&c.id, Some(&ids[i]), Page { offset: 0, limit: 10 }).await.unwrap();
        let starts: Vec<_> = attempts.items.iter().map(|a| a.started_at).collect();
        assert_eq!(starts.len(), *expected);
        let min_gap = [10, 5, 1, 60, 0][i];
        for pair in starts.windows(2) {
            assert!(pair[1] - pair[0] > Duration::minutes(min_gap), "{number}: {pair:?}");
        }
        assert_eq!(member(&app.state, &c.id, &ids[i]).await.state, MemberState::Done, "{number}");
    }
    assert_eq!(campaign(&app.state, &c.id).await.status, CampaignStatus::Completed);
}

#[tokio::test]
async fn pacing_limits_dials_per_second_and_halves_on_twilio_rate_limits() {
    let (fake, app) = setup().await;
    let numbers: Vec<String> = (0..40).map(|i| format!("+614915701{:02}", i + 10)).collect();
    let refs: Vec<&str> = numbers.iter().map(String::as_str).collect();
    let ids = add_contacts(&app.state, &refs).await;
    let settings = CampaignSettings { calls_per_second: 2.0, max_concurrent: 100, ..Default::default() };
    let t = now_ms();
    let c = running_campaign(&app.state, settings, &ids, t).await;
    let mut e = engine(&app.state);
    let mut dialled = 0;
    for step in 0..=20 {
        dialled += e.tick(t + Duration::milliseconds(250 * step)).await.unwrap().dialled;
    }
    assert_eq!(dialled, 12, "a full bucket of 2, then one every 500 ms for 5 s");

    fake.by_default(Behaviour::Reject(429, 20429, "Too Many Requests"));
    let t2 = t + Duration::seconds(6);
    let r = e.tick(t2).await.unwrap();
    assert_eq!(r.dialled, 0);
    assert_eq!(e.pacing_rate(&c.id), Some(1.0), "halved");
    let limited = members(&app.state, &c.id)
        .await
        .into_iter()
        .find(|m| m.note.as_deref() == Some("rate limited by Twilio"))
        .unwrap();
    assert_eq!(
        (limited.state, limited.attempts),
        (MemberState::Pending, 0),
        "not counted against the contact"
    );
    assert_eq!(limited.due_at, Some(t2 + Duration::seconds(2)));

    fake.by_default(Behaviour::Hold);
    let before = fake.calls().len();
    for step in 1..=40 {
        e.tick(t2 + Duration::milliseconds(250 * step)).await.unwrap();
    }
    let after = fake.calls().len() - before;
    assert!((9..=11).contains(&after), "about one per second for 10 s at the reduced rate: {after}");
}

#[tokio::test]
async fn a_scheduled_campaign_starts_at_its_start_date_and_completes_at_its_end_date() {
    let (fake, app) = setup().await;
    let numbers = ["+61491570101", "+61491570102"];
    let ids = add_contacts(&app.state, &numbers).await;
    let t = now_ms();
    let settings = CampaignSettings {
        max_concurrent: 1,
        calls_per_second: 10.0,
        start_at: Some(t + Duration::hours(1)),
        end_at: Some(t + Duration::hours(2)),
        ..Default::default()
    };
    let c = running_campaign(&app.state, settings, &ids, t).await;
    // Back to scheduled, as `POST /start` leaves a campaign whose start date is ahead.
    let running = [CampaignStatus::Running];
    app.state.store.set_status(&c.id, &running, CampaignStatus::Scheduled, None, t).await.unwrap().unwrap();
    let mut e = engine(&app.state);

    assert_eq!(e.tick(t + Duration::minutes(59)).await.unwrap().dialled, 0, "before the start date");
    assert_eq!(campaign(&app.state, &c.id).await.status, CampaignStatus::Scheduled);
    assert_eq!(e.tick(t + Duration::hours(1)).await.unwrap().dialled, 1, "one slot");
    assert_eq!(campaign(&app.state, &c.id).await.status, CampaignStatus::Running);

    // The first call is still live when the end date passes: the second contact is never dialled.
    let r = e.tick(t + Duration::hours(2)).await.unwrap();
    assert_eq!(r.dialled, 0);
    let done = campaign(&app.state, &c.id).await;
    assert_eq!(done.status, CampaignStatus::Completed);
    assert_eq!(done.status_reason.as_deref(), Some("the end date passed"));
    end_all(&fake, "completed", Some("human")).await;
    assert_eq!(e.tick(t + Duration::hours(3)).await.unwrap().dialled, 0);
    assert_eq!(fake.calls().len(), 1, "nothing dialled after the end date");
}

#[tokio::test]
async fn a_contact_in_two_running_campaigns_is_never_rung_by_both_at_once() {
    let (fake, app) = setup().await;
    let number = "+61491570101";
    let ids = add_contacts(&app.state, &[number]).await;
    let settings = CampaignSettings { max_concurrent: 5, calls_per_second: 10.0, ..Default::default() };
    let t = now_ms();
    let a = running_campaign(&app.state, settings.clone(), &ids, t).await;
    let b = running_campaign(&app.state, settings, &ids, t).await;
    let mut e = engine(&app.state);

    assert_eq!(e.tick(t).await.unwrap().dialled, 1, "one campaign dials, the other waits");
    assert_eq!(fake.dials_of(number), 1);
    let states = |m: Option<main_app::campaigns::model::Member>| m.unwrap().state;
    let sa = states(app.state.store.get_member(&a.id, &ids[0]).await.unwrap());
    let sb = states(app.state.store.get_member(&b.id, &ids[0]).await.unwrap());
    let (waiting, dialled_by) = if sa == MemberState::Pending { (&a, &b) } else { (&b, &a) };
    assert_eq!(
        [sa, sb].iter().filter(|s| **s == MemberState::Pending).count(),
        1,
        "exactly one waits ({sa:?}, {sb:?})"
    );
    let note =
        app.state.store.get_member(&waiting.id, &ids[0]).await.unwrap().unwrap().note.unwrap_or_default();
    assert!(note.contains(&dialled_by.id.to_string()), "the wait names the other campaign: {note}");
    assert_eq!(e.tick(t + Duration::seconds(40)).await.unwrap().dialled, 0, "still on the first call");

    end_all(&fake, "completed", Some("human")).await;
    let r = e.tick(t + Duration::seconds(80)).await.unwrap();
    assert_eq!((r.finished, r.dialled), (1, 1), "once the first call ended the other campaign dials");
    assert_eq!(fake.dials_of(number), 2);
    assert_eq!(fake.calls().iter().filter(|c| c.ended.is_none()).count(), 1, "never two calls at once");
    end_all(&fake, "completed", Some("human")).await;
    e.tick(t + Duration::seconds(81)).await.unwrap();
    for c in [&a, &b] {
        assert_eq!(campaign(&app.state, &c.id).await.status, CampaignStatus::Completed);
    }
}

#[tokio::test]
async fn two_instances_dialling_two_campaigns_over_the_same_people_never_ring_anyone_twice_at_once() {
    // Two engines (two main-app instances) tick at the same instant over two campaigns with the
    // same 30 people: nobody is rung by both at once, and in the end everyone by each. (Either of
    // the engine's two checks, before the attempt and after it is stored, keeps this test green on
    // its own; with neither, people are rung twice in the first round.)
    let (fake, app) = setup().await;
    let numbers: Vec<String> = (0..30).map(|i| format!("+614915702{i:02}")).collect();
    let refs: Vec<&str> = numbers.iter().map(String::as_str).collect();
    let ids = add_contacts(&app.state, &refs).await;
    let settings = CampaignSettings { max_concurrent: 30, calls_per_second: 1000.0, ..Default::default() };
    let t = now_ms();
    let a = running_campaign(&app.state, settings.clone(), &ids, t).await;
    let b = running_campaign(&app.state, settings, &ids, t).await;
    let (mut e1, mut e2) = (engine(&app.state), engine(&app.state));
    let mut at = t;
    for round in 0..8 {
        let (r1, r2) = tokio::join!(e1.tick(at), e2.tick(at));
        let (r1, r2) = (r1.unwrap(), r2.unwrap());
        for n in &refs {
            let live = fake.calls().into_iter().filter(|c| c.to == *n && c.ended.is_none()).count();
            assert!(live <= 1, "round {round}: {n} rung {live} times at once ({r1:?}, {r2:?})");
        }
        end_all(&fake, "completed", Some("human")).await;
        at += Duration::seconds(60);
    }
    // Everyone was rung once by each campaign in the end.
    for n in &refs {
        assert_eq!(fake.dials_of(n), 2, "{n}");
    }
    for c in [&a, &b] {
        assert_eq!(campaign(&app.state, &c.id).await.status, CampaignStatus::Completed);
    }
}

#[tokio::test]
async fn a_campaign_waits_while_its_contact_is_on_a_single_call() {
    let (fake, app) = setup().await;
    let number = "+61491570101";
    let ids = add_contacts(&app.state, &[number]).await;
    // An operator calls the number from the dashboard (no campaign).
    let single =
        NewCall { to: Some(common::phone::PhoneNumber::parse_e164(number).unwrap()), ..Default::default() };
    service::place_call(&app.state, single).await.unwrap();
    let settings = CampaignSettings { max_concurrent: 5, calls_per_second: 10.0, ..Default::default() };
    let t = now_ms();
    let c = running_campaign(&app.state, settings, &ids, t).await;
    let mut e = engine(&app.state);

    assert_eq!(e.tick(t).await.unwrap().dialled, 0, "the person is on the operator's call");
    let m = app.state.store.get_member(&c.id, &ids[0]).await.unwrap().unwrap();
    assert_eq!(m.state, MemberState::Pending);
    assert!(m.note.unwrap_or_default().contains("on another call"), "the wait says why");
    end_all(&fake, "completed", Some("human")).await;
    assert_eq!(e.tick(t + Duration::seconds(31)).await.unwrap().dialled, 1, "dialled once that call ended");
    assert_eq!(fake.dials_of(number), 2);
}

#[tokio::test]
async fn a_paused_campaign_completes_when_its_end_date_passes() {
    let (fake, app) = setup().await;
    let ids = add_contacts(&app.state, &["+61491570101", "+61491570102"]).await;
    let t = now_ms();
    let settings = CampaignSettings {
        max_concurrent: 1,
        calls_per_second: 10.0,
        end_at: Some(t + Duration::hours(1)),
        ..Default::default()
    };
    let c = running_campaign(&app.state, settings, &ids, t).await;
    let running = [CampaignStatus::Running];
    app.state.store.set_status(&c.id, &running, CampaignStatus::Paused, None, t).await.unwrap().unwrap();
    let mut e = engine(&app.state);

    assert_eq!(e.tick(t + Duration::minutes(59)).await.unwrap().dialled, 0);
    assert_eq!(
        campaign(&app.state, &c.id).await.status,
        CampaignStatus::Paused,
        "still paused before the end date"
    );
    assert_eq!(e.tick(t + Duration::hours(1)).await.unwrap().dialled, 0);
    let done = campaign(&app.state, &c.id).await;
    assert_eq!(done.status, CampaignStatus::Completed, "over without a resume");
    assert_eq!(done.status_reason.as_deref(), Some("the end date passed"));
    assert!(fake.calls().is_empty(), "nothing dialled");
}
