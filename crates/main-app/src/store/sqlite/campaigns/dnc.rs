//! [`DncStore`] on SQLite: the `dnc` table, keyed by number.

use async_trait::async_trait;
use rusqlite::types::Value as SqlValue;
use rusqlite::{Row, params_from_iter};

use super::{CHUNK, count, like, marks, select, time};
use crate::calls::model::{Page, Paged};
use crate::contacts::model::DncEntry;
use crate::contacts::store::DncStore;
use crate::store::sqlite::calls_codec::{millis, opt_text, text};
use crate::store::sqlite::{SqliteStore, backend};
use crate::store::{MAX_PAGE, StoreError, StoreResult};
use common::phone::PhoneNumber;

const COLUMNS: &str = "phone, reason, source, created_at";

fn decode(r: &Row<'_>) -> StoreResult<DncEntry> {
    let phone: String = r.get(0).map_err(backend)?;
    Ok(DncEntry {
        phone: PhoneNumber::parse_e164(&phone)
            .map_err(|_| StoreError::Corrupt("sqlite column dnc.phone".into()))?,
        reason: r.get(1).map_err(backend)?,
        source: r.get(2).map_err(backend)?,
        created_at: time(r.get(3).map_err(backend)?, "dnc.created_at")?,
    })
}

#[async_trait]
impl DncStore for SqliteStore {
    async fn add_dnc(&self, entry: &DncEntry) -> StoreResult<bool> {
        let args = vec![
            text(entry.phone.as_str()),
            opt_text(entry.reason.as_deref()),
            text(&entry.source),
            SqlValue::Integer(millis(entry.created_at)),
        ];
        self.write(move |conn| {
            let sql =
                format!("INSERT INTO dnc ({COLUMNS}) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (phone) DO NOTHING");
            let n = conn.execute(&sql, params_from_iter(args)).map_err(backend)?;
            Ok(n == 1)
        })
        .await
    }

    async fn remove_dnc(&self, phone: &PhoneNumber) -> StoreResult<bool> {
        let phone = phone.to_string();
        self.write(move |conn| {
            Ok(conn.execute("DELETE FROM dnc WHERE phone = ?1", [phone]).map_err(backend)? == 1)
        })
        .await
    }

    async fn get_dnc(&self, phone: &PhoneNumber) -> StoreResult<Option<DncEntry>> {
        let phone = phone.to_string();
        self.read(move |conn| {
            let sql = format!("SELECT {COLUMNS} FROM dnc WHERE phone = ?1");
            Ok(select(conn, &sql, &[text(&phone)], decode)?.into_iter().next())
        })
        .await
    }

    async fn dnc_among(&self, phones: &[PhoneNumber]) -> StoreResult<Vec<DncEntry>> {
        let phones: Vec<String> = phones.iter().map(ToString::to_string).collect();
        self.read(move |conn| {
            let mut out = Vec::new();
            for chunk in phones.chunks(CHUNK) {
                let sql = format!("SELECT {COLUMNS} FROM dnc WHERE phone IN ({})", marks(0, chunk.len()));
                let args: Vec<SqlValue> = chunk.iter().map(|p| text(p)).collect();
                out.extend(select(conn, &sql, &args, decode)?);
            }
            Ok(out)
        })
        .await
    }

    async fn list_dnc(&self, search: Option<&str>, page: Page) -> StoreResult<Paged<DncEntry>> {
        let limit = page.limit.clamp(1, MAX_PAGE);
        let search = search.map(str::trim).filter(|s| !s.is_empty()).map(like);
        self.read(move |conn| {
            let (where_sql, mut args) = match search {
                Some(s) => (
                    "WHERE phone LIKE ?1 ESCAPE '\\' OR lower(COALESCE(reason, '')) LIKE ?1 ESCAPE '\\'",
                    vec![SqlValue::Text(s)],
                ),
                None => ("", Vec::new()),
            };
            let tx = conn.transaction().map_err(backend)?;
            let total = count(&tx, &format!("SELECT COUNT(*) FROM dnc {where_sql}"), &args)?;
            let n = args.len();
            args.push(SqlValue::Integer(limit as i64));
            args.push(SqlValue::Integer(page.offset as i64));
            let sql = format!(
                "SELECT {COLUMNS} FROM dnc {where_sql} ORDER BY created_at DESC, phone DESC LIMIT ?{} OFFSET ?{}",
                n + 1,
                n + 2
            );
            let items = select(&tx, &sql, &args, decode)?;
            Ok(Paged { items, total, offset: page.offset, limit })
        })
        .await
    }
}
