//! The post-call tables on SQLite (migration 3, `migrations/0003_post_call.sql`): live
//! transcript lines and post-call records, recordings, the CRM outbox, the webhook inbox and
//! per-call follow-ups. One file per store trait.

mod crm;
mod followups;
mod recordings;
mod rows;
mod transcripts;
mod webhooks;
