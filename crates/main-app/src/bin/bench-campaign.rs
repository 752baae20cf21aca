//! `bench-campaign`: the campaign figures of `BENCHMARKS.md`, on the embedded (SQLite) store.
//!
//! 1. **CSV import**: a generated 50,000-row contacts CSV is previewed and then imported through
//!    the real HTTP API of a main-app started in-process (streamed upload, validation, DNC and
//!    existing-contact lookups, batched writes).
//! 2. **Scheduling**: 100,000 contacts join a running campaign, then every member goes through
//!    the engine's store path (claim with lease, the contact and DNC reads of the pre-dial check,
//!    begin the attempt, record its call, finish it), by one claimer and by four racing ones;
//!    progress aggregates are timed at that size. Claims per second and resident memory are
//!    printed. Twilio is not involved (its latency is not the scheduler's).
//!
//! Usage: `cargo run --release -p main-app --bin bench-campaign -- [contacts] [csv-rows]`
//! (defaults 100000 and 50000). Figures vary with the machine; the run prints what it measured.

use anyhow::Context;
use chrono::Utc;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::ids::{CallId, CampaignId, ContactId};
use common::phone::PhoneNumber;
use main_app::campaigns::model::{
    AfterAttempt, Attempt, AttemptEnd, AttemptResult, Campaign, CampaignStatus,
};
use main_app::campaigns::settings_model::CampaignSettings;
use main_app::contacts::model::Contact;
use main_app::store::{DynStore, SQLITE_FILE_NAME, sqlite::SqliteStore};

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    main_app::install_crypto_provider();
    let mut args = std::env::args().skip(1);
    let contacts: usize = args.next().map(|a| a.parse()).transpose().context("contacts")?.unwrap_or(100_000);
    let rows: usize = args.next().map(|a| a.parse()).transpose().context("csv rows")?.unwrap_or(50_000);
    report(&format!(
        "bench-campaign: {contacts} contacts, {rows} CSV rows, SQLite store, {} CPUs",
        num_cpus()
    ));
    import(rows).await?;
    scheduling(contacts).await?;
    Ok(())
}

#[allow(clippy::print_stdout)] // A benchmark's figures are its output.
fn report(line: &str) {
    println!("{line}");
}

fn num_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `(VmRSS, VmHWM)` in MiB.
fn memory() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
    };
    (kib("VmRSS:").unwrap_or(0.0) / 1024.0, kib("VmHWM:").unwrap_or(0.0) / 1024.0)
}

