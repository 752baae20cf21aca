//! [`ContactStore`] on SQLite: the `contacts` table. The number is `UNIQUE`; an import batch is
//! one `BEGIN IMMEDIATE` transaction that reads the existing rows of its numbers, merges, and
//! writes.

use async_trait::async_trait;
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, Row, TransactionBehavior, params_from_iter};
use std::collections::HashMap;

use super::{CHUNK, count, json, like, marks, select, time};
use crate::calls::model::{Page, Paged};
use crate::contacts::model::{Contact, ContactFilter, ContactInsert, ContactUpdate, Upserted};
use crate::contacts::store::ContactStore;
use crate::store::sqlite::calls_codec::{millis, opt_text, text, to_json};
use crate::store::sqlite::{SqliteStore, backend};
use crate::store::{MAX_PAGE, StoreError, StoreResult};
use common::ids::ContactId;
use common::phone::PhoneNumber;

const COLUMNS: &str = "id, phone, first_name, last_name, name, email, time_zone, tags, custom_fields, notes, \
     search, created_at, updated_at";

fn decode(r: &Row<'_>) -> StoreResult<Contact> {
    let corrupt = |c: &str| StoreError::Corrupt(format!("sqlite column contacts.{c}"));
    let id: String = r.get(0).map_err(backend)?;
    let phone: String = r.get(1).map_err(backend)?;
    let tags: String = r.get(7).map_err(backend)?;
    let custom: String = r.get(8).map_err(backend)?;
    Ok(Contact {
        id: ContactId::parse(&id).map_err(|_| corrupt("id"))?,
        phone: PhoneNumber::parse_e164(&phone).map_err(|_| corrupt("phone"))?,
        first_name: r.get(2).map_err(backend)?,
        last_name: r.get(3).map_err(backend)?,
        name: r.get(4).map_err(backend)?,
        email: r.get(5).map_err(backend)?,
        time_zone: r.get(6).map_err(backend)?,
        tags: json(&tags, "contacts.tags")?,
        custom_fields: json(&custom, "contacts.custom_fields")?,
        notes: r.get(9).map_err(backend)?,
        created_at: time(r.get(11).map_err(backend)?, "contacts.created_at")?,
        updated_at: time(r.get(12).map_err(backend)?, "contacts.updated_at")?,
    })
}

fn values(c: &Contact) -> StoreResult<Vec<SqlValue>> {
    Ok(vec![
        text(c.id.as_str()),
        text(c.phone.as_str()),
        opt_text(c.first_name.as_deref()),
        opt_text(c.last_name.as_deref()),
        opt_text(c.name.as_deref()),
        opt_text(c.email.as_deref()),
        opt_text(c.time_zone.as_deref()),
        SqlValue::Text(to_json(&c.tags)?),
        SqlValue::Text(to_json(&c.custom_fields)?),
        opt_text(c.notes.as_deref()),
        SqlValue::Text(c.search_text()),
        SqlValue::Integer(millis(c.created_at)),
        SqlValue::Integer(millis(c.updated_at)),
    ])
}

fn insert(conn: &Connection, c: &Contact) -> StoreResult<()> {
    let sql = format!("INSERT INTO contacts ({COLUMNS}) VALUES ({})", marks(0, 13));
    let args = values(c)?;
    conn.prepare_cached(&sql).and_then(|mut s| s.execute(params_from_iter(args))).map_err(backend)?;
    Ok(())
}

fn update(conn: &Connection, c: &Contact) -> StoreResult<usize> {
    let sql = "UPDATE contacts SET phone = ?2, first_name = ?3, last_name = ?4, name = ?5, email = ?6, \
               time_zone = ?7, tags = ?8, custom_fields = ?9, notes = ?10, search = ?11, updated_at = ?13 \
               WHERE id = ?1";
    let args = values(c)?;
    conn.prepare_cached(sql).and_then(|mut s| s.execute(params_from_iter(args))).map_err(backend)
}

fn by_phone(conn: &Connection, phones: &[&str]) -> StoreResult<Vec<Contact>> {
    let mut out = Vec::new();
    for chunk in phones.chunks(CHUNK) {
        let sql = format!("SELECT {COLUMNS} FROM contacts WHERE phone IN ({})", marks(0, chunk.len()));
        let args: Vec<SqlValue> = chunk.iter().map(|p| text(p)).collect();
        out.extend(select(conn, &sql, &args, decode)?);
    }
    Ok(out)
}

fn filter_sql(f: &ContactFilter) -> (String, Vec<SqlValue>) {
    let mut clauses = Vec::new();
    let mut args = Vec::new();
    if let Some(s) = f.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        args.push(SqlValue::Text(like(s)));
        clauses.push(format!("search LIKE ?{} ESCAPE '\\'", args.len()));
    }
    if let Some(tag) = f.tag.as_deref() {
        args.push(text(tag));
        clauses
            .push(format!("EXISTS (SELECT 1 FROM json_each(contacts.tags) WHERE value = ?{})", args.len()));
    }
    let sql = if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) };
    (sql, args)
}

