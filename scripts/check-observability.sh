#!/usr/bin/env bash
# Checks deploy/observability/: the Prometheus alert rules (promtool check rules), their unit
# tests (promtool test rules), the shape of every alert (for, severity, summary, description, a
# firing and a quiet test case each), the Grafana dashboard (JSON, data-source variable, PromQL
# that parses), and that every metric name the rules and the dashboard use is one the server
# exports: deploy/observability/series.txt, which a Rust test compares with a real scrape.
#
# promtool comes from PATH, or $PROMTOOL, or else from Debian's `prometheus` package unpacked
# with dpkg -x (never installed: nothing is started) into a cache directory.
set -euo pipefail
cd "$(dirname "$0")/.."

OBS=deploy/observability
RULES=$OBS/prometheus/reset-server.rules.yml
TESTS=$OBS/prometheus/reset-server.rules.test.yml
DASHBOARD=$OBS/grafana/reset-server.json
SERIES=$OBS/series.txt
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
START=$SECONDS

# --- promtool ---------------------------------------------------------------------------------
find_promtool() {
  if [ -n "${PROMTOOL:-}" ]; then
    return
  fi
  if command -v promtool >/dev/null 2>&1; then
    PROMTOOL=$(command -v promtool)
    return
  fi
  local cache="${XDG_CACHE_HOME:-$HOME/.cache}/reset-server/promtool"
  if [ -x "$cache/promtool" ] && "$cache/promtool" --version >/dev/null 2>&1; then
    PROMTOOL=$cache/promtool
    return
  fi
  echo "--- fetching promtool from Debian's prometheus package (apt-get download + dpkg -x, not installed)"
  local dl="$WORK/deb"
  mkdir -p "$dl"
  if ! (cd "$dl" && apt-get download -q prometheus >"$WORK/apt.log" 2>&1); then
    echo "apt-get download failed; updating the package lists and retrying"
    apt-get update -q >>"$WORK/apt.log" 2>&1 || true
    (cd "$dl" && apt-get download -q prometheus >>"$WORK/apt.log" 2>&1) || {
      cat "$WORK/apt.log" >&2
      echo "could not download Debian's prometheus package" >&2
      exit 1
    }
  fi
  dpkg -x "$dl"/prometheus_*.deb "$dl/root"
  if mkdir -p "$cache" 2>/dev/null && cp "$dl/root/usr/bin/promtool" "$cache/promtool.tmp" 2>/dev/null; then
    mv "$cache/promtool.tmp" "$cache/promtool"
    PROMTOOL=$cache/promtool
  else
    PROMTOOL=$dl/root/usr/bin/promtool
  fi
}
find_promtool
echo "--- promtool: $PROMTOOL ($("$PROMTOOL" --version 2>&1 | head -n1))"

# --- the rules and their unit tests -----------------------------------------------------------
echo "--- promtool check rules $RULES"
"$PROMTOOL" check rules "$RULES"
echo "--- promtool test rules $TESTS"
"$PROMTOOL" test rules "$TESTS"

# --- static checks: alert shape, dashboard, metric names --------------------------------------
python3 -c 'import yaml' 2>/dev/null || {
  echo "--- installing PyYAML for the static checks"
  python3 -m pip install --quiet --disable-pip-version-check pyyaml 2>&1 | grep -v "as the 'root' user" || true
}
echo "--- static checks: alerts, dashboard, metric names against $SERIES"
python3 - "$RULES" "$TESTS" "$DASHBOARD" "$SERIES" "$WORK/dashboard.rules.yml" <<'PY'
import json
import re
import sys

import yaml

rules_path, tests_path, dashboard_path, series_path, out_path = sys.argv[1:]
errors = []


def error(msg):
    errors.append(msg)
    print(f"  FAIL {msg}")


# The allowed names: one a line; histograms by their base name (the scrape shows _bucket, _sum
# and _count), plus Prometheus's own `up`.
series = [l.strip() for l in open(series_path) if l.strip()]
allowed = set(series)
if len(allowed) != len(series):
    error(f"{series_path}: a name is listed twice")
