//! Durability: a main-app instance crashes mid-campaign (its runtime is torn down wherever its
//! tasks are, dials included) and a new one starts on the same SQLite file; and two instances
//! run one campaign on one MongoDB (SecantusDB, `TEST_MONGODB_URI`). Either way every contact is
//! dialled exactly as the retry policy says, never twice at once, and none is lost.
#![allow(clippy::unwrap_used)]

mod campaign_support;
mod support;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

use campaign_support::fake_twilio::{Behaviour, FakeCall, FakeTwilio};
use campaign_support::*;
use main_app::AppState;
use main_app::calls::model::Page;
use main_app::campaigns::model::{AttemptResult, CampaignStatus, MemberState};
use main_app::campaigns::settings_model::{CampaignSettings, RetryPolicy, RetryRule};
use main_app::settings::Settings;
use support::AUTH_TOKEN;

/// Contacts per outcome class and the dials each class must get.
const PER_CLASS: usize = 30;
const CLASSES: [(&str, Option<&str>, usize); 3] =
    [("completed", Some("human"), 1), ("no-answer", None, 2), ("busy", None, 3)];

fn number(class: usize, i: usize) -> String {
    format!("+6149157{}{:03}", class + 1, i + 6)
}

/// Gives each number its outcome, after a call length between 100 and 600 ms.
fn script(fake: &FakeTwilio) -> Vec<String> {
    let mut all = Vec::new();
    for (class, (status, amd, _)) in CLASSES.iter().enumerate() {
        for i in 0..PER_CLASS {
            let n = number(class, i);
            let ms = 100 + ((class * PER_CLASS + i) * 37 % 500) as u64;
            fake.on(&n, Behaviour::Auto(Duration::from_millis(ms), status, *amd));
            all.push(n);
        }
    }
    all
}

fn settings() -> CampaignSettings {
    let retry = RetryPolicy {
        no_answer: RetryRule { max_attempts: 2, delay_minutes: 0 },
        busy: RetryRule { max_attempts: 3, delay_minutes: 0 },
        ..RetryPolicy::default()
    };
    CampaignSettings { max_concurrent: 8, calls_per_second: 50.0, retry, ..CampaignSettings::default() }
}

fn overrides<'a>(fake: &'a FakeTwilio, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut v = vec![
        ("TWILIO_API_BASE", fake.base.as_str()),
        ("CAMPAIGN_TICK_MS", "50"),
        ("CAMPAIGN_LEASE_SECS", "5"),
    ];
    v.extend_from_slice(extra);
    v
}

/// Starts main-app on a fresh port with `data_dir` and `extra` settings, in the current runtime.
async fn start(
    data_dir: &str,
    fake: &FakeTwilio,
    extra: &[(&str, &str)],
) -> (String, AppState, tokio::sync::oneshot::Sender<()>) {
    main_app::install_crypto_provider();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let settings = Settings::from_vars(&support::vars(&base, data_dir, &overrides(fake, extra))).unwrap();
    let store = main_app::store::open(&settings).await.unwrap();
    let state = AppState::new(settings, store).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(main_app::run(listener, state.clone(), async move {
        // A dropped sender also stops the server.
        let _ = stopped.await;
    }));
    (base, state, stop)
}

