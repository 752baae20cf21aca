//! Contacts and the do-not-call list: records, CSV import and export, and the API over them.

pub mod dnc;
pub mod export;
pub mod handlers;
pub mod import;
pub mod model;
pub mod store;
pub mod tz;
mod tz_table;
pub mod validate;

use axum::Router;
use axum::routing::{delete, get, post};

use crate::state::AppState;

/// `/api/contacts…` and `/api/dnc…` routes (mounted behind authentication). The import routes
/// read their (large) body as a stream and enforce `CONTACT_IMPORT_MAX_MB` themselves.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/contacts", get(handlers::list).post(handlers::create))
        .route("/api/contacts/bulk-delete", post(handlers::bulk_delete))
        .route("/api/contacts/export.csv", get(export::export))
        .route("/api/contacts/import/preview", post(import::preview))
        .route("/api/contacts/import", post(import::commit))
        .route("/api/contacts/{id}", get(handlers::get).put(handlers::update).delete(handlers::delete))
        .route("/api/contacts/{id}/tags", post(handlers::tags))
        .route("/api/contacts/{id}/calls", get(handlers::calls))
        .route("/api/contacts/{id}/dnc", post(handlers::mark_dnc).delete(handlers::unmark_dnc))
        .route("/api/dnc", get(dnc::list).post(dnc::add))
        .route("/api/dnc/{phone}", delete(dnc::remove))
}