for name in series:
    if not re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", name):
        error(f"{series_path}: {name!r} is not a metric name")

KEYWORDS = {
    # aggregations and modifiers
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk",
    "topk", "quantile", "limitk", "limit_ratio", "by", "without", "on", "ignoring",
    "group_left", "group_right", "offset", "bool", "and", "or", "unless", "atan2", "inf", "nan",
}
HIST_SUFFIXES = ("_bucket", "_sum", "_count")


def metric_names(expr):
    """The metric names a PromQL expression selects (Grafana variables allowed)."""
    e = expr
    if "__name__" in e:
        raise ValueError("selects by __name__: name the metric instead")
    # Grafana's label_values(metric{...}, label): keep the metric part.
    e = re.sub(r"label_values\(\s*([^,()]*?)\s*,\s*[a-zA-Z_]\w*\s*\)", r" \1 ", e)
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', e)           # string literals
    e = re.sub(r"'(?:[^'\\]|\\.)*'", "''", e)
    e = re.sub(r"`[^`]*`", "``", e)
    e = re.sub(r"\{[^{}]*\}", " ", e)                      # label matchers
    e = re.sub(r"\[[^\[\]]*\]", " ", e)                    # ranges and subqueries
    e = re.sub(r"\$\{[^}]*\}|\$\w+", " ", e)                # Grafana variables
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)", r" \1 ", e)
    names = set()
    for m in re.finditer(r"(?<![\w:.$])[a-zA-Z_:][\w:]*", e):
        word = m.group(0)
        rest = e[m.end():].lstrip()
        if rest.startswith("("):                           # a function
            continue
        if word.lower() in KEYWORDS:
            continue
        names.add(word)
    return names


used_bare, used_hist = {}, {}


def check_expr(where, expr):
    try:
        names = metric_names(expr)
    except ValueError as e:
        error(f"{where}: {e}")
        return
    if not names:
        error(f"{where}: selects no metric: {expr!r}")
    for name in sorted(names):
        if name in allowed:
            used_bare.setdefault(name, where)
            continue
        base = next((name[: -len(s)] for s in HIST_SUFFIXES if name.endswith(s)), None)
        if base in allowed and not base.endswith("_total") and base != "up":
            used_hist.setdefault(base, where)
            continue
        error(f"{where}: {name} is not in {series_path}")


# --- the rules ---
rules = yaml.safe_load(open(rules_path))
alerts = []
for group in rules["groups"]:
    for rule in group["rules"]:
        name = rule.get("alert") or rule.get("record")
        check_expr(f"{rules_path}: {name}", rule["expr"])
        if "alert" not in rule:
            allowed.add(rule["record"])  # a recording rule's output may be used after it
            continue
        alerts.append(name)
        if "for" not in rule:
            error(f"{name}: no `for`")
        labels = rule.get("labels", {})
        if labels.get("severity") not in ("critical", "warning", "info"):
            error(f"{name}: severity label missing or not critical/warning/info")
        extra = set(labels) - {"severity"}
        if extra:
            error(f"{name}: labels other than severity: {sorted(extra)}")
        ann = rule.get("annotations", {})
        for key in ("summary", "description"):
            if not ann.get(key):
                error(f"{name}: no {key} annotation")
if len(set(alerts)) != len(alerts):
    error(f"{rules_path}: an alert name is used twice")
print(f"  {len(alerts)} alerts: {', '.join(alerts)}")

# Each alert: at least one test case where it fires and one where it does not.
tests = yaml.safe_load(open(tests_path))
fires, quiet = set(), set()
for t in tests["tests"]:
    for case in t.get("alert_rule_test", []):
        (fires if case.get("exp_alerts") else quiet).add(case["alertname"])
for name in alerts:
    if name not in fires:
        error(f"{name}: no test case where it fires")
    if name not in quiet:
        error(f"{name}: no test case where it stays quiet")
