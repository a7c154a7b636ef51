#!/usr/bin/env python3
"""Failover with nothing lost: two reset-server instances on a Patroni cluster (scripts/ha-cluster.sh)
through the multi-host URL, 32 clients sending reset requests, then (a) a planned switchover and
(b) the primary killed with kill -9. Run by scripts/ha-failover.sh, which sets the cluster up.

For each case it checks, and exits non-zero if any fails:
- every request answered 202 yields exactly one mail (files counted; no recipient twice);
- every other answer is a 503 with Retry-After (never a 500, never slower than the deadline);
- service is back (first 202 after the last 503) within 15 s of the cut;
- both instances LISTEN on the new primary again, and a new request's mail leaves at once;
- secrets issued before the cut still complete afterwards, and only once.
It prints the figures and writes them as JSON (--out).
"""

import argparse
import email
import email.policy
import itertools
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
CLUSTER = os.path.join(HERE, "ha-cluster.sh")
CLIENTS = 32
DEADLINE_S = 10.0  # no answer may take longer (the servers' write deadline is 10 s as well)
RECOVERY_LIMIT_S = 15.0
KEY = "cmVzZXQtZmFpbG92ZXItdGVzdC1rZXktMzItYnl0ZXMhIQ=="  # one key for both instances
PASSWORD = "violet tractor melts quietly 42"


def log(*args):
    print("ha-failover:", *args, file=sys.stderr, flush=True)


def cluster(*args):
    out = subprocess.run(["bash", CLUSTER, *args], capture_output=True, text=True)
    if out.returncode != 0:
        log(out.stdout, out.stderr)
        raise SystemExit(f"ha-cluster.sh {' '.join(args)} failed")
    return out.stdout.strip()


def psql(port, sql):
    out = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", "postgres",
         "-Atqc", sql],
        capture_output=True, text=True,
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    return out.stdout.strip()


def post(base, path, body, timeout=DEADLINE_S + 5):
    """(status, Retry-After, seconds) of a JSON POST; status 0 when no answer came."""
    data = json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data,
                                 headers={"content-type": "application/json"})
    start = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers.get("Retry-After"), time.monotonic() - start
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Retry-After"), time.monotonic() - start
    except Exception:  # noqa: BLE001 - a timeout or a reset connection is an answer too
        return 0, None, time.monotonic() - start


class Instance:
    def __init__(self, binary, work, name, port, url):
        self.name, self.port = name, port
        self.base = f"http://127.0.0.1:{port}"
        self.dir = os.path.join(work, name)
        self.mail = os.path.join(self.dir, "mail")
        os.makedirs(self.mail, exist_ok=True)
        env = {
            "PATH": os.environ.get("PATH", ""),
            "RESET_BIND": f"127.0.0.1:{port}",
            "RESET_DATABASE_URL": url,
            "RESET_DATA_DIR": os.path.join(self.dir, "data"),
            "RESET_SECRET_KEY": KEY,
            "RESET_MAIL_TRANSPORT": "file",
            "RESET_MAIL_DIR": self.mail,
            "RESET_LIMIT_REQUEST_PER_IP": "0",
            "RESET_LIMIT_ATTEMPT_PER_IP": "0",
            "RESET_OUTBOX_POLL_MS": "10000",
            "RESET_MIGRATE_ON_START": "false",
            "RUST_LOG": "warn",
        }
        self.log = open(os.path.join(work, f"{name}.log"), "w")
        self.proc = subprocess.Popen([binary, "serve"], env=env, stdout=self.log,
                                     stderr=self.log, cwd=self.dir)
        for _ in range(200):
            try:
                with urllib.request.urlopen(self.base + "/readyz", timeout=1) as r:
                    if r.status == 200:
                        return
            except Exception:  # noqa: BLE001
                pass
            time.sleep(0.1)
        raise SystemExit(f"{name} did not start; see {work}/{name}.log")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def mail_files(instances):
    """Paths of every instance's .eml files."""
    return {os.path.join(inst.mail, n) for inst in instances for n in os.listdir(inst.mail)
            if n.endswith(".eml")}


def mails(instances, files=None):
    """recipient -> [text bodies] over every instance's mail folder (or just `files`)."""
    out = {}
    for path in (mail_files(instances) if files is None else files):
        with open(path, "rb") as f:
            msg = email.message_from_binary_file(f, policy=email.policy.default)
        part = msg.get_body(preferencelist=("plain",))
        body = part.get_content() if part else ""
        out.setdefault(str(msg["To"]).strip(), []).append(body)
    return out


