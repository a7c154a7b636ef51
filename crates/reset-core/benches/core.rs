//! Micro-benchmarks: issuing and checking secrets, and one argon2id hash with the defaults.
//! Results are written down in docs/benchmarks.md.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use reset_core::policy::PolicySubject;
use reset_core::secret::{new_code, new_token};
use reset_core::{HasherConfig, OsSecretRng, PasswordHasher, PasswordPolicy, SecretKey};

fn secrets(c: &mut Criterion) {
    let rng = OsSecretRng;
    let key = SecretKey::generate(&rng);
    c.bench_function("issue link token (32 bytes + HMAC)", |b| {
        b.iter(|| {
            let t = new_token(&rng);
            key.hash("token", t.expose())
        });
    });
    c.bench_function("issue 6-digit code (+ HMAC)", |b| {
        b.iter(|| {
            let code = new_code(&rng, 6);
            key.hash("code", code.expose())
        });
    });
    let stored = key.hash("token", "q1Fz3k0b5m2Jt8Yw4Xc6Vn9Lp7Hs2Dg5Ra1Ue3Io8Ky");
    c.bench_function("verify token (HMAC + constant-time compare)", |b| {
        b.iter(|| {
            stored.matches(
                &key.hash("token", "q1Fz3k0b5m2Jt8Yw4Xc6Vn9Lp7Hs2Dg5Ra1Ue3Io8Kz")
                    .0,
            )
        });
    });
}

fn argon2(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let hasher = PasswordHasher::new(HasherConfig::default(), Arc::new(OsSecretRng)).unwrap();
    let mut group = c.benchmark_group("argon2id");
    group.sample_size(20);
    group.bench_function("hash, m=19456 KiB t=2 p=1", |b| {
        b.iter(|| {
            rt.block_on(hasher.hash("violet tractor melts quietly"))
                .unwrap()
        });
    });
    group.finish();
}

fn policy(c: &mut Criterion) {
    let policy = PasswordPolicy::default();
    let emails = vec!["alice@example.com".to_owned()];
    c.bench_function("policy check (NFKC + zxcvbn), 31-char passphrase", |b| {
        b.iter(|| {
            policy.check(
                "violet tractor melts quietly 42",
                PolicySubject {
                    username: "alice",
                    emails: &emails,
                },
            )
        });
    });
}

criterion_group!(benches, secrets, policy, argon2);
criterion_main!(benches);
