//! The conformance suite: the behaviour every [`Store`](crate::store::Store) backend must have, written once.
//!
//! Each case is an `async fn(&dyn Store)` in a per-resource module (`calls`, `sessions`, ...) and
//! gets a fresh, empty store. [`store_conformance_tests!`](crate::store_conformance_tests) turns
//! the list of cases into one `#[tokio::test]` per case for a backend, given a harness
//! `async fn() -> Option<TestStore>` (`None` skips, for a backend not available here):
//!
//! ```ignore
//! async fn harness() -> Option<TestStore> { /* fresh store */ }
//! main_app::store_conformance_tests!(harness);
//! ```
//!
//! **Adding a case:** write `pub async fn my_case(store: &dyn Store)` in the resource's module
//! and add its name to that module's list in the macro below. **Adding a resource:** add a
//! module here and a `resource { cases… }` group to the macro. Both backends then run it.
//!
//! Times in fixtures are truncated to the millisecond (the stored precision), so a value read
//! back compares equal to the one written.

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;

use crate::store::DynStore;

pub mod calls;
pub mod campaigns;
pub mod contacts;
pub mod fixtures;
pub mod post_call;
pub mod sessions;
pub mod stats;

pub use post_call::{crm, followups, recordings, transcripts, webhooks};

/// A fresh store for one case, with what must live as long as it and what to do afterwards.
pub struct TestStore {
    /// The store under test.
    pub store: DynStore,
    /// Kept alive until the case ends (a temporary directory, a server handle).
    guard: Option<Box<dyn Any + Send>>,
    /// Run after the case, even when it failed (drops a test database).
    cleanup: Option<BoxFuture<'static, ()>>,
}

impl TestStore {
    /// A store with nothing to clean up.
    pub fn new(store: DynStore) -> Self {
        Self { store, guard: None, cleanup: None }
    }

    /// Keeps `guard` alive until the case ends.
    pub fn with_guard(mut self, guard: impl Any + Send) -> Self {
        self.guard = Some(Box::new(guard));
        self
    }

    /// Runs `cleanup` after the case.
    pub fn with_cleanup(mut self, cleanup: impl Future<Output = ()> + Send + 'static) -> Self {
        self.cleanup = Some(Box::pin(cleanup));
        self
    }

    /// Runs one case (`case` borrows a clone of `self.store`), then the clean-up, then re-raises
    /// the case's panic if it had one.
    pub async fn finish(self, case: impl Future<Output = ()>) {
        let outcome = AssertUnwindSafe(case).catch_unwind().await;
        if let Some(cleanup) = self.cleanup {
            cleanup.await;
        }
        drop(self.guard);
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
    }
}

/// Reads the URL of an external test backend from `var`. Unset: `None` (the caller skips) with
/// a message, except under CI (`CI=true`), where a missing backend is a failure, not a skip.
#[allow(clippy::print_stderr)] // A skipped test says why on the test output; tracing is not set up in tests.
pub fn external_backend(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => Some(v),
        _ => {
            let ci = std::env::var("CI").map(|v| v == "true").unwrap_or(false);
            assert!(!ci, "{var} is not set: CI must run the store conformance suite against this backend");
            eprintln!("skipping: {var} is not set (start one with `scripts/secantusdb start`)");
            None
        }
    }
}

/// Generates one `#[tokio::test]` per conformance case, grouped in a module per resource, for
/// the backend whose harness (`async fn() -> Option<TestStore>`, in scope where the macro is
/// invoked) is given. See the module docs of `store::conformance`.
#[macro_export]
macro_rules! store_conformance_tests {
    ($harness:ident) => {
        $crate::store_conformance_tests!(@generate $harness;
            calls {
                round_trip_full_and_minimal,
                stored_times_are_truncated_to_milliseconds,
                idempotency_key_returns_existing_call,
                concurrent_inserts_with_one_key_yield_one_new,
                duplicate_id_or_call_sid_is_refused,
                status_only_moves_forward,
                answered_at_only_on_in_progress,
                unknown_call_updates_are_refused,
                set_once_never_overwrites,
                set_once_leaves_updated_at_when_nothing_filled,
                set_outcome_can_be_refined,
                events_are_deduplicated,
                events_are_listed_oldest_first,
                mark_once_is_true_once,
                concurrent_mark_once_yields_one_true,
                list_filters,
                list_pagination_newest_first,
                unfinished_calls,
            }
            sessions {
                create_get_delete,
            }
            stats {
                call_stats_aggregate_a_range,
            }
            contacts {
                contacts_round_trip_with_unique_numbers,
                contacts_search_tags_and_pages,
                contacts_upsert_merges_by_number,
                dnc_add_find_list_remove,
            }
            campaigns {
                campaign_states_are_conditional,
                campaigns_list_and_search,
                members_join_list_count_and_leave,
                claims_are_exclusive_ordered_and_leased,
                attempts_begin_only_while_running_and_claimed,
                attempts_end_once_and_decide_what_follows,
                stale_dials_are_taken_over_once,
                campaigns_complete_only_when_drained,
            }
            transcripts {
                live_lines_upsert_by_index,
                conversation_link_is_set_once,
                post_call_round_trip_and_missing_list,
                failed_recoveries_are_counted_and_given_up,
            }
            recordings {
                recording_status_is_monotonic,
                recording_lists,
            }
            crm {
                one_delivery_per_call,
                claims_are_exclusive_and_leased,
                attempts_retries_dead_letter_and_replay,
                deliveries_list_newest_first,
                updates_are_one_per_conversation,
                only_unclaimed_deliveries_are_refreshed,
                postponing_frees_the_lease_and_counts_nothing,
            }
            webhooks {
                webhooks_are_deduplicated_and_processed_once,
            }
            followups {
                amd_policy_and_scheduling,
                finalization_claims_and_completion,
            }
        );
    };
    (@generate $harness:ident; $($module:ident { $($case:ident),* $(,)? })*) => {
        $(
            mod $module {
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $case() {
                        let Some(harness) = super::$harness().await else { return };
                        let store = harness.store.clone();
                        harness.finish($crate::store::conformance::$module::$case(&*store)).await;
                    }
                )*
            }
        )*
    };
}
