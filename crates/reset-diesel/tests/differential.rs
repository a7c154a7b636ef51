//! The differential replay: one pseudo-random sequence of reset requests (known accounts and
//! unknown identifiers, links and codes, retries, late arrivals, guesses spending the budget,
//! clock steps) replayed on SQLite, PostgreSQL and MySQL/MariaDB gives the same answers and
//! leaves the same rows in every table the issue transaction writes (ids aside; the clock is
//! the sequence's own, so timestamps are compared too). Every store plans with
//! `reset_core::issue_plan`; this checks that each loads and applies the plan alike.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use diesel::QueryDsl as _;
use reset_core::message::{Channel, MessageKind, MessagePayload};
use reset_core::rate_limit::{CounterHit, Limit, SendCap};
use reset_core::store::{
    IssueOutcome, IssueRequest, IssueTarget, NewSecret, NewUser, ResetState as _, SecretKind,
    Target, UnknownTarget,
};
use reset_diesel::schema::{audit_events, outbox, rate_limits, reset_secrets};
use reset_diesel::{DieselStore, PoolOptions};
use reset_testkit::TestDb;

/// A small deterministic generator (xorshift64*): the same sequence on every store and run.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// One step of the sequence.
#[derive(Debug, Clone)]
enum Op {
    /// A request for known account `who` (0..3) or unknown identifier `who - 3` (3..5).
    Request { who: usize, code: bool },
    /// The request `back` places earlier, again (its answer was lost).
    Retry { back: usize },
    /// A request that took its id before the last one's and arrives after it.
    Late { who: usize },
    /// Guesses at `who`'s code.
    Guess { who: usize, n: u32 },
    /// The clock moves on.
    Tick { minutes: i64 },
}

fn sequence(seed: u64, len: usize) -> Vec<Op> {
    let mut d = Dice(seed | 1);
    (0..len)
        .map(|_| match d.roll(12) {
            0..=5 => Op::Request {
                who: usize::try_from(d.roll(5)).unwrap(),
                code: d.roll(2) == 0,
            },
            6 => Op::Retry {
                back: usize::try_from(d.roll(6)).unwrap(),
            },
            7 => Op::Late {
                who: usize::try_from(d.roll(3)).unwrap(),
            },
            8 => Op::Guess {
                who: usize::try_from(d.roll(5)).unwrap(),
                n: u32::try_from(1 + d.roll(4)).unwrap(),
            },
            _ => Op::Tick {
                minutes: i64::try_from(d.roll(9)).unwrap(),
            },
        })
        .collect()
}

fn start() -> DateTime<Utc> {
    DateTime::from_timestamp(1_790_000_000, 0).unwrap()
}

const USERS: [&str; 3] = ["ann", "bob", "cyd"];

/// The guess budget of a code request.
const BUDGET: u32 = 3;

fn request(n: u64, now: DateTime<Utc>, target: Target, code: bool) -> IssueRequest {
    let secret = |kind, tag: &str| NewSecret {
        kind,
        hash: format!("hash-{n}-{tag}"),
        expires_at: now + Duration::minutes(30),
        max_attempts: 5,
    };
    let mut secrets = vec![secret(SecretKind::Cancel, "cancel")];
    secrets.push(if code {
        secret(SecretKind::Code, "code")
    } else {
        secret(SecretKind::Link, "link")
    });
    IssueRequest {
        now,
        target,
        request_id: format!("01900000-0000-7000-8000-{n:012}"),
        secrets,
        guess_budget: code.then(|| Limit::new(BUDGET, 3600)),
        send_caps: vec![
            SendCap::account(Limit::new(3, 600)),
            SendCap::from_ip(Limit::new(2, 600), Some("192.0.2.7".parse().unwrap())),
        ],
        channel: Channel::Email,
        message_kind: if code {
            MessageKind::ResetCode
        } else {
            MessageKind::ResetLink
        },
        payload: MessagePayload {
            link: Some(format!("https://reset.example/{n}")),
            ..MessagePayload::default()
        },
        ip: Some("192.0.2.7".into()),
        via: "differential".into(),
        events: vec![],
        deliver: true,
        retried: false,
    }
}

