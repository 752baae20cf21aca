//! CRM forwarding through a durable outbox.
//!
//! When a call is final ([`crate::post_call`]) exactly one delivery, the call's `final` report,
//! is enqueued in the store (one per idempotency key, enforced by the store); post-call data
//! that lands after it went out without that data is forwarded once more as an `update`
//! ([`update`]). The [`worker`] claims due deliveries with a lease, so
//! two instances never send one at once, POSTs the JSON ([`payload`]) to `CRM_WEBHOOK_URL` with
//! an `Idempotency-Key` header (the same on every attempt) and, when `CRM_WEBHOOK_SECRET` is set,
//! an `X-Signature: t=<unix>,v0=<hex>` HMAC-SHA256 of `"<t>.<body>"`. Failures are retried with
//! exponential backoff ([`crate::retry`]) and dead-lettered after `CRM_MAX_ATTEMPTS`; every
//! attempt is logged on the delivery, which the API lists and can replay ([`handlers`]). Because
//! the outbox is in the store, a restart loses no pending delivery.

pub mod handlers;
pub mod model;
pub mod payload;
pub mod store;
pub mod update;
pub mod worker;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

/// The signature header of a delivery.
pub const SIGNATURE_HEADER: &str = "x-signature";
/// The idempotency header of a delivery.
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// CRM routes (mounted behind authentication).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/crm/deliveries", get(handlers::list))
        .route("/api/crm/deliveries/{id}", get(handlers::get))
        .route("/api/crm/deliveries/{id}/replay", post(handlers::replay))
}
