#!/usr/bin/env bash
# Checks the Kubernetes manifests (deploy/kubernetes): renders every overlay with
# `kubectl kustomize`, validates every rendered object against a schema, strictly (unknown
# fields fail), and asserts what the manifests promise: hardened pods, secrets only from the
# Secret, the metrics port private, SQLite on one replica, PostgreSQL migrated by a Job.
#   bash scripts/check-kubernetes.sh
# Needs kubectl (Debian's kubernetes-client is installed when it is missing; its kustomize
# v2.0.3 renders these manifests as today's v5 does) and python3 (kubernetes-validate is
# installed from PyPI when it is missing). KUBE_VERSIONS="1.30.0 1.33.0" picks the Kubernetes
# schemas (default 1.30.0). Exits non-zero on any failure; a kind that no schema covers is one.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=deploy/kubernetes
SCHEMAS=$DIR/schemas
KUBE_VERSIONS=${KUBE_VERSIONS:-1.30.0}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

echo "== kubectl"
if ! command -v kubectl >/dev/null 2>&1; then
  echo "kubectl is not on PATH; installing Debian's kubernetes-client"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q kubernetes-client >"$WORK/apt.log" 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q kubernetes-client >"$WORK/apt.log" 2>&1; } \
    || { tail -n 20 "$WORK/apt.log" >&2; fail "could not install kubernetes-client"; }
fi
kubectl version --client 2>/dev/null | head -n 2 || true
# `kubectl kustomize` exists since 1.14 (kustomize v2.0.3); the manifests keep to what that reads.
kubectl kustomize --help >/dev/null 2>&1 \
  || fail "$(command -v kubectl) has no 'kustomize' subcommand (kubectl 1.14 or later is needed)"

echo "== kubernetes-validate"
if ! python3 -c 'import kubernetes_validate, jsonschema, yaml' 2>/dev/null; then
  echo "installing kubernetes-validate from PyPI"
  python3 -m pip install --quiet --disable-pip-version-check kubernetes-validate 2>&1 \
    | grep -v "running pip as the 'root' user" || true
  python3 -c 'import kubernetes_validate, jsonschema, yaml' || fail "could not install kubernetes-validate"
fi
echo "kubernetes-validate $(python3 -m kubernetes_validate --version), Kubernetes schemas $KUBE_VERSIONS"