class Load:
    """CLIENTS threads, each sending requests for fresh accounts to both instances in turn."""

    def __init__(self, instances, accounts):
        self.instances, self.accounts = instances, accounts
        self.events = []  # (started, finished, status, retry_after, account)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.client, daemon=True) for _ in range(CLIENTS)]

    def client(self):
        while not self.stop.is_set():
            n = next(self.accounts)
            inst = self.instances[n % len(self.instances)]
            started = time.time()
            status, retry_after, _ = post(inst.base, "/v1/password-reset/request",
                                          {"email": f"user{n}@example.com"})
            with self.lock:
                self.events.append((started, time.time(), status, retry_after, n))
            if status != 202:
                time.sleep(0.05)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join()


def wait_mails(instances, expected, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline and len(mail_files(instances)) < expected:
        time.sleep(0.5)
    # A moment more, for a duplicate still on its way.
    time.sleep(2)
    return mails(instances)


def token_in(body):
    m = re.search(r"token=([A-Za-z0-9_\-\.~%]+)", body)
    return m.group(1) if m else None


completed_before = [0]  # resets completed so far: each sent a "password changed" notice too


def run_case(name, cut, instances, accounts, all_accepted):
    log(f"case {name}: load for 4 s before the cut")
    failures = []
    with Load(instances, accounts) as load:
        time.sleep(4)
        # Secrets issued before the cut, to complete after it.
        with load.lock:
            before = [e[4] for e in load.events if e[2] == 202][:4]
        old_primary = cluster("primary")
        t_cut = time.time()
        cut()
        log(f"case {name}: cut done after {time.time() - t_cut:.1f} s; load for 10 s more")
        time.sleep(10)
    events = load.events
    new_primary = cluster("primary")
    accepted = [e for e in events if e[2] == 202]
    unavailable = [e for e in events if e[2] == 503]
    other = [e for e in events if e[2] not in (202, 503)]
    all_accepted.update(e[4] for e in accepted)
    if other:
        failures.append(f"{len(other)} answers neither 202 nor 503: "
                        f"{sorted(set(e[2] for e in other))}")
    if any(not e[3] for e in unavailable):
        failures.append("a 503 without Retry-After")
    slowest = max((e[1] - e[0] for e in events), default=0)
    if slowest > DEADLINE_S:
        failures.append(f"an answer took {slowest:.1f} s (deadline {DEADLINE_S} s)")
    after_cut = [e for e in events if e[0] >= t_cut]
    last_503 = max((e[1] for e in after_cut if e[2] != 202), default=None)
    if last_503 is None:
        recovery = 0.0
    else:
        back = [e[1] for e in after_cut if e[2] == 202 and e[1] >= last_503]
        recovery = (min(back) - t_cut) if back else float("inf")
    if recovery > RECOVERY_LIMIT_S:
        failures.append(f"service back after {recovery:.1f} s (limit {RECOVERY_LIMIT_S} s)")
    outage = [e for e in after_cut if e[2] != 202]
    first_out = min((e[0] for e in outage), default=t_cut)

    # Both instances LISTEN on the new primary again.
    listening = 0
    for _ in range(40):
        listening = int(psql(new_primary, "SELECT count(*) FROM pg_stat_activity "
                                          "WHERE query ILIKE 'LISTEN%'"))
        if listening >= len(instances):
            break
        time.sleep(0.5)
    if listening < len(instances):
        failures.append(f"{listening} LISTEN connections on the new primary")

    # Every accepted request's mail, once.
    got = wait_mails(instances, len(all_accepted) + completed_before[0], 120)
    recipients = {f"user{a}@example.com" for a in all_accepted}
    missing = sorted(recipients - set(got))
    # Reset mails only: a completed reset also sends a "password changed" notice.
    duplicated = sorted(r for r, bodies in got.items()
                        if sum(1 for b in bodies if token_in(b)) > 1)
    unexpected = sorted(set(got) - recipients)
    if missing:
        failures.append(f"{len(missing)} accepted requests without a mail, e.g. {missing[:3]}")
    if duplicated:
        failures.append(f"{len(duplicated)} recipients mailed twice, e.g. {duplicated[:3]}")
    if unexpected:
        failures.append(f"mail to {len(unexpected)} addresses never accepted: {unexpected[:3]}")

    # Once the backlog is out, a new request's mail leaves at once (a wake-up, not the poll).
    n = next(accounts)
    seen = mail_files(instances)
    status, _, _ = post(instances[1].base, "/v1/password-reset/request",
                        {"email": f"user{n}@example.com"})
    t0 = time.time()
    wake = None
    if status == 202:
        all_accepted.add(n)
        while time.time() - t0 < 15:
            if f"user{n}@example.com" in mails(instances, mail_files(instances) - seen):
                wake = time.time() - t0
                break
            time.sleep(0.02)
    if wake is None or wake > 2:
        failures.append(f"a new request's mail after recovery took {wake} s")

    # Secrets from before the cut complete once.
    completed = 0
    for a in before:
        bodies = got.get(f"user{a}@example.com", [])
        token = next((token_in(b) for b in bodies if token_in(b)), None)
        if not token:
            failures.append(f"no token in user{a}'s mail")
            continue
        first, _, _ = post(instances[0].base, "/v1/password-reset/complete",
                           {"token": token, "new_password": PASSWORD})
        again, _, _ = post(instances[1].base, "/v1/password-reset/complete",
                           {"token": token, "new_password": PASSWORD})
        if first == 204 and again == 400:
            completed += 1
            completed_before[0] += 1
        else:
            failures.append(f"user{a}'s pre-cut secret: {first} then {again} (want 204 then 400)")

    figures = {
        "case": name,
        "old_primary": int(old_primary),
        "new_primary": int(new_primary),
        "requests": len(events),
        "answered_202": len(accepted),
        "answered_503": len(unavailable),
        "other_answers": len(other),
        "slowest_answer_s": round(slowest, 2),
        "unavailable_window_s": round((last_503 - first_out), 2) if last_503 else 0.0,
        "seconds_to_recovery": round(recovery, 2),
        "mails_total": sum(len(v) for v in got.values()),
        "accepted_total": len(all_accepted),
        "missing": len(missing),
        "duplicates": len(duplicated),
        "listen_connections": listening,
        "mail_after_recovery_s": round(wake, 2) if wake is not None else None,
        "pre_cut_secrets_completed_once": f"{completed}/{len(before)}",
    }
    log(json.dumps(figures))
    return figures, failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--accounts", type=int, default=60000)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    url = cluster("url")
    primary = cluster("primary")
    env = dict(os.environ, RESET_DATABASE_URL=url, RESET_DATA_DIR=os.path.join(args.work, "cli"))
    subprocess.run([args.binary, "migrate"], env=env, check=True, capture_output=True)
    psql(primary, f"""
        INSERT INTO users (id, username, org_id, created_at)
            SELECT md5('u' || g)::uuid::text, 'user' || g, 'default', 0
            FROM generate_series(1, {args.accounts}) g;
        INSERT INTO user_emails (address, user_id, position, verified)
            SELECT 'user' || g || '@example.com', md5('u' || g)::uuid::text, 0, true
            FROM generate_series(1, {args.accounts}) g;""")
    instances = [
        Instance(args.binary, args.work, "a", 18081, url),
        Instance(args.binary, args.work, "b", 18082, url),
    ]
    accounts = itertools.count(1)
    all_accepted = set()
    results, failures = [], []
    try:
        for name, cut in [
            ("switchover", lambda: cluster("switchover")),
            ("kill -9 of the primary", lambda: cluster("kill-primary")),
        ]:
            figures, failed = run_case(name, cut, instances, accounts, all_accepted)
            results.append(figures)
            failures += [f"{name}: {f}" for f in failed]
            if name.startswith("switchover"):
                cluster("wait-healthy")
    finally:
        for inst in instances:
            inst.stop()
    with open(args.out, "w") as f:
        json.dump(results, f, indent=2)
    cols = ["case", "requests", "answered_202", "answered_503", "other_answers", "mails_total",
            "duplicates", "missing", "seconds_to_recovery", "unavailable_window_s",
            "slowest_answer_s", "mail_after_recovery_s", "listen_connections",
            "pre_cut_secrets_completed_once"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in results:
        print("| " + " | ".join(str(r[c]) for c in cols) + " |")
    if failures:
        for f in failures:
            print("FAIL:", f, file=sys.stderr)
        sys.exit(1)
    print("ha-failover: every accepted request was delivered exactly once in both cases")


if __name__ == "__main__":
    main()