/// Waits until the campaign completed (panics after `limit`).
async fn completed(state: &AppState, id: &common::ids::CampaignId, limit: Duration) {
    let deadline = Instant::now() + limit;
    while campaign(state, id).await.status != CampaignStatus::Completed {
        assert!(
            Instant::now() < deadline,
            "not completed: {:?}",
            state.store.member_stats(id).await.unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every number dialled exactly as its class says, never while its previous call was live,
/// every dialled attempt tied to a call Twilio received.
async fn assert_dialled_as_the_policy_says(
    fake: &FakeTwilio,
    state: &AppState,
    id: &common::ids::CampaignId,
) {
    let mut by_number: HashMap<String, Vec<FakeCall>> = HashMap::new();
    for c in fake.calls() {
        by_number.entry(c.to.clone()).or_default().push(c);
    }
    for (class, (_, _, dials)) in CLASSES.iter().enumerate() {
        for i in 0..PER_CLASS {
            let n = number(class, i);
            let calls = by_number.remove(&n).unwrap_or_default();
            assert_eq!(calls.len(), *dials, "{n}");
            for pair in calls.windows(2) {
                let ended = pair[0].ended.expect("ended before the next dial");
                assert!(pair[1].created >= ended, "{n} dialled while its previous call was live");
            }
        }
    }
    assert!(by_number.is_empty(), "unexpected numbers: {:?}", by_number.keys());
    let members = members(state, id).await;
    assert!(members.iter().all(|m| m.state == MemberState::Done), "every contact done");
    let attempts = state.store.list_attempts(id, None, Page { offset: 0, limit: 1000 }).await.unwrap().items;
    let dialled: Vec<_> = attempts.iter().filter(|a| a.result == AttemptResult::Dialled).collect();
    let sids: HashSet<String> = fake.calls().into_iter().map(|c| c.sid).collect();
    let mut tied = 0;
    for a in &dialled {
        let call = state.store.get_call(a.call_id.as_ref().unwrap()).await.unwrap().unwrap();
        if call.call_sid.as_ref().is_some_and(|s| sids.contains(s.as_str())) {
            tied += 1;
        }
    }
    assert_eq!(
        (dialled.len(), tied),
        (fake.calls().len(), fake.calls().len()),
        "one dialled attempt per real call"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_mid_campaign_loses_nothing_and_dials_nobody_twice() {
    let fake = FakeTwilio::start(AUTH_TOKEN).await;
    let numbers = script(&fake);
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap().to_owned();

    // The first instance runs on its own runtime, so it can be torn down mid-flight.
    let crashing =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let (f, d) = (fake.clone(), data_dir.clone());
    crashing.spawn(async move {
        let (base, state, stop) = start(&d, &f, &[]).await;
        assert!(tx.send((base, state)).is_ok(), "the test waits for the instance");
        std::future::pending::<()>().await;
        drop(stop);
    });
    let (_, first) = rx.await.unwrap();
    let refs: Vec<&str> = numbers.iter().map(String::as_str).collect();
    let ids = add_contacts(&first, &refs).await;
    let c = running_campaign(&first, settings(), &ids, now_ms()).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while fake.calls().len() < 60 {
        assert!(Instant::now() < deadline, "the first instance dials");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    crashing.shutdown_background();
    drop(first);
    let at_crash = fake.calls().len();

    let (base, second, _stop) = start(&data_dir, &fake, &[]).await;
    fake.redirect_callbacks(&base);
    completed(&second, &c.id, Duration::from_secs(120)).await;
    assert!(fake.calls().len() > at_crash, "the second instance carried on");
    assert_dialled_as_the_policy_says(&fake, &second, &c.id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_mongodb_never_dial_a_contact_twice_at_once() {
    let Some(uri) = std::env::var("TEST_MONGODB_URI").ok().filter(|u| !u.is_empty()) else {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI must run this against TEST_MONGODB_URI");
        return;
    };
    let fake = FakeTwilio::start(AUTH_TOKEN).await;
    let numbers = script(&fake);
    let db = format!("vp_test_{}", uuid::Uuid::new_v4().simple());
    let extra = [("MONGODB_URI", uri.as_str()), ("MONGODB_DATABASE", db.as_str())];
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (_, a, _stop_a) = start(dir_a.path().to_str().unwrap(), &fake, &extra).await;
    let (_, b, _stop_b) = start(dir_b.path().to_str().unwrap(), &fake, &extra).await;
    let refs: Vec<&str> = numbers.iter().map(String::as_str).collect();
    let ids = add_contacts(&a, &refs).await;
    let c = running_campaign(&a, settings(), &ids, now_ms()).await;
    completed(&b, &c.id, Duration::from_secs(180)).await;
    assert_dialled_as_the_policy_says(&fake, &a, &c.id).await;
    let attempts = a.store.list_attempts(&c.id, None, Page { offset: 0, limit: 1000 }).await.unwrap().items;
    let instances: HashSet<&str> = attempts.iter().map(|x| x.instance_id.as_str()).collect();
    assert_eq!(instances.len(), 2, "both instances dialled");
    // Best effort: the server is a throw-away one.
    if let Ok(client) = mongodb::Client::with_uri_str(&uri).await {
        let _ = client.database(&db).drop().await;
    }
}