/// A fresh directory under the system's temporary directory, removed when dropped.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> anyhow::Result<Self> {
        let path = std::env::temp_dir().join(format!("bench-campaign-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&path)?;
        Ok(Self(path))
    }

    fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        // Best effort: a leftover directory in the temporary directory is harmless.
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn phone(i: usize) -> String {
    format!("+614{:08}", 12_000_000 + i)
}

fn csv(rows: usize) -> String {
    let mut s = String::from("First Name,Last Name,Phone Number,Email,Company,Plan,Notes\n");
    for i in 0..rows {
        s.push_str(&format!(
            "Person{i},Family{},{},person{i}@example.com,Company {},{},\"Renewal due, call after 5pm\"\n",
            i % 997,
            phone(i),
            i % 313,
            ["gold", "silver", "bronze"][i % 3]
        ));
    }
    s
}

fn vars(base: &str, dir: &str) -> HashMap<String, String> {
    [
        ("SERVER_URL", base),
        ("MEDIA_PROXY_URL", "ws://127.0.0.1:1"),
        ("TWILIO_ACCOUNT_SID", "AC0123456789abcdef0123456789abcdef"),
        ("TWILIO_AUTH_TOKEN", "bench-token"),
        ("TWILIO_PHONE_NUMBER", "+61298765432"),
        ("TWILIO_API_BASE", "http://127.0.0.1:1"),
        ("ELEVENLABS_API_KEY", "xi-bench"),
        ("ELEVENLABS_AGENT_ID", "agent_bench"),
        ("ELEVENLABS_API_BASE", "http://127.0.0.1:1"),
        ("STREAM_TOKEN_SECRET", "bench-stream-secret-0123456789abcdef"),
        ("API_KEY", "bench-api-key-0123456789"),
        ("DATA_DIR", dir),
        ("DEFAULT_PHONE_REGION", "AU"),
        ("CAMPAIGN_ENGINE", "false"),
        ("RUST_LOG", "warn"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// Previews and imports a generated CSV through the HTTP API.
async fn import(rows: usize) -> anyhow::Result<()> {
    let dir = TempDir::new()?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let settings =
        main_app::settings::Settings::from_vars(&vars(&base, dir.path().to_str().context("dir")?))?;
    let state = main_app::AppState::new(settings.clone(), main_app::store::open(&settings).await?)?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(main_app::run(listener, state.clone(), async move {
        // Dropping the sender stops the server as well.
        let _ = stopped.await;
    }));
    let body = csv(rows);
    let mb = body.len() as f64 / 1e6;
    let http = reqwest::Client::new();
    let post = |path: String, body: String| {
        http.post(format!("{base}{path}")).bearer_auth("bench-api-key-0123456789").body(body).send()
    };

    let t = Instant::now();
    let preview: serde_json::Value =
        post("/api/contacts/import/preview".into(), body.clone()).await?.error_for_status()?.json().await?;
    let preview_secs = t.elapsed().as_secs_f64();
    anyhow::ensure!(preview["valid"] == rows, "preview found {} valid rows", preview["valid"]);
    let sha = preview["fileSha256"].as_str().context("sha")?.to_owned();
    let t = Instant::now();
    let done: serde_json::Value = post(format!("/api/contacts/import?expectSha256={sha}"), body)
        .await?
        .error_for_status()?
        .json()
        .await?;
    let import_secs = t.elapsed().as_secs_f64();
    anyhow::ensure!(done["created"] == rows, "import created {}", done["created"]);
    let stored = state
        .store
        .list_contacts(&Default::default(), main_app::calls::model::Page { offset: 0, limit: 1 })
        .await?
        .total;
    anyhow::ensure!(stored == rows as u64, "{stored} contacts stored");
    report(&format!("csv import: {rows} rows, {mb:.1} MB"));
    report(&format!("  preview (parse, validate, DNC and existing lookups): {preview_secs:.2} s"));
    report(&format!(
        "  import (parse again, write in batches of 1000): {import_secs:.2} s = {:.0} rows/s",
        rows as f64 / import_secs
    ));
    drop(stop);
    let _ = tokio::time::timeout(Duration::from_secs(30), server).await;
    Ok(())
}

fn contact(i: usize) -> anyhow::Result<Contact> {
    let now = main_app::store::truncate_ms(Utc::now());
    Ok(Contact {
        id: ContactId::new(),
        phone: PhoneNumber::parse_e164(&phone(i))?,
        first_name: Some(format!("Person{i}")),
        last_name: None,
        name: Some(format!("Person{i}")),
        email: None,
        time_zone: None,
        tags: vec![],
        custom_fields: BTreeMap::from([("company".to_owned(), format!("Company {}", i % 313))]),
        notes: None,
        created_at: now,
        updated_at: now,
    })
}

async fn campaign_with(store: &DynStore, ids: &[ContactId]) -> anyhow::Result<CampaignId> {
    let now = main_app::store::truncate_ms(Utc::now());
    let c = Campaign {
        id: CampaignId::new(),
        name: "bench".into(),
        description: None,
        status: CampaignStatus::Running,
        status_reason: None,
        settings: CampaignSettings::default(),
        created_at: now,
        updated_at: now,
        started_at: Some(now),
        finished_at: None,
    };
    store.insert_campaign(&c).await?;
    let members: Vec<_> = ids.iter().map(|id| (id.clone(), now)).collect();
    store.add_members(&c.id, &members).await?;
    Ok(c.id)
}

/// Runs every member of `campaign` through the engine's store path as instance `owner`;
/// returns how many it handled.
async fn drain(store: DynStore, campaign: CampaignId, owner: String) -> anyhow::Result<u64> {
    let mut n = 0;
    loop {
        let now = main_app::store::truncate_ms(Utc::now());
        let lease = now + chrono::Duration::seconds(120);
        let Some(m) = store.claim_member(&campaign, &owner, now, lease).await? else { return Ok(n) };
        let contact = store.get_contact(&m.contact_id).await?.context("contact")?;
        anyhow::ensure!(store.get_dnc(&contact.phone).await?.is_none(), "no DNC in the bench");
        let a = Attempt {
            id: uuid::Uuid::now_v7().to_string(),
            campaign_id: campaign.clone(),
            contact_id: m.contact_id.clone(),
            member_id: m.id.clone(),
            number: m.attempts + 1,
            instance_id: owner.clone(),
            started_at: now,
            call_id: None,
            ended_at: None,
            outcome: None,
            outcome_final: false,
            result: AttemptResult::Dialing,
            detail: None,
        };
        anyhow::ensure!(store.begin_attempt(&a, &owner, lease).await?, "begin refused");
        anyhow::ensure!(store.attempt_dialled(&a.id, &CallId::new(), now).await?, "dialled refused");
        let end = AttemptEnd {
            attempt_id: a.id,
            ended_at: now,
            outcome: Some(common::call::Outcome::NoAnswer),
            outcome_final: true,
            result: AttemptResult::Dialled,
            detail: None,
            counts: true,
        };
        anyhow::ensure!(store.finish_attempt(&end, &AfterAttempt::Done, now).await?, "finish refused");
        n += 1;
    }
}

/// Claims/s of the engine's store path over `n` members, by one claimer and by four.
async fn scheduling(n: usize) -> anyhow::Result<()> {
    let dir = TempDir::new()?;
    let store: DynStore = Arc::new(SqliteStore::open(&dir.path().join(SQLITE_FILE_NAME)).await?);
    let (rss0, _) = memory();
    let t = Instant::now();
    let mut ids = Vec::with_capacity(n);
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let batch = chunk.iter().map(|i| contact(*i)).collect::<anyhow::Result<Vec<_>>>()?;
        ids.extend(store.upsert_contacts(&batch).await?.into_iter().map(|u| u.id));
    }
    report(&format!("scheduling: {n} contacts written in {:.2} s", t.elapsed().as_secs_f64()));
    for workers in [1usize, 4] {
        let t = Instant::now();
        let campaign = campaign_with(&store, &ids).await?;
        let joined = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let stats = store.member_stats(&campaign).await?;
        let attempts = store.attempt_stats(&campaign, None).await?;
        let agg_ms = t.elapsed().as_secs_f64() * 1000.0;
        anyhow::ensure!(stats.pending == n as u64 && attempts.dialled == 0, "fresh campaign");
        let t = Instant::now();
        let tasks: Vec<_> = (0..workers)
            .map(|w| tokio::spawn(drain(store.clone(), campaign.clone(), format!("instance-{w}"))))
            .collect();
        let mut handled = 0;
        for task in tasks {
            handled += task.await??;
        }
        let secs = t.elapsed().as_secs_f64();
        let done = store.member_stats(&campaign).await?;
        let dialled = store.attempt_stats(&campaign, None).await?;
        anyhow::ensure!(
            handled == n as u64 && done.done == n as u64 && dialled.dialled == n as u64,
            "every member exactly once"
        );
        let t = Instant::now();
        store.member_stats(&campaign).await?;
        store.attempt_stats(&campaign, None).await?;
        let agg_done_ms = t.elapsed().as_secs_f64() * 1000.0;
        let (rss, hwm) = memory();
        report(&format!(
            "  {workers} claimer(s): {n} members joined in {joined:.2} s; claimed, begun, dialled and finished in {secs:.2} s = {:.0} claims/s",
            n as f64 / secs
        ));
        report(&format!(
            "    progress aggregates over {n} members: {agg_ms:.1} ms fresh, {agg_done_ms:.1} ms with {n} attempts"
        ));
        report(&format!(
            "    each member handled once: {} distinct of {handled}; RSS {rss:.0} MiB (start {rss0:.0}), peak {hwm:.0} MiB",
            unique(&store, &campaign).await?
        ));
    }
    Ok(())
}

/// Distinct contacts with an attempt (equal to the count when none was claimed twice).
async fn unique(store: &DynStore, campaign: &CampaignId) -> anyhow::Result<usize> {
    let mut seen = HashSet::new();
    let mut offset = 0;
    loop {
        let page =
            store.list_attempts(campaign, None, main_app::calls::model::Page { offset, limit: 1000 }).await?;
        let len = page.items.len();
        seen.extend(page.items.into_iter().map(|a| a.contact_id));
        offset += len as u64;
        if len < 1000 {
            return Ok(seen.len());
        }
    }
}
