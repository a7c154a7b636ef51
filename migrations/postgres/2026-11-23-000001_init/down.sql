DROP TABLE admin_tokens;
DROP TABLE audit_events;
DROP TABLE outbox;
DROP TABLE rate_limits;
DROP TABLE reset_secrets;
DROP TABLE password_history;
DROP TABLE user_emails;
DROP TABLE users;
