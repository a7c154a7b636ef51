//! The Diesel schema, written by hand for every backend: every column uses a type that
//! PostgreSQL, MySQL and SQLite map alike (times are Unix milliseconds, ids are text). It must
//! match `migrations/*/`; the migration tests apply each backend's migrations, and the store
//! contract and conformance suites run every query against each.

// Generated table declarations (Diesel's `table!`): a module and a type per table and column.
// The migrations document the columns, so they carry no doc comments of their own.
#![allow(missing_docs)]

diesel::table! {
    users (id) {
        id -> Text,
        username -> Text,
        password_hash -> Nullable<Text>,
        org_id -> Text,
        locale -> Nullable<Text>,
        phone -> Nullable<Text>,
        password_changed_at -> Nullable<BigInt>,
        sequence -> BigInt,
        created_at -> BigInt,
        disabled -> Bool,
    }
}

diesel::table! {
    user_emails (address) {
        address -> Text,
        user_id -> Text,
        position -> Integer,
        verified -> Bool,
    }
}

diesel::table! {
    password_history (id) {
        id -> Text,
        user_id -> Text,
        password_hash -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    reset_secrets (id) {
        id -> Text,
        request_id -> Text,
        user_id -> Text,
        kind -> Text,
        secret_hash -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
        superseded_at -> Nullable<BigInt>,
        attempts -> Integer,
        max_attempts -> Integer,
        issued_via -> Text,
        request_ip -> Nullable<Text>,
    }
}

diesel::table! {
    rate_limits (key) {
        key -> Text,
        window_start -> BigInt,
        count -> Integer,
        expires_at -> BigInt,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        user_id -> Nullable<Text>,
        kind -> Text,
        channel -> Text,
        recipient -> Text,
        locale -> Text,
        payload -> Text,
        created_at -> BigInt,
        attempts -> Integer,
        next_attempt_at -> BigInt,
        sent_at -> Nullable<BigInt>,
        last_error -> Nullable<Text>,
        queued_at -> BigInt,
        dead_at -> Nullable<BigInt>,
        decoy -> Bool,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        user_id -> Nullable<Text>,
        kind -> Text,
        at -> BigInt,
        ip -> Nullable<Text>,
        details -> Text,
    }
}

diesel::table! {
    __diesel_schema_migrations (version) {
        version -> Text,
    }
}

diesel::joinable!(user_emails -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(users, user_emails);

diesel::table! {
    admin_tokens (id) {
        id -> Text,
        name -> Text,
        token_hash -> Text,
        scopes -> Text,
        created_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
    }
}