fn upsert_blocking(conn: &mut Connection, batch: &[Contact]) -> StoreResult<Vec<Upserted>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
    let phones: Vec<&str> = batch.iter().map(|c| c.phone.as_str()).collect();
    let existing: HashMap<String, Contact> =
        by_phone(&tx, &phones)?.into_iter().map(|c| (c.phone.as_str().to_owned(), c)).collect();
    let mut out = Vec::with_capacity(batch.len());
    for c in batch {
        match existing.get(c.phone.as_str()) {
            Some(old) => {
                update(&tx, &old.merged_with(c))?;
                out.push(Upserted { id: old.id.clone(), created: false });
            }
            None => {
                insert(&tx, c)?;
                out.push(Upserted { id: c.id.clone(), created: true });
            }
        }
    }
    tx.commit().map_err(backend)?;
    Ok(out)
}

#[async_trait]
impl ContactStore for SqliteStore {
    async fn insert_contact(&self, contact: &Contact) -> StoreResult<ContactInsert> {
        let c = contact.clone();
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
            if let Some(other) = by_phone(&tx, &[c.phone.as_str()])?.into_iter().next() {
                return Ok(ContactInsert::PhoneTaken(other.id));
            }
            insert(&tx, &c)?;
            tx.commit().map_err(backend)?;
            Ok(ContactInsert::New(Box::new(c)))
        })
        .await
    }

    async fn get_contact(&self, id: &ContactId) -> StoreResult<Option<Contact>> {
        let id = id.to_string();
        self.read(move |conn| {
            let sql = format!("SELECT {COLUMNS} FROM contacts WHERE id = ?1");
            Ok(select(conn, &sql, &[text(&id)], decode)?.into_iter().next())
        })
        .await
    }

    async fn get_contacts(&self, ids: &[ContactId]) -> StoreResult<Vec<Contact>> {
        let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
        self.read(move |conn| {
            let mut out = Vec::new();
            for chunk in ids.chunks(CHUNK) {
                let sql = format!("SELECT {COLUMNS} FROM contacts WHERE id IN ({})", marks(0, chunk.len()));
                let args: Vec<SqlValue> = chunk.iter().map(|i| text(i)).collect();
                out.extend(select(conn, &sql, &args, decode)?);
            }
            Ok(out)
        })
        .await
    }

    async fn update_contact(&self, contact: &Contact) -> StoreResult<ContactUpdate> {
        let c = contact.clone();
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
            if let Some(other) = by_phone(&tx, &[c.phone.as_str()])?.into_iter().find(|o| o.id != c.id) {
                return Ok(ContactUpdate::PhoneTaken(other.id));
            }
            if update(&tx, &c)? == 0 {
                return Ok(ContactUpdate::NotFound);
            }
            let sql = format!("SELECT {COLUMNS} FROM contacts WHERE id = ?1");
            let stored = select(&tx, &sql, &[text(c.id.as_str())], decode)?.into_iter().next();
            tx.commit().map_err(backend)?;
            Ok(stored.map_or(ContactUpdate::NotFound, |c| ContactUpdate::Updated(Box::new(c))))
        })
        .await
    }

    async fn delete_contacts(&self, ids: &[ContactId]) -> StoreResult<u64> {
        let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
            let mut n = 0;
            for chunk in ids.chunks(CHUNK) {
                let sql = format!("DELETE FROM contacts WHERE id IN ({})", marks(0, chunk.len()));
                let args: Vec<SqlValue> = chunk.iter().map(|i| text(i)).collect();
                n += tx.execute(&sql, params_from_iter(args)).map_err(backend)? as u64;
            }
            tx.commit().map_err(backend)?;
            Ok(n)
        })
        .await
    }

    async fn list_contacts(&self, filter: &ContactFilter, page: Page) -> StoreResult<Paged<Contact>> {
        let (where_sql, mut args) = filter_sql(filter);
        let limit = page.limit.clamp(1, MAX_PAGE);
        self.read(move |conn| {
            let tx = conn.transaction().map_err(backend)?;
            let total = count(&tx, &format!("SELECT COUNT(*) FROM contacts {where_sql}"), &args)?;
            let n = args.len();
            args.push(SqlValue::Integer(limit as i64));
            args.push(SqlValue::Integer(page.offset as i64));
            let sql = format!(
                "SELECT {COLUMNS} FROM contacts {where_sql} ORDER BY created_at DESC, id DESC LIMIT ?{} OFFSET ?{}",
                n + 1,
                n + 2
            );
            let items = select(&tx, &sql, &args, decode)?;
            Ok(Paged { items, total, offset: page.offset, limit })
        })
        .await
    }

    async fn contact_ids(&self, filter: &ContactFilter, limit: u64) -> StoreResult<Vec<ContactId>> {
        let (where_sql, mut args) = filter_sql(filter);
        self.read(move |conn| {
            args.push(SqlValue::Integer(i64::try_from(limit).unwrap_or(i64::MAX)));
            let sql =
                format!("SELECT id FROM contacts {where_sql} ORDER BY created_at, id LIMIT ?{}", args.len());
            select(conn, &sql, &args, |r| {
                let id: String = r.get(0).map_err(backend)?;
                ContactId::parse(&id).map_err(|_| StoreError::Corrupt("sqlite column contacts.id".into()))
            })
        })
        .await
    }

    async fn contacts_by_phones(&self, phones: &[PhoneNumber]) -> StoreResult<Vec<Contact>> {
        let phones: Vec<String> = phones.iter().map(ToString::to_string).collect();
        self.read(move |conn| by_phone(conn, &phones.iter().map(String::as_str).collect::<Vec<_>>())).await
    }

    async fn upsert_contacts(&self, batch: &[Contact]) -> StoreResult<Vec<Upserted>> {
        let batch = batch.to_vec();
        self.write(move |conn| upsert_blocking(conn, &batch)).await
    }
}
