#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The Kubernetes manifests in packaging/kubernetes/ deploy what they say.

Reads every manifest (python3-yaml) and checks, for the DaemonSet and the
sidecar Deployment:
- the ConfigMaps are conf/ unchanged (gen_configmaps.py --check), and the
  container's `-c` names a file of its mounted ConfigMap;
- `sluice --dry-run` accepts that config with the container's environment;
- the probes and the ports are the config's: liveness/readiness on
  /api/v1/health at the config's HTTP_Port, the metrics port the exporter's
  (sidecar), the scrape annotations the same numbers;
- DaemonSet: /var/log mounted read-only, the offset DB and storage.path on
  a hostPath (a restarted pod neither re-sends nor skips), a ServiceAccount
  bound to the ClusterRole, read-only root, dropped capabilities, resources;
- sidecar: the app and sluice share an emptyDir, sluice's offsets are on it.
The ClusterRole's rules against the requests the kubernetes filter makes are
checked by test_kubernetes.py, which sees those requests.
"""
import os
import re
import subprocess
import sys
import tempfile

import sluice_e2e as e2e

try:
    import yaml
except ImportError:
    e2e.skip("python3-yaml is not installed (packaging/deps.sh installs it)")

ROOT = e2e.source_root()
K8S = os.path.join(ROOT, "packaging", "kubernetes")
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def load_all():
    docs = []
    for name in sorted(os.listdir(K8S)):
        if name.endswith(".yaml"):
            with open(os.path.join(K8S, name), encoding="utf-8") as f:
                docs += [(name, d) for d in yaml.safe_load_all(f) if d]
    return docs


def find(docs, kind, name=None):
    for _, d in docs:
        if d.get("kind") == kind and (name is None or d["metadata"]["name"] == name):
            return d
    return None


def expand(value, env):
    """${VAR} and ${VAR:-default} as sluice expands them (one level)."""
    def sub(m):
        var, default = m.group(1), m.group(3)
        if var in env:
            return env[var]
        return default if default is not None else ""
    return re.sub(r"\$\{(\w+)(:-([^}]*))?\}", sub, value)


def conf_values(text, env):
    """{(section, key lowercased): value} of a classic config (first wins)."""
    values, section = {}, None
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        m = re.match(r"^\[(\w+)\]$", s)
        if m:
            section = m.group(1).upper()
            continue
        parts = s.split(None, 1)
        if section and len(parts) == 2:
            values.setdefault((section, parts[0].lower()), expand(parts[1], env))
    return values


def container_env(c):
    return {e["name"]: e["value"] for e in c.get("env", []) if "value" in e}


def port_number(c, port):
    if isinstance(port, int):
        return port
    for p in c.get("ports", []):
        if p.get("name") == port:
            return p["containerPort"]
    return None


def mounted_config(docs, pod, c):
    """(dir, ConfigMap data) of the ConfigMap volume mounted in c."""
    volumes = {v["name"]: v for v in pod["volumes"]}
    for m in c["volumeMounts"]:
        v = volumes[m["name"]]
        if "configMap" in v:
            cm = find(docs, "ConfigMap", v["configMap"]["name"])
            check(cm is not None, "ConfigMap %s exists" % v["configMap"]["name"])
            return m["mountPath"], (cm or {}).get("data", {})
    check(False, "a ConfigMap is mounted in %s" % c["name"])
    return None, {}


def dry_run(data, conf_name, env, what):
    """Runs sluice --dry-run on the ConfigMap's files with the pod's env."""
    with tempfile.TemporaryDirectory() as d:
        for name, text in data.items():
            with open(os.path.join(d, name), "w", encoding="utf-8") as f:
                f.write(text)
        run_env = dict(os.environ)
        run_env.update(env)
        p = subprocess.run([e2e.binary(), "-c", os.path.join(d, conf_name), "--dry-run"],
                           capture_output=True, text=True, env=run_env, timeout=60)
        ok = p.returncode == 0 and "configuration test is successful" in p.stdout + p.stderr
        check(ok, "%s: sluice --dry-run accepts the ConfigMap's %s" % (what, conf_name))
        if not ok:
            print(p.stdout + p.stderr)


def check_probe(c, kind, path, port, what):
    probe = c.get(kind)
    check(probe is not None, "%s: %s is set" % (what, kind))
    if probe:
        get = probe.get("httpGet", {})
        check(get.get("path") == path and port_number(c, get.get("port")) == port,
              "%s: %s is GET %s on port %s (got %s on %s)"
              % (what, kind, path, port, get.get("path"), port_number(c, get.get("port"))))


def check_hardening(c, what):
    sc = c.get("securityContext", {})
    check(sc.get("readOnlyRootFilesystem") is True, what + ": read-only root file system")
    check(sc.get("allowPrivilegeEscalation") is False, what + ": no privilege escalation")
    check("ALL" in sc.get("capabilities", {}).get("drop", []), what + ": capabilities dropped")
    res = c.get("resources", {})
    check("memory" in res.get("limits", {}) and "cpu" in res.get("requests", {}),
          what + ": memory limit and cpu request")


def under(path, mount):
    return os.path.normpath(path).startswith(os.path.normpath(mount) + os.sep)


def check_daemonset(docs):
    ds = find(docs, "DaemonSet")
    check(ds is not None, "a DaemonSet is shipped")
    if not ds:
        return
    tmpl = ds["spec"]["template"]
    pod = tmpl["spec"]
    c = pod["containers"][0]
    env = container_env(c)
    what = "DaemonSet"
    mount_dir, data = mounted_config(docs, pod, c)
    conf_path = c["args"][c["args"].index("-c") + 1]
    conf_name = os.path.basename(conf_path)
    check(os.path.dirname(conf_path) == mount_dir and conf_name in data,
          what + ": -c %s is a file of the mounted ConfigMap" % conf_path)
    if conf_name not in data:
        return
    check(conf_name == "node-daemon.conf", what + ": runs conf/node-daemon.conf")
    dry_run(data, conf_name, env, what)
    values = conf_values(data[conf_name], env)

    check(values.get(("SERVICE", "http_server"), "").lower() in ("on", "true", "yes"),
          what + ": the config serves the HTTP API")
    check(values.get(("SERVICE", "http_listen")) == "0.0.0.0",
          what + ": the API listens on the pod's address (probes reach it)")
    api_port = int(values.get(("SERVICE", "http_port"), "2020"))
    check_probe(c, "livenessProbe", "/api/v1/health", api_port, what)
    check_probe(c, "readinessProbe", "/api/v1/health", api_port, what)
    ann = tmpl["metadata"].get("annotations", {})
    check(ann.get("prometheus.io/port") == str(api_port)
          and ann.get("prometheus.io/path") == "/api/v1/metrics/prometheus",
          what + ": scrape annotations name the metrics endpoint")
    check(any(p["containerPort"] == api_port for p in c["ports"]),
          what + ": the API port is a container port")
    check("kubernetes" in [v for (s, k), v in values.items() if s == "FILTER" and k == "name"]
          or re.search(r"(?im)^\s*Name\s+kubernetes\s*$", data[conf_name]) is not None,
          what + ": the config uses the kubernetes filter")

    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
    varlog = mounts.get("/var/log")
    check(varlog is not None and varlog.get("readOnly") is True
          and volumes[varlog["name"]].get("hostPath", {}).get("path") == "/var/log",
          what + ": hostPath /var/log mounted read-only")
    log_path = values.get(("INPUT", "path"), "")
    check(under(log_path, "/var/log"), what + ": tails under /var/log (%s)" % log_path)
    host_mounts = [m for m in c["volumeMounts"]
                   if "hostPath" in volumes[m["name"]] and not m.get("readOnly")]
    for key, label in ((("INPUT", "db"), "offset DB"),
                       (("SERVICE", "storage.path"), "storage.path")):
        path = values.get(key, "")
        check(path and any(under(path, m["mountPath"]) for m in host_mounts),
              "%s: %s (%s) is on a writable hostPath" % (what, label, path))
    check(re.search(r"(?im)^\s*storage\.type\s+filesystem\s*$", data[conf_name]) is not None,
          what + ": the tail input buffers on disk (storage.type filesystem)")
    check_hardening(c, what)

    sa = pod.get("serviceAccountName")
    ns = ds["metadata"]["namespace"]
    check(any(d.get("kind") == "ServiceAccount" and d["metadata"]["name"] == sa
              and d["metadata"].get("namespace") == ns for _, d in docs),
          what + ": ServiceAccount %s/%s is shipped" % (ns, sa))
    bound = [d for _, d in docs if d.get("kind") == "ClusterRoleBinding"
             and any(s.get("kind") == "ServiceAccount" and s.get("name") == sa
                     and s.get("namespace") == ns for s in d.get("subjects", []))]
    check(bound and find(docs, "ClusterRole", bound[0]["roleRef"]["name"]) is not None,
          what + ": the ServiceAccount is bound to a shipped ClusterRole")
    if bound:
        role = find(docs, "ClusterRole", bound[0]["roleRef"]["name"])
        verbs = {v for r in role["rules"] for v in r["verbs"]}
        check(verbs <= {"get", "list", "watch"}, what + ": the ClusterRole only reads")


def check_sidecar(docs):
    dep = find(docs, "Deployment")
    check(dep is not None, "a sidecar Deployment is shipped")
    if not dep:
        return
    tmpl = dep["spec"]["template"]
    pod = tmpl["spec"]
    names = [c["name"] for c in pod["containers"]]
    check(len(names) == 2 and "sluice" in names, "sidecar: an app container and sluice")
    c = next(c for c in pod["containers"] if c["name"] == "sluice")
    app = next(c for c in pod["containers"] if c["name"] != "sluice")
    env = container_env(c)
    what = "sidecar"
    mount_dir, data = mounted_config(docs, pod, c)
    conf_path = c["args"][c["args"].index("-c") + 1]
    conf_name = os.path.basename(conf_path)
    check(os.path.dirname(conf_path) == mount_dir and conf_name == "sidecar.conf"
          and conf_name in data, what + ": runs conf/sidecar.conf from its ConfigMap")
    if conf_name not in data:
        return
    dry_run(data, conf_name, env, what)
    values = conf_values(data[conf_name], env)

    volumes = {v["name"]: v for v in pod["volumes"]}
    shared = [m for m in c["volumeMounts"] if "emptyDir" in volumes[m["name"]]]
    check(shared and any(m["name"] == shared[0]["name"] for m in app["volumeMounts"]),
          what + ": sluice and the app share an emptyDir")
    log_path = values.get(("INPUT", "path"), "")
    db = values.get(("INPUT", "db"), "")
    check(shared and under(log_path, shared[0]["mountPath"]),
          what + ": tails the shared volume (%s)" % log_path)
    check(shared and under(db, shared[0]["mountPath"]) and not shared[0].get("readOnly"),
          what + ": offsets on the shared volume, writable (%s)" % db)

    outputs = re.split(r"(?m)^\[OUTPUT\]", data[conf_name])[1:]
    exporter = [o for o in outputs if re.search(r"(?im)^\s*Name\s+prometheus_exporter", o)]
    check(len(exporter) == 1, what + ": one prometheus_exporter output")
    metrics_port = None
    if exporter:
        m = re.search(r"(?im)^\s*Port\s+(\S+)", exporter[0])
        metrics_port = int(expand(m.group(1), env)) if m else 2021
    check(port_number(c, "metrics") == metrics_port,
          what + ": container port 'metrics' is the exporter's port %s" % metrics_port)
    ann = tmpl["metadata"].get("annotations", {})
    check(ann.get("prometheus.io/port") == str(metrics_port)
          and ann.get("prometheus.io/path") == "/metrics",
          what + ": scrape annotations name the exporter")
    api_port = int(values.get(("SERVICE", "http_port"), "2020"))
    check(values.get(("SERVICE", "http_server"), "").lower() in ("on", "true", "yes")
          and values.get(("SERVICE", "http_listen")) == "0.0.0.0",
          what + ": the health endpoint is on, on the pod's address")
    check_probe(c, "livenessProbe", "/api/v1/health", api_port, what)
    check_probe(c, "readinessProbe", "/metrics", metrics_port, what)
    check_hardening(c, what)


def main():
    docs = load_all()
    check(len(docs) >= 6, "manifests read (%d documents)" % len(docs))
    gen = subprocess.run([sys.executable, os.path.join(K8S, "gen_configmaps.py"), "--check"],
                         capture_output=True, text=True)
    check(gen.returncode == 0, "the ConfigMaps are conf/ unchanged " + gen.stderr.strip())
    check_daemonset(docs)
    check_sidecar(docs)
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("all manifest checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
