-- The decoy: an account and a live code that no request can name (an empty username and
-- address are refused before any lookup). Lookups of an unknown account read the decoy's rows
-- instead, so a known and an unknown account cost the same rows (see queries/users.rs and
-- queries/secrets.rs); nothing ever answers with them.
INSERT INTO users (id, username, password_hash, org_id, locale, phone, password_changed_at, `sequence`, created_at)
VALUES ('00000000-0000-0000-0000-000000000000', '',
        '$argon2id$v=19$m=19456,t=2,p=1$ZGVjb3lkZWNveWRlY295$0000000000000000000000000000000000000000000',
        'default', NULL, NULL, 0, 1, 0);
INSERT INTO user_emails (address, user_id, `position`, verified)
VALUES ('', '00000000-0000-0000-0000-000000000000', 0, FALSE);
INSERT INTO reset_secrets (id, request_id, user_id, kind, secret_hash, created_at, expires_at, used_at, superseded_at, attempts, max_attempts, issued_via, request_ip)
VALUES ('00000000-0000-0000-0000-000000000000', '00000000-0000-0000-0000-000000000000',
        '00000000-0000-0000-0000-000000000000', 'code', 'decoy', 0, 9000000000000000, NULL, NULL, 0, 12, 'decoy', NULL);
