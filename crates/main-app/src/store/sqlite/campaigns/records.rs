//! [`CampaignStore`] on SQLite: the `campaigns` table. State changes are single conditional
//! `UPDATE … WHERE status IN (…) RETURNING`; completion checks the members in the same statement.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, Row, params_from_iter};

use super::{count, json, like, marks, opt_millis, opt_time, select, time};
use crate::calls::model::{Page, Paged};
use crate::campaigns::model::{Campaign, CampaignFilter, CampaignStatus};
use crate::campaigns::settings_model::CampaignSettings;
use crate::campaigns::store::CampaignStore;
use crate::store::sqlite::calls_codec::{millis, opt_text, text, to_json};
use crate::store::sqlite::{SqliteStore, backend};
use crate::store::{MAX_PAGE, StoreError, StoreResult};
use common::ids::CampaignId;

const COLUMNS: &str =
    "id, name, description, status, status_reason, settings, created_at, updated_at, started_at, finished_at";

fn decode(r: &Row<'_>) -> StoreResult<Campaign> {
    let corrupt = |c: &str| StoreError::Corrupt(format!("sqlite column campaigns.{c}"));
    let id: String = r.get(0).map_err(backend)?;
    let status: String = r.get(3).map_err(backend)?;
    let settings: String = r.get(5).map_err(backend)?;
    Ok(Campaign {
        id: CampaignId::parse(&id).map_err(|_| corrupt("id"))?,
        name: r.get(1).map_err(backend)?,
        description: r.get(2).map_err(backend)?,
        status: CampaignStatus::parse(&status).ok_or_else(|| corrupt("status"))?,
        status_reason: r.get(4).map_err(backend)?,
        settings: json(&settings, "campaigns.settings")?,
        created_at: time(r.get(6).map_err(backend)?, "campaigns.created_at")?,
        updated_at: time(r.get(7).map_err(backend)?, "campaigns.updated_at")?,
        started_at: opt_time(r.get(8).map_err(backend)?, "campaigns.started_at")?,
        finished_at: opt_time(r.get(9).map_err(backend)?, "campaigns.finished_at")?,
    })
}

fn one(conn: &Connection, sql: &str, args: &[SqlValue]) -> StoreResult<Option<Campaign>> {
    Ok(select(conn, sql, args, decode)?.into_iter().next())
}

/// The `UPDATE` of a state change; `extra` narrows the `WHERE` further.
fn status_sql(from: &[CampaignStatus], extra: &str) -> String {
    format!(
        "UPDATE campaigns SET status = ?2, status_reason = ?3, updated_at = ?4, \
         started_at = CASE WHEN ?2 = 'running' THEN COALESCE(started_at, ?4) ELSE started_at END, \
         finished_at = CASE WHEN ?2 IN ('completed', 'canceled') THEN ?4 ELSE finished_at END \
         WHERE id = ?1 AND status IN ({}) {extra} RETURNING {COLUMNS}",
        marks(4, from.len())
    )
}

fn status_args(
    id: &CampaignId,
    from: &[CampaignStatus],
    to: CampaignStatus,
    reason: Option<&str>,
    at: DateTime<Utc>,
) -> Vec<SqlValue> {
    let mut args =
        vec![text(id.as_str()), text(to.as_str()), opt_text(reason), SqlValue::Integer(millis(at))];
    args.extend(from.iter().map(|s| text(s.as_str())));
    args
}

