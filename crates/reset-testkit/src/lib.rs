#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

/// Items that need the Diesel store (feature `diesel`).
macro_rules! with_diesel {
    ($($item:item)*) => { $(#[cfg(feature = "diesel")] $item)* };
}

with_diesel! {
    pub mod adapters_agree;
    pub mod admin;
    pub mod breach;
    pub mod connections;
    pub mod db;
    pub mod dialects;
    pub mod lockout;
    pub mod pages;
    pub mod scenarios;
    pub mod security;
    pub mod server;
    pub mod users;
    pub use db::TestDb;
    pub use server::{Spawn, TestServer};
}

pub mod account_service;
pub mod clock;
pub mod dialect_suite;
pub mod http_suite;
pub mod pki;
pub mod process;
pub mod proxy;
pub mod range_server;
pub mod slapd;
pub mod store_contract;

/// Expands to one test per scenario and store for an adapter's spawn function.
#[macro_export]
macro_rules! conformance_suite {
    ($spawn:ident) => {
        $crate::conformance_suite!(@each $spawn,
            link_flow, code_flow, supersede, link_expiry, code_expiry, code_exhaustion,
            weak_password_keeps_secret, malformed_requests, routing_errors, rate_limit_per_identifier,
            anti_enumeration, unknown_account_gets_no_message, mismatched_identifiers_send_nothing,
            cancel_link, cancel_code, concurrent_complete_uses_once, concurrent_wrong_codes_count_twelve,
            guess_budget_stops_new_codes, forwarded_for_from_trusted_proxy, forwarded_for_ignored_from_others, ops_routes,
            password_history_when_configured, code_request_restarts_tries_alike, rate_limit_per_ip_on_attempts,
            concurrent_requests_leave_one_live_secret, not_ready_until_migrated, serves_exactly_the_documented_routes,
            misskey_seed, misskey_rate_limit, forgot_password_seed,
            forgot_password_twelve_tries, forgot_password_hides_unknown, unleash_seed,
            unleash_reset_page, unleash_validate_password, unleash_backend_e2e,
            unleash_validate_password_is_limited,
            secrets_cross_dialects, dialects_switch_and_move, admin_auth_in_each_shape,
            admin_return_code_sets_the_password, admin_codes_fall_under_the_guess_budget, admin_url_template_allow_list, zitadel_seed,
            zitadel_lenient_bodies, zitadel_connect_flow, zitadel_connect_errors, zitadel_connect_shares_limits,
            zitadel_connect_internal_and_unavailable, zitadel_connect_follows_the_switch,
            zitadel_connect_moves_with_the_prefix, bad_path_parameters,
            reset_page, cancel_page, admin_failed_credentials_are_limited,
            tries_restart_with_every_request_alike, forgot_password_hidden_tries_alike,
            spent_budget_kills_the_old_code, send_cap_counts_the_account, decoys_are_held_back_alike,
            cancel_link_is_cancel_only,
            message_goes_to_the_stored_address, sweep_forgets_what_is_not_needed,
            passphrase_with_the_username_inside,
            half_sent_headers_are_closed, stalled_body_gets_408, idle_keepalive_is_closed,
            connection_cap_holds, pinned_pipelines_are_closed,
            breached_password_is_refused, breach_check_sees_the_normalised_password, breach_check_down_fails_open, breach_check_down_fails_closed,
            spent_budget_leaves_links_alone, strangers_do_not_spend_the_owners_send_cap,
            strangers_do_not_spend_the_owners_guess_budget, attempts_remaining_is_the_callers_own,
            user_api_round_trip, user_api_scopes, disabled_account_is_unknown,
            user_api_needs_the_builtin_directory
        );
    };
    (@each $spawn:ident, $($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let db = $crate::TestDb::sqlite();
                    $crate::scenarios::$scenario(db, super::$spawn).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let Some(db) = $crate::TestDb::postgres().await else { return };
                    $crate::scenarios::$scenario(db, super::$spawn).await;
                }
            )*
        }
        mod mysql {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let Some(db) = $crate::TestDb::mysql().await else { return };
                    $crate::scenarios::$scenario(db, super::$spawn).await;
                }
            )*
        }
    };
}