unknown = (fires | quiet) - set(alerts)
if unknown:
    error(f"{tests_path}: tests for alerts that do not exist: {sorted(unknown)}")
if not (set(alerts) - fires) and not (set(alerts) - quiet):
    print("  every alert has a firing and a quiet test case")

# --- the dashboard ---
dash = json.load(open(dashboard_path))
if not (36 <= dash.get("schemaVersion", 0) <= 41):
    error(f"{dashboard_path}: schemaVersion {dash.get('schemaVersion')} (want about 39)")
variables = {v["name"]: v for v in dash.get("templating", {}).get("list", [])}
ds = variables.get("DS_PROMETHEUS")
if not ds or ds.get("type") != "datasource" or ds.get("query") != "prometheus":
    error(f"{dashboard_path}: no Prometheus data-source variable DS_PROMETHEUS")
if "job" not in variables and "instance" not in variables:
    error(f"{dashboard_path}: no job or instance variable")

exprs = []  # (where, expr)
for v in variables.values():
    if v.get("type") != "query":
        continue
    q = v.get("query")
    q = q.get("query") if isinstance(q, dict) else q
    for text in {q, v.get("definition")} - {None, ""}:
        exprs.append((f"variable {v['name']}", text))


def walk_panels(panels):
    for p in panels:
        yield p
        yield from walk_panels(p.get("panels", []))


ids, n_panels = set(), 0
for p in walk_panels(dash.get("panels", [])):
    if p.get("id") in ids:
        error(f"{dashboard_path}: panel id {p.get('id')} used twice")
    ids.add(p.get("id"))
    if "gridPos" not in p:
        error(f"{dashboard_path}: panel {p.get('title')!r} has no gridPos")
    if p.get("type") == "row":
        continue
    n_panels += 1
    if not p.get("targets"):
        error(f"{dashboard_path}: panel {p.get('title')!r} has no query")
    for t in p.get("targets", []):
        uid = (t.get("datasource") or p.get("datasource") or {}).get("uid")
        if uid != "${DS_PROMETHEUS}":
            error(f"{dashboard_path}: panel {p.get('title')!r} does not use ${{DS_PROMETHEUS}}")
        exprs.append((f"panel {p.get('title')!r} {t.get('refId')}", t["expr"]))
for where, expr in exprs:
    check_expr(f"{dashboard_path}: {where}", expr)
print(f"  dashboard: {n_panels} panels, {len(exprs)} queries")

# A classic histogram's base name is never a series of its own: used bare and with a suffix,
# it names a gauge or counter as if it were a histogram.
for base, where in used_hist.items():
    if base in used_bare:
        error(f"{where}: {base} is used both as a histogram and as a plain series ({used_bare[base]})")

unused = [n for n in series if n not in used_bare and n not in used_hist]
print(f"  {len(series)} allowed names; used: {len(series) - len(unused)}" + (f"; unused: {', '.join(unused)}" if unused else ""))

# The dashboard's PromQL, with its Grafana variables filled in, as recording rules for promtool.
def fill(expr):
    expr = re.sub(r"label_values\(\s*([^,()]*?)\s*,\s*[a-zA-Z_]\w*\s*\)", r"\1", expr)
    expr = expr.replace("$__rate_interval", "5m").replace("$__range", "1h").replace("$__interval", "1m")
    return re.sub(r"\$\{?(\w+)\}?", ".*", expr)


out = {"groups": [{"name": "dashboard-queries", "rules": [
    {"record": f"dashboard:query_{i}", "expr": fill(e)} for i, (_, e) in enumerate(exprs)]}]}
yaml.safe_dump(out, open(out_path, "w"), sort_keys=False)

if errors:
    print(f"static checks: {len(errors)} problem(s)")
    sys.exit(1)
print("  static checks passed")
PY

echo "--- promtool check rules: the dashboard's queries parse as PromQL"
"$PROMTOOL" check rules "$WORK/dashboard.rules.yml"

echo "--- observability checks passed ($((SECONDS - START))s)"