#[async_trait]
impl CampaignStore for SqliteStore {
    async fn insert_campaign(&self, c: &Campaign) -> StoreResult<()> {
        let args = vec![
            text(c.id.as_str()),
            text(&c.name),
            opt_text(c.description.as_deref()),
            text(c.status.as_str()),
            opt_text(c.status_reason.as_deref()),
            SqlValue::Text(to_json(&c.settings)?),
            SqlValue::Integer(millis(c.created_at)),
            SqlValue::Integer(millis(c.updated_at)),
            opt_millis(c.started_at),
            opt_millis(c.finished_at),
        ];
        self.write(move |conn| {
            let sql = format!("INSERT INTO campaigns ({COLUMNS}) VALUES ({})", marks(0, 10));
            conn.execute(&sql, params_from_iter(args)).map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn get_campaign(&self, id: &CampaignId) -> StoreResult<Option<Campaign>> {
        let id = id.to_string();
        self.read(move |conn| {
            one(conn, &format!("SELECT {COLUMNS} FROM campaigns WHERE id = ?1"), &[text(&id)])
        })
        .await
    }

    async fn list_campaigns(&self, filter: &CampaignFilter, page: Page) -> StoreResult<Paged<Campaign>> {
        let mut clauses = Vec::new();
        let mut args: Vec<SqlValue> = Vec::new();
        if !filter.statuses.is_empty() {
            clauses.push(format!("status IN ({})", marks(0, filter.statuses.len())));
            args.extend(filter.statuses.iter().map(|s| text(s.as_str())));
        }
        if let Some(s) = filter.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            args.push(SqlValue::Text(like(s)));
            let n = args.len();
            clauses.push(format!(
                "(lower(name) LIKE ?{n} ESCAPE '\\' OR lower(COALESCE(description, '')) LIKE ?{n} ESCAPE '\\')"
            ));
        }
        let where_sql =
            if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) };
        let limit = page.limit.clamp(1, MAX_PAGE);
        self.read(move |conn| {
            let tx = conn.transaction().map_err(backend)?;
            let total = count(&tx, &format!("SELECT COUNT(*) FROM campaigns {where_sql}"), &args)?;
            let n = args.len();
            args.push(SqlValue::Integer(limit as i64));
            args.push(SqlValue::Integer(page.offset as i64));
            let sql = format!(
                "SELECT {COLUMNS} FROM campaigns {where_sql} ORDER BY created_at DESC, id DESC LIMIT ?{} OFFSET ?{}",
                n + 1,
                n + 2
            );
            let items = select(&tx, &sql, &args, decode)?;
            Ok(Paged { items, total, offset: page.offset, limit })
        })
        .await
    }

    async fn update_campaign(
        &self,
        id: &CampaignId,
        name: &str,
        description: Option<&str>,
        settings: &CampaignSettings,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Campaign>> {
        let args = vec![
            text(id.as_str()),
            text(name),
            opt_text(description),
            SqlValue::Text(to_json(settings)?),
            SqlValue::Integer(millis(at)),
        ];
        self.write(move |conn| {
            let sql = format!(
                "UPDATE campaigns SET name = ?2, description = ?3, settings = ?4, updated_at = ?5 \
                 WHERE id = ?1 AND status NOT IN ('completed', 'canceled') RETURNING {COLUMNS}"
            );
            one(conn, &sql, &args)
        })
        .await
    }

    async fn set_status(
        &self,
        id: &CampaignId,
        from: &[CampaignStatus],
        to: CampaignStatus,
        reason: Option<&str>,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Campaign>> {
        if from.is_empty() {
            return Ok(None);
        }
        let sql = status_sql(from, "");
        let args = status_args(id, from, to, reason, at);
        self.write(move |conn| one(conn, &sql, &args)).await
    }

    async fn complete_if_drained(&self, id: &CampaignId, at: DateTime<Utc>) -> StoreResult<Option<Campaign>> {
        let from = [CampaignStatus::Running];
        let sql = status_sql(
            &from,
            "AND NOT EXISTS (SELECT 1 FROM campaign_members WHERE campaign_id = ?1 \
             AND state IN ('pending', 'claimed', 'dialing', 'live'))",
        );
        let args = status_args(id, &from, CampaignStatus::Completed, None, at);
        self.write(move |conn| one(conn, &sql, &args)).await
    }

    async fn delete_campaign(&self, id: &CampaignId) -> StoreResult<bool> {
        let id = id.to_string();
        self.write(move |conn| {
            // Members and attempts go with it (ON DELETE CASCADE).
            Ok(conn.execute("DELETE FROM campaigns WHERE id = ?1", [id]).map_err(backend)? == 1)
        })
        .await
    }
}
