//! Issue #7 end to end: a 1,000-contact campaign imported from CSV through main-app's API runs
//! against the sandbox's simulated Twilio and ElevenLabs (media-proxy bridging the calls that
//! connect), and completes with per-outcome counts matching the scenarios its numbers select.
//! The sandbox runs four times faster for ringing and AMD; conversations use a one-line script.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use reqwest::Method;
use sandbox::config::{
    DEFAULT_ACCOUNT_SID, DEFAULT_AGENT_ID, DEFAULT_AUTH_TOKEN, DEFAULT_FROM_NUMBER, DEFAULT_WEBHOOK_SECRET,
    DEFAULT_XI_API_KEY,
};
use sandbox::scenario::builtin as sc;
use sandbox::script::Turn;
use sandbox::{Sandbox, SandboxConfig, SandboxHandle};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;
use tokio::net::TcpListener;

const API_KEY: &str = "e2e-campaign-key-0123456789";
const STREAM_SECRET: &str = "e2e-campaign-stream-secret-0123456789abcd";

/// `(scenario number, contacts, outcome counted in the progress)`.
const MIX: [(&str, usize, &str); 5] = [
    (sc::NORMAL, 100, "conversations"),
    (sc::BUSY, 300, "busy"),
    (sc::NO_ANSWER, 250, "noAnswer"),
    (sc::FAILED, 250, "failed"),
    (sc::VOICEMAIL, 100, "voicemail"),
];

fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

/// The contacts' numbers, each bound to its class's scenario in the sandbox.
fn numbers(config: &mut SandboxConfig) -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    let mut i = 0;
    for (template, n, outcome) in MIX {
        let mut scenario = (*config.scenarios.lookup(template)).clone();
        scenario.script.first_message = "Hi, quick one.".into();
        scenario.script.turns = vec![Turn { user: "Sure.".into(), agent: "Thanks, bye!".into() }];
        for _ in 0..n {
            let number = format!("+6149160{i:04}");
            config.scenarios.insert(&number, scenario.clone());
            out.push((number, outcome));
            i += 1;
        }
    }
    out
}

async fn start() -> (SandboxHandle, String, Vec<(String, &'static str)>, tempfile::TempDir) {
    main_app::install_crypto_provider();
    let bind = || TcpListener::bind("127.0.0.1:0");
    let (sb_l, mp_l, main_l) = (bind().await.unwrap(), bind().await.unwrap(), bind().await.unwrap());
    let sandbox_base = format!("http://{}", sb_l.local_addr().unwrap());
    let media_base = format!("ws://{}", mp_l.local_addr().unwrap());
    let main = format!("http://{}", main_l.local_addr().unwrap());
    let mut config = SandboxConfig::default();
    config.elevenlabs.webhook_url = Some(format!("{main}/webhooks/elevenlabs"));
    config.speed = 4.0;
    let contacts = numbers(&mut config);
    let sandbox = Sandbox::start(sb_l, config).await.unwrap();
    let media = media_proxy::Settings::from_map(&map(&[
        ("MAIN_APP_URL", &main),
        ("ELEVENLABS_API_KEY", DEFAULT_XI_API_KEY),
        ("ELEVENLABS_AGENT_ID", DEFAULT_AGENT_ID),
        ("ELEVENLABS_API_BASE", &sandbox_base),
        ("STREAM_TOKEN_SECRET", STREAM_SECRET),
    ]))
    .unwrap();
    tokio::spawn(media_proxy::run(mp_l, media_proxy::AppState::new(media).unwrap(), std::future::pending()));
    let dir = tempfile::tempdir().unwrap();
    let vars = map(&[
        ("SERVER_URL", &main),
        ("MEDIA_PROXY_URL", &media_base),
        ("TWILIO_ACCOUNT_SID", DEFAULT_ACCOUNT_SID),
        ("TWILIO_AUTH_TOKEN", DEFAULT_AUTH_TOKEN),
        ("TWILIO_PHONE_NUMBER", DEFAULT_FROM_NUMBER),
        ("TWILIO_API_BASE", &sandbox_base),
        ("ELEVENLABS_API_KEY", DEFAULT_XI_API_KEY),
        ("ELEVENLABS_AGENT_ID", DEFAULT_AGENT_ID),
        ("ELEVENLABS_API_BASE", &sandbox_base),
        ("ELEVENLABS_WEBHOOK_SECRET", DEFAULT_WEBHOOK_SECRET),
        ("STREAM_TOKEN_SECRET", STREAM_SECRET),
        ("API_KEY", API_KEY),
        ("DATA_DIR", dir.path().to_str().unwrap()),
        ("CALL_RING_TIMEOUT_SECS", "20"),
        ("POST_CALL_WAIT_SECS", "20"),
        ("CAMPAIGN_TICK_MS", "100"),
    ]);
    let settings = main_app::settings::Settings::from_vars(&vars).unwrap();
    let store = main_app::store::open(&settings).await.unwrap();
    let state = main_app::AppState::new(settings, store).unwrap();
    tokio::spawn(main_app::run(main_l, state, std::future::pending()));
    (sandbox, main, contacts, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_contact_campaign_completes_with_the_counts_its_scenarios_dictate() {
    let (sandbox, main, contacts, _dir) = start().await;
    let http = reqwest::Client::new();
    let api = |m: Method, path: &str| http.request(m, format!("{main}{path}")).bearer_auth(API_KEY);
    let one = json!({"maxAttempts": 1, "delayMinutes": 1});
    let settings = json!({
        "firstMessage": "Hi {{first_name}}, quick one.",
        "maxConcurrent": 100,
        "callsPerSecond": 50,
        "retry": {"noAnswer": one, "busy": one, "failed": one, "voicemail": one},
    });
    let c: Value = api(Method::POST, "/api/campaigns")
        .json(&json!({"name": "Sandbox 1000", "settings": settings}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = c["id"].as_str().unwrap().to_owned();
    let csv: String = std::iter::once("First Name,Phone\n".to_owned())
        .chain(contacts.iter().enumerate().map(|(i, (n, _))| format!("P{i},{n}\n")))
        .collect();
    let report: Value = api(Method::POST, &format!("/api/contacts/import?campaignId={id}"))
        .body(csv)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(report["addedToCampaign"], 1000, "{report}");
    let started = api(Method::POST, &format!("/api/campaigns/{id}/start")).send().await.unwrap();
    assert!(started.status().is_success(), "{:?}", started.text().await);

    let mut expected: HashMap<&str, u64> = HashMap::new();
    for (_, outcome) in &contacts {
        *expected.entry(outcome).or_default() += 1;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(900);
    let progress = loop {
        let p: Value = api(Method::GET, &format!("/api/campaigns/{id}/progress"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let counts_match = expected.iter().all(|(k, v)| p[*k] == *v);
        if p["status"] == "completed" && counts_match {
            break p;
        }
        assert!(tokio::time::Instant::now() < deadline, "not there yet: {p}");
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    assert_eq!(
        (progress["dialled"].clone(), progress["done"].clone(), progress["remaining"].clone()),
        (json!(1000), json!(1000), json!(0))
    );
    // What the simulated Twilio saw: every number dialled once, by the scenario it selects.
    let mut dials: HashMap<String, usize> = HashMap::new();
    for call in sandbox.calls() {
        *dials.entry(call.to.clone()).or_default() += 1;
    }
    assert_eq!(dials.len(), 1000);
    assert!(dials.values().all(|n| *n == 1), "a number was dialled twice");
}
