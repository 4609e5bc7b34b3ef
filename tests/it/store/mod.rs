//! The state-store contract suite: every test in `contract.rs` is written once against
//! `Arc<dyn StateStore>` and run on `SQLite` (a temporary directory) and on `PostgreSQL` (a
//! fresh database per test, dropped afterwards) when `PTV_SYNC_TEST_POSTGRES_URL` is set,
//! e.g. `postgres://postgres:postgres@127.0.0.1:5432/postgres`.

mod contract;
mod harness;
mod specific;

/// Generates `store::sqlite::<name>` and `store::postgres::<name>` for each contract fn.
macro_rules! contract_tests {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::harness::run_sqlite(super::contract::$name).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::harness::run_postgres(super::contract::$name).await;
                }
            )+
        }
    };
}

contract_tests!(
    item_round_trips_every_field,
    timestamps_keep_microseconds,
    put_item_upserts,
    items_are_isolated_per_org,
    source_id_taken_is_per_org_and_scope,
    source_id_conflict_is_refused,
    invalid_records_are_refused,
    protect_and_unprotect,
    runs_and_run_items,
    unknown_run_is_reported,
    audit_append_links_and_verifies,
    audit_since_filters_by_time,
    audit_is_append_only,
    audit_tamper_is_detected,
    audit_removed_entry_is_detected,
    audit_concurrent_appends_keep_chains_valid,
    audit_prune_keeps_chains_verifiable,
    audit_deleted_last_entries_are_detected,
    audit_deleted_first_entries_are_detected,
    audit_deleted_chain_is_detected,
    audit_prune_is_recorded_as_the_new_start,
    audit_anchor_migration_keeps_old_chains_verifiable,
    item_and_audit_entry_commit_together,
    org_state_round_trips_and_upserts,
    drift_cursor_round_trips_and_clears,
    lock_org_is_exclusive,
    lock_org_is_freed_on_drop,
    lock_check_detects_a_lost_lock,
    audit_hash_follows_the_documented_encoding,
    must_exist_opens_a_current_database,
    must_exist_refuses_outdated_or_newer_schema,
    put_items_writes_ten_thousand_rows,
    item_heads_are_items_without_service_and_channel_payloads,
    plan_rows_are_what_a_plan_needs_of_each_item,
    stored_ids_are_parsed_on_read,
    item_state_counts_agree_with_the_items,
    oldest_write_is_of_live_services_and_channels,
    prune_runs_deletes_finished_runs_with_their_items,
    ping_and_backend,
);