OVERLAYS=()
for d in "$DIR"/overlays/*/; do OVERLAYS+=("$(basename "$d")"); done
[ ${#OVERLAYS[@]} -gt 0 ] || fail "no overlays under $DIR/overlays"

for name in "${OVERLAYS[@]}"; do
  echo "== render overlays/$name"
  if ! kubectl kustomize "$DIR/overlays/$name" >"$WORK/$name.yaml" 2>"$WORK/$name.err"; then
    cat "$WORK/$name.err" >&2
    fail "kubectl kustomize $DIR/overlays/$name"
  fi
  # kustomize v5 warns about the field names v2.0.3 needs (bases, patchesStrategicMerge); any
  # other message is shown.
  grep -v "^# Warning: '[A-Za-z]*' is deprecated" "$WORK/$name.err" >&2 || true
  echo "$(grep -c '^kind:' "$WORK/$name.yaml") objects"
done

# Splits each rendering into the kinds kubernetes-validate knows ($WORK/NAME.builtin.yaml) and
# the custom resources, which it validates here against $SCHEMAS/GROUP-VERSION-KIND.json; then
# asserts the properties below on the rendered objects. A custom resource without a schema in
# $SCHEMAS fails.
# Both checks below always run; their failures are counted and the script fails at the end.
FAILED=0
echo "== custom resources against $SCHEMAS, and the manifests' promises"
python3 - "$WORK" "$SCHEMAS" "${OVERLAYS[@]}" <<'PY' || FAILED=$((FAILED + 1))
import json, os, sys
import jsonschema, yaml

work, schema_dir, overlays = sys.argv[1], sys.argv[2], sys.argv[3:]
SECRET_ENV = {"RESET_DATABASE_URL", "RESET_SMTP_URL", "RESET_SECRET_KEYS", "RESET_SECRET_KEY"}
BUILTIN_GROUPS = {"", "apps", "batch", "policy", "autoscaling", "networking.k8s.io",
                  "rbac.authorization.k8s.io", "storage.k8s.io", "scheduling.k8s.io"}
errors = []


def err(overlay, obj, msg):
    errors.append(f"overlays/{overlay}: {obj}: {msg}")


def report(mark, msg):
    """'ok' for a group of checks that added no error since `mark` (len(errors) before it)."""
    print(("ok  " if len(errors) == mark else "BAD ") + msg)


def ident(o):
    return f"{o.get('kind')}/{(o.get('metadata') or {}).get('name')}"


def group_version(o):
    api = o.get("apiVersion", "")
    return api.split("/", 1) if "/" in api else ("", api)


def pod_templates(o):
    spec = o.get("spec") or {}
    if o["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
        yield spec.get("template") or {}
    elif o["kind"] == "CronJob":
        yield ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}
    elif o["kind"] == "Pod":
        yield o


def check_pod(overlay, o, tpl, configmaps):
    who = ident(o)
    pod = tpl.get("spec") or {}
    psc = pod.get("securityContext") or {}
    if pod.get("automountServiceAccountToken") is not False:
        err(overlay, who, "automountServiceAccountToken must be false")
    for host in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(host):
            err(overlay, who, f"{host} must not be set")
    for key, want in (("runAsUser", 10001), ("runAsGroup", 10001), ("fsGroup", 10001)):
        if psc.get(key) != want:
            err(overlay, who, f"pod securityContext.{key} must be {want}, is {psc.get(key)!r}")
    volumes = {v.get("name"): v for v in pod.get("volumes") or []}
    containers = (pod.get("initContainers") or []) + (pod.get("containers") or [])
    if not containers:
        err(overlay, who, "no containers")
    for c in containers:
        cwho = f"{who} container {c.get('name')}"
        csc = c.get("securityContext") or {}
        eff = lambda k: csc.get(k, psc.get(k))  # the container's value, else the pod's
        if eff("runAsNonRoot") is not True:
            err(overlay, cwho, "runAsNonRoot must be true")
        if eff("runAsUser") == 0:
            err(overlay, cwho, "runAsUser must not be 0")
        if (eff("seccompProfile") or {}).get("type") != "RuntimeDefault":
            err(overlay, cwho, "seccompProfile.type must be RuntimeDefault")
        if csc.get("readOnlyRootFilesystem") is not True:
            err(overlay, cwho, "readOnlyRootFilesystem must be true")
        if csc.get("allowPrivilegeEscalation") is not False:
            err(overlay, cwho, "allowPrivilegeEscalation must be false")
        if csc.get("privileged"):
            err(overlay, cwho, "privileged must not be set")
        caps = csc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            err(overlay, cwho, "capabilities.drop must contain ALL")
        if caps.get("add"):
            err(overlay, cwho, f"capabilities.add must be empty, is {caps['add']}")
        res = c.get("resources") or {}
        for path in (("requests", "cpu"), ("requests", "memory"), ("limits", "memory")):
            if not (res.get(path[0]) or {}).get(path[1]):
                err(overlay, cwho, f"resources.{'.'.join(path)} must be set")
        mounts = {m.get("mountPath"): m.get("name") for m in c.get("volumeMounts") or []}
        if "emptyDir" not in volumes.get(mounts.get("/tmp"), {}):
            err(overlay, cwho, "/tmp must be an emptyDir (the root filesystem is read-only)")
        image = c.get("image", "")
        if image == "reset-server" or image.endswith(":latest"):
            err(overlay, cwho, f"image {image!r}: set a registry and tag through `images:`")
        for e in c.get("env") or []:
            if e.get("name") in SECRET_ENV:
                if "value" in e:
                    err(overlay, cwho, f"env {e['name']} has a literal value: it must come from the Secret")
                elif not ((e.get("valueFrom") or {}).get("secretKeyRef")):
                    err(overlay, cwho, f"env {e['name']} must come from a secretKeyRef")
        for src in c.get("envFrom") or []:
            ref = (src.get("configMapRef") or {}).get("name")
            if ref is not None and ref not in configmaps and not src["configMapRef"].get("optional"):
                err(overlay, cwho, f"envFrom names ConfigMap {ref}, which the overlay does not render")
    return containers


def config_of(containers, configmaps):
    """The settings a container gets from its ConfigMaps, then its env (literal values only)."""
    out = {}
    for c in containers:
        for src in c.get("envFrom") or []:
            out.update((configmaps.get((src.get("configMapRef") or {}).get("name")) or {}).get("data") or {})
        for e in c.get("env") or []:
            if "value" in e:
                out[e["name"]] = e["value"]
    return out


def port_numbers(ports, container_ports):
    """Numbers of a NetworkPolicy rule's or Service's ports, named ones resolved."""
    out = set()
    for p in ports:
        for key in ("port", "targetPort"):
            v = p.get(key)
            if isinstance(v, str):
                v = container_ports.get(v, v)
            if v is not None:
                out.add(v)
    return out


def restricted_peer(peer):
    """A peer that names both a namespace and pods by label (so not 'everyone')."""
    ns, pods = peer.get("namespaceSelector"), peer.get("podSelector")
    return bool(ns and (ns.get("matchLabels") or ns.get("matchExpressions"))
                and pods and (pods.get("matchLabels") or pods.get("matchExpressions"))
                and "ipBlock" not in peer)


rendered = {}
for overlay in overlays:
    with open(os.path.join(work, overlay + ".yaml")) as f:
        objects = rendered[overlay] = [o for o in yaml.safe_load_all(f) if o]
    builtin = []
    for o in objects:
        group, version = group_version(o)
        if group in BUILTIN_GROUPS:
            builtin.append(o)
            continue
        path = os.path.join(schema_dir, f"{group}-{version}-{o['kind'].lower()}.json")
        if not os.path.exists(path):
            err(overlay, ident(o), f"no schema for {o['apiVersion']} {o['kind']}: add {path}")
            continue
        with open(path) as f:
            validator = jsonschema.Draft202012Validator(json.load(f))
        problems = sorted(validator.iter_errors(o), key=lambda e: list(e.path))
        for p in problems:
            err(overlay, ident(o), f"{'.'.join(map(str, p.path)) or '(root)'}: {p.message} ({path})")
        if not problems:
            print(f"ok  overlays/{overlay}: {ident(o)} against {path}")
    with open(os.path.join(work, overlay + ".builtin.yaml"), "w") as f:
        yaml.safe_dump_all(builtin, f, sort_keys=False)

def check_overlay(overlay, objects):
    by_kind = {}
    for o in objects:
        by_kind.setdefault(o["kind"], []).append(o)
    configmaps = {o["metadata"]["name"]: o for o in by_kind.get("ConfigMap", [])}

    # Secrets are the operator's (../secret.example.yaml), never part of a rendering.
    mark = len(errors)
    for o in by_kind.get("Secret", []):
        err(overlay, ident(o), "a Secret must not be rendered: the operator creates reset-server-secrets")
    for name, cm in configmaps.items():
        for key, value in (cm.get("data") or {}).items():
            if key in SECRET_ENV and not (key == "RESET_DATABASE_URL" and str(value).startswith("sqlite://")):
                err(overlay, ident(cm), f"{key} is a secret: it belongs in the Secret, not a ConfigMap")
    report(mark, f"overlays/{overlay}: no Secret rendered, no secret setting in "
           + (", ".join(ident(cm) for cm in configmaps.values()) or "a ConfigMap"))

    mark = len(errors)
    workloads = [o for o in objects if any(True for _ in pod_templates(o))]
    if not by_kind.get("Deployment"):
        err(overlay, "(overlay)", "renders no Deployment")
    container_ports = {}
    for o in workloads:
        for tpl in pod_templates(o):
            containers = check_pod(overlay, o, tpl, configmaps)
            for c in containers:
                for p in c.get("ports") or []:
                    if p.get("name"):
                        container_ports[p["name"]] = p.get("containerPort")
    report(mark, f"overlays/{overlay}: pod hardening and secret sources of "
           + ", ".join(ident(o) for o in workloads))

    # The server: probes, a grace period above the server's own, and the database's rules.
    metrics_port = 0
    for d in by_kind.get("Deployment", []):
        mark = len(errors)
        pod = d["spec"]["template"]["spec"]
        server = pod["containers"][0]
        cfg = config_of(pod["containers"], configmaps)
        metrics_port = int(cfg.get("RESET_METRICS_BIND", ":0").rsplit(":", 1)[1] or 0)
        for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
            got = ((server.get(probe) or {}).get("httpGet") or {}).get("path")
            if got != path:
                err(overlay, ident(d), f"{probe} must GET {path}, is {got!r}")
        # SIGKILL comes terminationGracePeriodSeconds after the preStop hook starts: the hook's
        # pause and the server's own drain must both fit.
        grace = int(cfg.get("RESET_SHUTDOWN_GRACE_SECS", 20))
        pre_stop = (((server.get("lifecycle") or {}).get("preStop") or {}).get("exec") or {}).get("command") or []
        pause = int(pre_stop[1]) if len(pre_stop) == 2 and pre_stop[0] == "sleep" else 0
        if pod.get("terminationGracePeriodSeconds", 30) <= grace + pause:
            err(overlay, ident(d), f"terminationGracePeriodSeconds must exceed RESET_SHUTDOWN_GRACE_SECS "
                                   f"({grace}) plus the preStop pause ({pause})")
        env_names = {e["name"] for c in pod["containers"] for e in c.get("env") or []}
        db = cfg.get("RESET_DATABASE_URL")
        if db is not None and db.startswith("sqlite://"):
            # One process per SQLite file: one replica, replaced (not rolled), nothing to scale it.
            if d["spec"].get("replicas", 1) != 1:
                err(overlay, ident(d), "SQLite: replicas must be 1")
            if (d["spec"].get("strategy") or {}).get("type") != "Recreate":
                err(overlay, ident(d), "SQLite: strategy must be Recreate")
            for kind in ("HorizontalPodAutoscaler", "PodDisruptionBudget"):
                if by_kind.get(kind):
                    err(overlay, ident(d), f"SQLite: a {kind} cannot apply to a single instance")
            data = {m["mountPath"]: m["name"] for m in server.get("volumeMounts") or []}.get("/data")
            vol = {v["name"]: v for v in pod.get("volumes") or []}.get(data, {})
            if "persistentVolumeClaim" not in vol:
                err(overlay, ident(d), "SQLite: /data must be a PersistentVolumeClaim")
            if cfg.get("RESET_MIGRATE_ON_START", "true") != "true":
                err(overlay, ident(d), "SQLite: RESET_MIGRATE_ON_START must be true (no migration Job)")
        else:
            if "RESET_DATABASE_URL" not in env_names:
                err(overlay, ident(d), "RESET_DATABASE_URL must come from the Secret")
            if cfg.get("RESET_MIGRATE_ON_START") != "false":
                err(overlay, ident(d), "RESET_MIGRATE_ON_START must be false (the Job migrates)")
            jobs = [j for j in by_kind.get("Job", [])
                    if any(c.get("args") == ["migrate"] for c in j["spec"]["template"]["spec"]["containers"])]
            if not jobs:
                err(overlay, ident(d), "no Job runs `reset-server migrate`")
            for j in jobs:
                for key in ("backoffLimit", "ttlSecondsAfterFinished"):
                    if key not in j["spec"]:
                        err(overlay, ident(j), f"{key} must be set")
        report(mark, f"overlays/{overlay}: {ident(d)} probes, grace period, database "
               f"({'SQLite' if db and db.startswith('sqlite://') else 'from the Secret'})")

    # The metrics port: on no Service beside the API, on no Service reachable from outside, and
    # admitted by the NetworkPolicies from named namespaces' named pods only.
    mark = len(errors)
    if not metrics_port:
        err(overlay, "(overlay)", "RESET_METRICS_BIND is not set")
    for s in by_kind.get("Service", []):
        spec = s.get("spec") or {}
        if spec.get("type", "ClusterIP") != "ClusterIP":
            err(overlay, ident(s), f"type {spec['type']}: expose the API through an Ingress instead")
        numbers = port_numbers(spec.get("ports") or [], container_ports)
        if metrics_port in numbers and numbers != {metrics_port}:
            err(overlay, ident(s), f"exposes the metrics port {metrics_port} beside others: keep it on a Service of its own")
    metrics_services = {s["metadata"]["name"] for s in by_kind.get("Service", [])
                        if metrics_port in port_numbers(s["spec"].get("ports") or [], container_ports)}
    for ing in by_kind.get("Ingress", []):
        if any(svc in yaml.safe_dump(ing) for svc in metrics_services):
            err(overlay, ident(ing), "routes to the metrics Service")
    ingress_policies = [p for p in by_kind.get("NetworkPolicy", []) if "Ingress" in (p["spec"].get("policyTypes") or [])]
    if not ingress_policies:
        err(overlay, "(overlay)", "no NetworkPolicy restricts ingress")
    for p in ingress_policies:
        for i, rule in enumerate(p["spec"].get("ingress") or []):
            ports = rule.get("ports")
            if ports and metrics_port not in port_numbers(ports, container_ports):
                continue  # the rule does not admit the metrics port
            if not rule.get("from") or not all(restricted_peer(peer) for peer in rule["from"]):
                err(overlay, ident(p), f"ingress[{i}] admits port {metrics_port} from more than named namespaces' named pods")
    report(mark, f"overlays/{overlay}: metrics port {metrics_port} only on "
           f"{', '.join(sorted(metrics_services)) or 'no Service'}, admitted by the NetworkPolicies "
           "only from selected pods of selected namespaces")


for overlay, objects in rendered.items():
    try:
        check_overlay(overlay, objects)
    except Exception as e:  # a manifest shaped unlike the checks expect: a failure, not a crash
        err(overlay, "(checks)", f"could not check: {type(e).__name__}: {e}")

if errors:
    print("\n".join("FAIL: " + e for e in errors), file=sys.stderr)
    sys.exit(1)
PY

# kubernetes-validate prints nothing with --quiet when all is well; a WARN (no schema for a kind)
# fails like an ERROR, so nothing passes unchecked.
for version in $KUBE_VERSIONS; do
  for name in "${OVERLAYS[@]}" secret-example; do
    if [ "$name" = secret-example ]; then
      file=$DIR/secret.example.yaml
    else
      file=$WORK/$name.builtin.yaml
    fi
    echo "== kubernetes-validate --strict -k $version ${file#"$WORK/"}"
    set +e
    out=$(python3 -m kubernetes_validate --strict --quiet -k "$version" "$file" 2>&1)
    rc=$?
    set -e
    if [ "$rc" -eq 0 ] && [ -z "$out" ]; then
      echo "ok  $(grep -c '^kind:' "$file") objects"
    else
      printf '%s\n' "$out" >&2
      echo "FAIL: kubernetes-validate: ${file#"$WORK/"} (Kubernetes $version)" >&2
      FAILED=$((FAILED + 1))
    fi
  done
done
[ "$FAILED" -eq 0 ] || fail "$FAILED of the checks above failed"
echo "Kubernetes manifests: all checks passed"