/// The sequence's answers and the store's rows, with ids named by what they stand for.
async fn replay(db: &TestDb, ops: &[Op]) -> (Vec<String>, BTreeMap<&'static str, Vec<String>>) {
    let store = DieselStore::connect(db.url(), PoolOptions::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let mut names = BTreeMap::new();
    let mut targets = Vec::new();
    for name in USERS {
        let user = NewUser {
            username: name.into(),
            emails: vec![format!("{name}@example.com")],
            ..NewUser::default()
        };
        let user = store.create_user(start(), user).await.unwrap();
        names.insert(user.id.clone(), name.to_owned());
        targets.push(IssueTarget {
            user_id: user.id,
            recipients: vec![format!("{name}@example.com")],
            locale: "en".into(),
            username: name.into(),
        });
    }
    let target = |who: usize| match targets.get(who) {
        Some(t) => Target::Known(t.clone()),
        None => {
            let mut unknown = UnknownTarget::new(&format!("nocode:u:ghost{who}"), "en".into());
            unknown.recipients = 1;
            Target::Unknown(unknown)
        }
    };
    let (mut now, mut n) = (start(), 100u64);
    let (mut sent, mut answers) = (Vec::<IssueRequest>::new(), Vec::new());
    for op in ops {
        let req = match op {
            Op::Request { who, code } => {
                n += 2;
                Some(request(n, now, target(*who), *code))
            }
            Op::Late { who } => Some(request(n - 1, now, target(*who), false)),
            Op::Retry { back } => sent.iter().rev().nth(*back).cloned().map(|r| IssueRequest {
                now,
                retried: true,
                ..r
            }),
            Op::Guess { who, n } => {
                let user_id = match target(*who) {
                    Target::Known(t) => t.user_id,
                    Target::Unknown(u) => u.account().to_owned(),
                };
                for _ in 0..*n {
                    let counter = CounterHit {
                        key: format!("nocode:{user_id}"),
                        limit: Limit::new(50, 600),
                    };
                    let share = CounterHit {
                        key: format!("guessip:{user_id}|192.0.2.7"),
                        limit: Limit::new(0, 600),
                    };
                    let tried = store
                        .code_try(now, &counter, &user_id, Limit::new(BUDGET, 3600), &share)
                        .await
                        .unwrap();
                    answers.push(format!("guess {who}: {}", tried.code.is_some()));
                }
                None
            }
            Op::Tick { minutes } => {
                now += Duration::minutes(*minutes);
                None
            }
        };
        if let Some(req) = req {
            let outcome = store.issue(req.clone()).await.unwrap();
            let outcome = match outcome {
                IssueOutcome::Issued { user_id } => format!("issued {}", names[&user_id]),
                IssueOutcome::NotIssued => "not issued".to_owned(),
            };
            answers.push(format!("{} {op:?}: {outcome}", req.request_id));
            sent.push(req);
        }
    }
    drop(store);
    (answers, rows(db, &names).await)
}

/// Every row the issue path writes, as text, sorted, with account and secret ids replaced by
/// names that are the same on every store.
async fn rows(
    db: &TestDb,
    names: &BTreeMap<String, String>,
) -> BTreeMap<&'static str, Vec<String>> {
    type Secret = (
        String,
        String,
        String,
        String,
        String,
        i64,
        i64,
        Option<i64>,
        Option<i64>,
        i32,
        i32,
    );
    type Counter = (String, i32, i64, i64);
    type Audit = (Option<String>, String, i64, Option<String>, String);
    type Message = (Option<String>, String, String, String, String, i64, bool);
    macro_rules! load {
        ($conn:expr, [$($aw:tt)*]) => {{
            let secrets: Vec<Secret> = reset_secrets::table
                .select((
                    reset_secrets::id, reset_secrets::request_id, reset_secrets::user_id,
                    reset_secrets::kind, reset_secrets::secret_hash, reset_secrets::created_at,
                    reset_secrets::expires_at, reset_secrets::used_at, reset_secrets::superseded_at,
                    reset_secrets::attempts, reset_secrets::max_attempts,
                ))
                .load($conn)$($aw)*.unwrap();
            let counters: Vec<Counter> = rate_limits::table
                .select((rate_limits::key, rate_limits::count, rate_limits::window_start, rate_limits::expires_at))
                .load($conn)$($aw)*.unwrap();
            let audits: Vec<Audit> = audit_events::table
                .select((audit_events::user_id, audit_events::kind, audit_events::at, audit_events::ip, audit_events::details))
                .load($conn)$($aw)*.unwrap();
            let messages: Vec<Message> = outbox::table
                .select((outbox::user_id, outbox::kind, outbox::recipient, outbox::locale, outbox::payload, outbox::created_at, outbox::decoy))
                .load($conn)$($aw)*.unwrap();
            (secrets, counters, audits, messages)
        }};
    }
    let (secrets, counters, audits, messages) = match db {
        TestDb::Sqlite { url, .. } => {
            use diesel::connection::SimpleConnection as _;
            use diesel::{Connection as _, RunQueryDsl as _};
            let path = url.trim_start_matches("sqlite://");
            let mut conn = diesel::SqliteConnection::establish(path).unwrap();
            // The store's writer thread may still be closing its connection.
            conn.batch_execute("PRAGMA busy_timeout = 10000").unwrap();
            load!(&mut conn, [])
        }
        TestDb::Postgres { url, .. } => {
            use diesel_async::{AsyncConnection as _, RunQueryDsl as _};
            let mut conn = diesel_async::AsyncPgConnection::establish(url)
                .await
                .unwrap();
            load!(&mut conn, [.await])
        }
        TestDb::Mysql { url, .. } => {
            use diesel_async::{AsyncConnection as _, RunQueryDsl as _};
            let mut conn = diesel_async::AsyncMysqlConnection::establish(url)
                .await
                .unwrap();
            load!(&mut conn, [.await])
        }
    };
    let mut names = names.clone();
    for s in &secrets {
        names.insert(s.0.clone(), format!("secret[{} {}]", s.1, s.3));
    }
    let name = |text: String| {
        names
            .iter()
            .fold(text, |t, (id, name)| t.replace(id.as_str(), name))
    };
    let sorted = |rows: Vec<String>| {
        let mut rows: Vec<String> = rows.into_iter().map(name).collect();
        rows.sort();
        rows
    };
    let mut out = BTreeMap::new();
    out.insert(
        "reset_secrets",
        sorted(
            secrets
                .into_iter()
                .map(|s| {
                    format!(
                        "{:?}",
                        (&s.1, &s.2, &s.3, &s.4, s.5, s.6, s.7, s.8, s.9, s.10)
                    )
                })
                .collect(),
        ),
    );
    out.insert(
        "rate_limits",
        sorted(counters.iter().map(|c| format!("{c:?}")).collect()),
    );
    out.insert(
        "audit_events",
        sorted(audits.iter().map(|a| format!("{a:?}")).collect()),
    );
    out.insert(
        "outbox",
        sorted(messages.iter().map(|m| format!("{m:?}")).collect()),
    );
    out
}

/// Replays three seeds on every store that is reachable and compares each with SQLite.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_store_answers_and_writes_alike() {
    let mut seen = String::new();
    for seed in [7, 1_234_567, 987_654_321] {
        let ops = sequence(seed, 80);
        let sqlite = TestDb::sqlite();
        let expected = replay(&sqlite, &ops).await;
        seen.push_str(&expected.0.join("\n"));
        seen.push_str(&expected.1["audit_events"].join("\n"));
        for other in [TestDb::postgres().await, TestDb::mysql().await]
            .into_iter()
            .flatten()
        {
            let got = replay(&other, &ops).await;
            assert_eq!(
                got.0,
                expected.0,
                "answers differ (seed {seed}, {})",
                other.url()
            );
            for (table, rows) in &expected.1 {
                assert_eq!(
                    &got.1[table],
                    rows,
                    "{table} differs (seed {seed}, {})",
                    other.url()
                );
            }
        }
    }
    // The sequences reach every decision, or the comparison would prove little.
    for reached in [
        "issued ann",
        "Retry",
        "reset_not_sent_account_cap",
        "code_not_issued_guess_budget_spent",
        "guess 0: true",
    ] {
        assert!(seen.contains(reached), "no sequence reached {reached}");
    }
}
