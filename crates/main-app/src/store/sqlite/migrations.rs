//! Versioned schema migrations of the embedded store, run at start-up by [`run`].
//!
//! Each migration is a numbered SQL file in `migrations/` listed in [`MIGRATIONS`] (append only:
//! never edit or renumber one that has shipped; fix forward with a new one). The table
//! `schema_migrations` records which versions are applied; each pending migration runs in its own
//! `BEGIN IMMEDIATE` transaction together with its record, so a crash leaves it either fully
//! applied or not at all. A database newer than this binary (a version we do not know) is
//! refused rather than used.

use rusqlite::{Connection, TransactionBehavior, params};

/// A schema change.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Strictly increasing, starting at 1.
    pub version: i64,
    /// Short name, recorded for humans.
    pub name: &'static str,
    /// The statements.
    pub sql: &'static str,
}

/// Every migration, in order.
pub const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "calls", sql: include_str!("migrations/0001_calls.sql") },
    Migration { version: 2, name: "sessions", sql: include_str!("migrations/0002_sessions.sql") },
    Migration { version: 3, name: "post_call", sql: include_str!("migrations/0003_post_call.sql") },
    Migration { version: 4, name: "campaigns", sql: include_str!("migrations/0004_campaigns.sql") },
    Migration { version: 5, name: "crm_updates", sql: include_str!("migrations/0005_crm_updates.sql") },
    Migration {
        version: 6,
        name: "recovery_attempts",
        sql: include_str!("migrations/0006_recovery_attempts.sql"),
    },
];

/// Applies every pending migration; returns how many were applied.
pub fn run(conn: &mut Connection) -> anyhow::Result<usize> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version    INTEGER PRIMARY KEY NOT NULL,
            name       TEXT NOT NULL,
            applied_at INTEGER NOT NULL
        ) STRICT;",
    )?;
    let mut applied = 0;
    for m in MIGRATIONS {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Checked inside the write transaction so two processes starting together cannot both
        // apply the same migration.
        let current: i64 =
            tx.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [], |r| r.get(0))?;
        let known = MIGRATIONS.last().map_or(0, |l| l.version);
        anyhow::ensure!(
            current <= known,
            "the database is at schema version {current} but this build only knows up to {known}"
        );
        if m.version <= current {
            continue;
        }
        tx.execute_batch(m.sql).map_err(|e| anyhow::anyhow!("migration {} ({}): {e}", m.version, m.name))?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
            params![m.version, m.name, chrono::Utc::now().timestamp_millis()],
        )?;
        tx.commit()?;
        applied += 1;
    }
    Ok(applied)
}

/// Applied versions, oldest first (for tests and diagnostics).
pub fn applied_versions(conn: &Connection) -> rusqlite::Result<Vec<i64>> {
    let mut stmt = conn.prepare("SELECT version FROM schema_migrations ORDER BY version")?;
    stmt.query_map([], |r| r.get(0))?.collect()
}
