# SPDX-License-Identifier: Apache-2.0
"""The kubernetes filter against a fake API server (HTTPS, a test CA, a
bearer token) over a fake /var/log/containers tree in the cri and docker
formats: records carry the pod's labels, annotations and ids; Merge_Log and
the fluentbit.io/parser and fluentbit.io/exclude annotations work; the API
is asked once per pod; a rotated token file is picked up; with the API
slow, failing, refusing or down, records still go out with what the file
name says and are counted. Every request the fake server saw must be
allowed by packaging/kubernetes/rbac.yaml's ClusterRole."""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sluice_e2e as e2e  # noqa: E402
import fake_kube_api as fk  # noqa: E402

try:
    import yaml
except ImportError:
    e2e.skip("python3-yaml is not installed")

c = e2e.Checker()
e2e.require_plugins("tail", "kubernetes", "file")

ID_WEB = "a" * 60 + "0001"
ID_API = "0123456789abcdef" * 4
ID_QUIET = "b" * 60 + "0002"
ID_NGINX = "c" * 60 + "0003"
ID_GHOST = "d" * 60 + "0004"
ID_NEW = "e" * 60 + "0005"

with open(os.path.join(e2e.source_root(), "packaging", "kubernetes", "rbac.yaml")) as f:
    RBAC = list(yaml.safe_load_all(f))


def append(path, lines):
    with open(path, "a") as f:
        for l in lines:
            f.write(l + "\n")


def cri(msg, stream="stdout"):
    return "2024-01-01T00:00:00.000000001Z %s F %s" % (stream, msg)


def docker(msg, stream="stdout"):
    return json.dumps({"log": msg + "\n", "stream": stream, "time": "2024-01-01T00:00:00.5Z"})


def tag_prefix(logs):
    return "kube." + logs.strip("/").replace("/", ".") + "."


def records(out):
    path = os.path.join(out, "got.log")
    return e2e.read_plain(path) if os.path.exists(path) else []


def check_rbac(api, what):
    lines = api.requests()
    denied = [l for l in lines if not fk.rbac_allows(RBAC, l)]
    c.equal(denied, [], "%s: every API request is allowed by the ClusterRole" % what)


def config(tmp, logs, api, token_file, **filter_opts):
    parsers = e2e.parsers_file(os.path.join(tmp, "parsers.conf"), [
        {"Name": "kv", "Format": "regex",
         "Regex": r"^(?<method>[A-Z]+) (?<path>\S+) (?<code>\d+)$"}])
    kube = {"Name": "kubernetes", "Match": "kube.*", "Kube_URL": api.url,
            "Kube_CA_File": api.ca, "Kube_Token_File": token_file,
            "Kube_Tag_Prefix": tag_prefix(logs)}
    kube.update(filter_opts)
    port = e2e.free_port()
    return e2e.write(os.path.join(tmp, "k8s.conf"),
                     e2e.section("SERVICE", Flush="0.2", Grace="5", Log_Level="info",
                                 Parsers_File=parsers, HTTP_Server="On",
                                 HTTP_Listen="127.0.0.1", HTTP_Port=port) +
                     e2e.section("INPUT", Name="tail", Path=os.path.join(logs, "*.log"),
                                 Tag="kube.*", Read_from_Head="On", Refresh_Interval="1",
                                 **{"multiline.parser": "docker, cri"}) +
                     e2e.section("FILTER", **kube) +
                     e2e.section("OUTPUT", Name="file", Match="kube.*",
                                 Path=os.path.join(tmp, "out"), File="got.log",
                                 Format="plain", Mkdir="On")), port


def labelled(out, pod, field="labels"):
    return [r for r in records(out)
            if r.get("kubernetes", {}).get("pod_name") == pod and field in r["kubernetes"]]


def warm_up(path, fmt, out, pod, what):
    """Writes lines to a new pod's file until one comes out with labels:
    the first records of a pod go out before its metadata is back."""
    def got():
        append(path, [fmt("warm-up")])
        return labelled(out, pod)
    try:
        e2e.wait_for(got, 30, interval=0.3, what=what)
    except TimeoutError as e:
        c.check(False, str(e))


def check_metadata(tmp):
    logs = os.path.join(tmp, "var", "log", "containers")
    os.makedirs(logs)
    api = fk.FakeKubeApi(tmp, tokens=("token-1",)).start()
    token = e2e.write(os.path.join(tmp, "token"), "token-1\n")
    api.add_pod(fk.pod("shop", "web-7d4f9c-x2k8p", "uid-web",
                       labels={"app": "web", "tier": "front"},
                       annotations={"team": "shop", "fluentbit.io/parser-nginx": "kv"},
                       containers=[("nginx", ID_WEB), ("sidecar", "f" * 64)],
                       owner="web-7d4f9c"))
    api.add_pod(fk.pod("prod", "api-0", "uid-api", labels={"app": "api"},
                       annotations={}, containers=[("app", ID_API)]))
    api.add_pod(fk.pod("prod", "quiet-0", "uid-quiet", labels={"app": "quiet"},
                       annotations={"fluentbit.io/exclude": "true"},
                       containers=[("app", ID_QUIET)]))
    api.add_namespace(fk.namespace("shop", labels={"env": "prod"},
                                   annotations={"owner": "team-shop"}))
    api.add_namespace(fk.namespace("prod", labels={"env": "prod"}))
    conf, port = config(tmp, logs, api, token, Merge_Log="On",
                        **{"K8S-Logging.Parser": "On", "K8S-Logging.Exclude": "On",
                           "Owner_References": "On", "Namespace_Labels": "On",
                           "Kube_Meta_Cache_TTL": "0"})
    out = os.path.join(tmp, "out")
    web = os.path.join(logs, "web-7d4f9c-x2k8p_shop_nginx-%s.log" % ID_WEB)
    dock = os.path.join(logs, "api-0_prod_app-%s.log" % ID_API)
    quiet = os.path.join(logs, "quiet-0_prod_app-%s.log" % ID_QUIET)
    append(web, [cri("GET /first 200")])
    d = e2e.Daemon(conf, os.path.join(tmp, "sluice.log"))
    try:
        e2e.wait_port(port, d.p)
        # the very first record of a pod: asked for, not waited for
        e2e.wait_for(lambda: records(out), 30, what="first record")
        first = records(out)[0]
        c.equal({k: first.get("kubernetes", {}).get(k) for k in
                 ("pod_name", "namespace_name", "container_name", "docker_id")},
                {"pod_name": "web-7d4f9c-x2k8p", "namespace_name": "shop",
                 "container_name": "nginx", "docker_id": ID_WEB},
                "a record before the answer has the file name's metadata")
        warm_up(web, cri, out, "web-7d4f9c-x2k8p", "web's labels")
        append(dock, [docker("hello")])
        warm_up(dock, docker, out, "api-0", "api's labels")
        # fluentbit.io/exclude: once quiet-0's metadata is known, its
        # records are dropped (and counted by the engine as filter drops)
        def excluded():
            append(quiet, [cri("never seen")])
            return (e2e.metric_sum(port, "sluice_filter_drop_records_total") or 0) >= 1
        e2e.wait_for(excluded, 30, interval=0.3, what="excluded pod's records dropped")
        append(quiet, [cri("after exclusion")] * 5)
        n_before = len(records(out))
        append(web, [cri("POST /buy 201"), cri("not a request line"),
                     cri("GET /x 404", "stderr")])
        append(dock, [docker(json.dumps({"level": "info", "msg": "merged", "n": 3})),
                      docker("plain text")])
        for i in range(50):  # many records, one API request per pod
            append(dock, [docker("line %d" % i)])
        e2e.wait_for(lambda: len(records(out)) >= n_before + 55, 30, what="all records")
        got = records(out)[n_before:]
        byline = {(r.get("kubernetes", {}).get("pod_name"), r.get("log")): r for r in got}

        r = byline.get(("web-7d4f9c-x2k8p", "POST /buy 201"))
        c.check(r is not None, "web record out: %r" % got[:3])
        if r:
            k = r["kubernetes"]
            c.equal(list(k.keys()),
                    ["pod_name", "namespace_name", "pod_id", "labels", "annotations",
                     "ownerReferences", "host", "pod_ip", "container_name", "docker_id",
                     "container_hash", "container_image"], "Fluent Bit's field order")
            c.equal(k["labels"], {"app": "web", "tier": "front"}, "labels")
            c.equal(k["annotations"]["team"], "shop", "annotations")
            c.equal(k["pod_id"], "uid-web", "pod_id")
            c.equal(k["host"], "node-1", "host")
            c.equal(k["pod_ip"], "10.0.0.7", "pod_ip")
            c.equal(k["container_image"], "registry.example/nginx:1.2", "container_image")
            c.equal(k["container_hash"], "registry.example/nginx@sha256:" + "ab" * 32,
                    "container_hash (Fluent Bit's cut of imageID)")
            c.equal(k["ownerReferences"][0]["name"], "web-7d4f9c", "ownerReferences")
            # fluentbit.io/parser-nginx: the kv parser, merged (Merge_Log)
            c.equal((r.get("method"), r.get("path"), r.get("code")), ("POST", "/buy", "201"),
                    "annotation parser merged the fields")
            c.equal(r.get("kubernetes_namespace"),
                    {"name": "shop", "labels": {"env": "prod"}}, "namespace labels")
        r = byline.get(("web-7d4f9c-x2k8p", "not a request line"))
        c.check(r is not None and "method" not in r,
                "a line the parser does not match is kept as it is: %r" % (r,))
        r = byline.get(("api-0", None))
        merged = [x for x in got if x.get("msg") == "merged"]
        c.equal(len(merged), 1, "Merge_Log merged the docker line's JSON")
        if merged:
            c.equal((merged[0].get("level"), merged[0].get("n")), ("info", 3), "merged fields")
            c.equal(merged[0]["kubernetes"]["labels"], {"app": "api"}, "docker pod's labels")
            c.check("log" in merged[0], "Keep_Log (default on) keeps log")
        c.check(("api-0", "plain text\n") in byline, "a non-JSON log is kept unmerged")
        c.equal([x for x in records(out) if x.get("kubernetes", {}).get("pod_name") == "quiet-0"
                 and "labels" in x["kubernetes"]], [],
                "an excluded pod's records never go out with its metadata")
        for p in ("/api/v1/namespaces/shop/pods/web-7d4f9c-x2k8p",
                  "/api/v1/namespaces/prod/pods/api-0"):
            c.equal(len(api.requests(p)), 1, "asked once for %s" % p)
        c.equal(len(api.requests("/api/v1/namespaces/shop")), 1, "asked once for namespace")
        hits = e2e.metric_value(port, "sluice_kubernetes_cache_hits_total")
        c.check(hits is not None and hits >= 50, "cache hits counted: %r" % hits)
        pending = e2e.metric_value(port, "sluice_kubernetes_records_without_metadata_total",
                                   {"reason": "pending"})
        c.check(pending is not None and pending >= 1, "records before the answer counted")
        ok = e2e.metric_value(port, "sluice_kubernetes_requests_total", {"code": "200"})
        c.check(ok is not None and ok >= 3, "requests counted by code: %r" % ok)

        # the token rotates: the server takes only the new one, the file changes
        with api.lock:
            api.tokens = {"token-2"}
        e2e.write(token + ".new", "token-2\n")
        os.replace(token + ".new", token)
        new = os.path.join(logs, "new-0_prod_app-%s.log" % ID_NEW)
        api.add_pod(fk.pod("prod", "new-0", "uid-new", labels={"app": "new"},
                           containers=[("app", ID_NEW)]))
        append(new, [cri("after rotation")])
        warm_up(new, cri, out, "new-0", "labels with the rotated token")
        c.check(("/api/v1/namespaces/prod/pods/new-0", "token-2") in api.auth_seen,
                "the rotated token was sent")
    except TimeoutError as e:
        c.check(False, str(e))
    finally:
        rc = d.stop()
        api.stop()
    c.equal(rc, 0, "clean exit: %s" % d.output()[-800:])
    # after the stop every record is out: none written after the exclusion
    c.equal([x for x in records(out) if x.get("log") == "after exclusion"], [],
            "fluentbit.io/exclude: no record of the excluded pod once it is known")
    check_rbac(api, "metadata")


def check_api_trouble(tmp):
    """404, 500, 401, slow and down: records flow with the tag's metadata
    and are counted by reason."""
    logs = os.path.join(tmp, "var", "log", "containers")
    os.makedirs(logs)
    api = fk.FakeKubeApi(tmp, tokens=("good",)).start()
    token = e2e.write(os.path.join(tmp, "token"), "good")
    api.add_pod(fk.pod("shop", "err-0", "uid", labels={"a": "b"}, containers=[("c", ID_WEB)]))
    api.add_pod(fk.pod("shop", "slow-0", "uid-s", labels={"slow": "yes"},
                       containers=[("c", ID_NGINX)]))
    with api.lock:
        api.fail["/api/v1/namespaces/shop/pods/err-0"] = 500
        api.slow["/api/v1/namespaces/shop/pods/slow-0"] = 4
    conf, port = config(tmp, logs, api, token)
    out = os.path.join(tmp, "out")
    append(os.path.join(logs, "ghost-0_shop_c-%s.log" % ID_GHOST), [cri("ghost %d" % i) for i in range(3)])
    append(os.path.join(logs, "err-0_shop_c-%s.log" % ID_WEB), [cri("err %d" % i) for i in range(3)])
    slow = os.path.join(logs, "slow-0_shop_c-%s.log" % ID_NGINX)
    append(slow, [cri("slow %d" % i) for i in range(3)])
    d = e2e.Daemon(conf, os.path.join(tmp, "sluice.log"))
    try:
        e2e.wait_port(port, d.p)
        e2e.wait_for(lambda: len(records(out)) >= 9, 30, what="9 records")
        pods = sorted(r["kubernetes"]["pod_name"] for r in records(out)[:9])
        c.equal(pods, ["err-0"] * 3 + ["ghost-0"] * 3 + ["slow-0"] * 3,
                "records of unknown, failing and slow pods are delivered")
        c.check(all("labels" not in r["kubernetes"] for r in records(out)[:9]
                    if r["kubernetes"]["pod_name"] != "slow-0"),
                "no labels without an answer")

        def counted(reason):
            return (e2e.metric_value(port, "sluice_kubernetes_records_without_metadata_total",
                                     {"reason": reason}) or 0) >= 1

        def failures_counted():
            # the slow pod's request may hold the others back: keep writing
            append(os.path.join(logs, "ghost-0_shop_c-%s.log" % ID_GHOST), [cri("again")])
            append(os.path.join(logs, "err-0_shop_c-%s.log" % ID_WEB), [cri("again")])
            return counted("not_found") and counted("api_error")
        e2e.wait_for(failures_counted, 30, interval=0.3,
                     what="not_found and api_error counted")
        c.check((e2e.metric_value(port, "sluice_kubernetes_requests_total",
                                  {"code": "500"}) or 0) >= 1, "500 counted")
        # the slow pod's labels arrive in the end
        warm_up(slow, cri, out, "slow-0", "slow pod's labels")
        # a bad token: 401, counted, records still delivered
        with api.lock:
            api.tokens = {"other"}
        bad = os.path.join(logs, "bad-0_shop_c-%s.log" % ID_NEW)
        api.add_pod(fk.pod("shop", "bad-0", "uid-b", labels={"x": "y"}, containers=[("c", ID_NEW)]))
        n = len(records(out))
        append(bad, [cri("unauthorised")])
        e2e.wait_for(lambda: len(records(out)) > n, 30, what="record with a 401")

        def unauthorised():
            append(bad, [cri("more")])
            return counted("unauthorized")
        e2e.wait_for(unauthorised, 30, interval=0.3, what="401 counted")
    except TimeoutError as e:
        c.check(False, str(e))
    finally:
        rc = d.stop()
        api.stop()
    c.equal(rc, 0, "clean exit: %s" % d.output()[-800:])
    c.check("its records keep the metadata of their file name" in d.output(),
            "a failing API is logged: %s" % d.output()[-800:])
    check_rbac(api, "trouble")

    # the API is down (nothing listens): records delivered, counted
    logs2 = os.path.join(tmp, "down", "var", "log", "containers")
    os.makedirs(logs2)
    port_down = e2e.free_port()
    down = type("Down", (), {"url": "https://127.0.0.1:%d" % port_down, "ca": api.ca})
    conf, port = config(os.path.join(tmp, "down"), logs2, down, token)
    out = os.path.join(tmp, "down", "out")
    f = os.path.join(logs2, "web-0_shop_c-%s.log" % ID_WEB)
    append(f, [cri("down %d" % i) for i in range(5)])
    d = e2e.Daemon(conf, os.path.join(tmp, "down.log"))
    try:
        e2e.wait_port(port, d.p)
        e2e.wait_for(lambda: len(records(out)) >= 5, 30, what="records with the API down")
        c.equal([r["kubernetes"]["pod_name"] for r in records(out)], ["web-0"] * 5,
                "API down: records delivered with the file name's metadata")

        def unreachable():
            append(f, [cri("more")])
            return (e2e.metric_value(port, "sluice_kubernetes_records_without_metadata_total",
                                     {"reason": "unreachable"}) or 0) >= 1
        e2e.wait_for(unreachable, 30, interval=0.3, what="unreachable counted")
        c.check((e2e.metric_value(port, "sluice_kubernetes_requests_total",
                                  {"code": "error"}) or 0) >= 1, "failed request counted")
    except TimeoutError as e:
        c.check(False, str(e))
    finally:
        rc = d.stop()
    c.equal(rc, 0, "clean exit with the API down: %s" % d.output()[-800:])


def check_node_watch(tmp):
    """NODE_NAME set: the node's pods are listed at start and watched from
    then on, so a pod that starts later is cached before its first line:
    its very first record has its labels, without a request of its own."""
    logs = os.path.join(tmp, "var", "log", "containers")
    os.makedirs(logs)
    api = fk.FakeKubeApi(tmp, tokens=("t",)).start()
    token = e2e.write(os.path.join(tmp, "token"), "t")
    api.add_pod(fk.pod("shop", "web-0", "uid-w", labels={"app": "web"}, node="node-7",
                       containers=[("c", ID_WEB)]))
    api.add_pod(fk.pod("shop", "elsewhere-0", "uid-e", labels={"app": "x"}, node="node-8",
                       containers=[("c", ID_API)]))
    for i in range(60):  # the node's list is far over Buffer_Size (32K)
        api.add_pod(fk.pod("busy", "filler-%d" % i, "uid-%d" % i, node="node-7",
                           annotations={"note": "x" * 1000}, containers=[("c", ID_API)]))
    conf, port = config(tmp, logs, api, token)
    out = os.path.join(tmp, "out")
    f = os.path.join(logs, "web-0_shop_c-%s.log" % ID_WEB)
    os.environ["NODE_NAME"] = "node-7"
    d = e2e.Daemon(conf, os.path.join(tmp, "sluice.log"))
    del os.environ["NODE_NAME"]
    try:
        e2e.wait_port(port, d.p)
        e2e.wait_for(lambda: api.requests("/api/v1/pods", watch=True), 30,
                     what="the node's pods listed, then watched")
        warm_up(f, cri, out, "web-0", "labels from the node list")
        c.equal(api.requests("/api/v1/namespaces/shop/pods/web-0"), [],
                "a listed pod is not asked for again")
        c.equal([l.split("?", 1)[1] for l in api.requests("/api/v1/pods")],
                ["fieldSelector=spec.nodeName%3Dnode-7"], "one list, this node's pods")
        c.check(all("resourceVersion=" in l and "spec.nodeName%3Dnode-7" in l
                    for l in api.requests("/api/v1/pods", watch=True)),
                "the watch starts at the list's resourceVersion, on this node")
        # a pod scheduled later: the watch brings it before its first line
        api.add_pod(fk.pod("shop", "late-0", "uid-l", labels={"app": "late"}, node="node-7",
                           containers=[("c", ID_NEW)]))

        def seen():
            append(f, [cri("tick")])  # the engine applies answers per record
            return (e2e.metric_value(port, "sluice_kubernetes_watch_events_total") or 0) >= 1
        e2e.wait_for(seen, 30, interval=0.3, what="the watch event applied")
        late = os.path.join(logs, "late-0_shop_c-%s.log" % ID_NEW)
        append(late, [cri("my first line")])
        e2e.wait_for(lambda: [r for r in records(out) if r.get("log") == "my first line"], 30,
                     what="the late pod's first record")
        first = [r for r in records(out) if r.get("log") == "my first line"][0]
        c.equal(first["kubernetes"].get("labels"), {"app": "late"},
                "a pod started later: its first record has its labels")
        c.equal(api.requests("/api/v1/namespaces/shop/pods/late-0"), [],
                "the watched pod needed no request of its own")
    except TimeoutError as e:
        c.check(False, str(e))
    finally:
        rc = d.stop()
        api.stop()
    c.equal(rc, 0, "clean exit: %s" % d.output()[-800:])
    check_rbac(api, "node watch")


def check_kubelet(tmp):
    """Use_Kubelet: the kubelet's /pods once for the whole node at start,
    again when a pod it did not list shows up; never the API server. The
    CA comes from Kube_CA_Path."""
    logs = os.path.join(tmp, "var", "log", "containers")
    os.makedirs(logs)
    api = fk.FakeKubeApi(tmp, tokens=("t",)).start()
    token = e2e.write(os.path.join(tmp, "token"), "t")
    api.add_pod(fk.pod("shop", "web-0", "uid-w", labels={"app": "web"},
                       containers=[("c", ID_WEB)]))
    # Kube_CA_Path: a hashed CA directory, the default CA file absent
    cadir = os.path.join(tmp, "cas")
    os.makedirs(cadir)
    shutil.copy(api.ca, os.path.join(cadir, "test-ca.pem"))
    subprocess.run(["openssl", "rehash", cadir], check=True, capture_output=True)
    api.ca = "/nonexistent/ca.crt"
    conf, port = config(tmp, logs, api, token, Use_Kubelet="On", Kubelet_Host="127.0.0.1",
                        Kubelet_Port=api.port, Kube_CA_Path=cadir)
    out = os.path.join(tmp, "out")
    d = e2e.Daemon(conf, os.path.join(tmp, "sluice.log"))
    try:
        e2e.wait_port(port, d.p)
        e2e.wait_for(lambda: api.requests("/pods"), 30, what="the kubelet's /pods")
        web = os.path.join(logs, "web-0_shop_c-%s.log" % ID_WEB)
        warm_up(web, cri, out, "web-0", "labels from the kubelet")
        n = len(api.requests("/pods"))
        api.add_pod(fk.pod("shop", "late-0", "uid-l", labels={"app": "late"},
                           containers=[("c", ID_NEW)]))
        late = os.path.join(logs, "late-0_shop_c-%s.log" % ID_NEW)
        warm_up(late, cri, out, "late-0", "a pod started later")
        c.check(len(api.requests("/pods")) > n, "a new pod: /pods asked again")
        c.equal([l for l in api.requests() if l.startswith("GET /api/")], [],
                "Use_Kubelet never asks the API server")
    except TimeoutError as e:
        c.check(False, str(e))
    finally:
        rc = d.stop()
        api.stop()
    c.equal(rc, 0, "clean exit: %s" % d.output()[-800:])
    check_rbac(api, "kubelet")


def check_ttl(tmp):
    """Kube_Meta_Cache_TTL: a pod is asked for again once its entry is
    older than the TTL, and records get the new labels; meanwhile the old
    ones are served (no record waits for the refresh). tls.debug logs the
    connection, not the token."""
    logs = os.path.join(tmp, "var", "log", "containers")
    os.makedirs(logs)
    api = fk.FakeKubeApi(tmp, tokens=("secret-ttl-token",)).start()
    token = e2e.write(os.path.join(tmp, "token"), "secret-ttl-token")
    api.add_pod(fk.pod("shop", "web-0", "uid-w", labels={"v": "1"}, containers=[("c", ID_WEB)]))
    api.add_namespace(fk.namespace("shop", labels={"env": "x"}, annotations={"a": "b"}))
    conf, port = config(tmp, logs, api, token, Kube_Meta_Cache_TTL="1s",
                        Namespace_Annotations="On", **{"tls.debug": "1"})
    out = os.path.join(tmp, "out")
    web = os.path.join(logs, "web-0_shop_c-%s.log" % ID_WEB)
    d = e2e.Daemon(conf, os.path.join(tmp, "sluice.log"))
    try:
        e2e.wait_port(port, d.p)
        warm_up(web, cri, out, "web-0", "first labels")
        api.add_pod(fk.pod("shop", "web-0", "uid-w", labels={"v": "2"},
                           containers=[("c", ID_WEB)]))

        def relabelled():
            append(web, [cri("after")])
            return [r for r in records(out) if r["kubernetes"].get("labels") == {"v": "2"}]
        e2e.wait_for(relabelled, 30, interval=0.3, what="labels refreshed after the TTL")
        c.check(len(api.requests("/api/v1/namespaces/shop/pods/web-0")) >= 2,
                "asked again after the TTL")
        ns = [r.get("kubernetes_namespace") for r in relabelled()]
        c.equal(ns[-1], {"name": "shop", "annotations": {"a": "b"}},
                "Namespace_Annotations without Namespace_Labels")
    except TimeoutError as e:
        c.check(False, str(e))
    finally:
        rc = d.stop()
        api.stop()
    c.equal(rc, 0, "clean exit: %s" % d.output()[-800:])
    c.check("tls.debug: " in d.output(), "tls.debug logs the connection")
    c.check("secret-ttl-token" not in d.output(), "tls.debug never logs the token")
    check_rbac(api, "ttl")


def check_fluent_bit_kube_conf(tmp):
    """Fluent Bit's conf/kube.conf, with Kube_URL and the token and CA
    files pointed at the fake server: passes --dry-run and runs as is."""
    logs = os.path.join(tmp, "var", "log", "containers")
    os.makedirs(logs)
    api = fk.FakeKubeApi(tmp, tokens=("t",)).start()
    token = e2e.write(os.path.join(tmp, "token"), "t")
    api.add_pod(fk.pod("shop", "web-0", "uid-w", labels={"app": "web"},
                       containers=[("c", ID_API)]))
    out = os.path.join(tmp, "out")
    port = e2e.free_port()
    parsers = e2e.parsers_file(os.path.join(tmp, "parsers.conf"), [
        {"Name": "docker", "Format": "json", "Time_Key": "time",
         "Time_Format": "%Y-%m-%dT%H:%M:%S.%L", "Time_Keep": "On"}])
    conf = e2e.write(os.path.join(tmp, "kube.conf"), """[SERVICE]
    Flush        1
    Daemon       Off
    Log_Level    info
    Parsers_File %s
    HTTP_Server  On
    HTTP_Listen  127.0.0.1
    HTTP_Port    %d

[INPUT]
    Name          tail
    Path          %s/*.log
    Parser        docker
    Tag           kube.*
    Mem_Buf_Limit 5MB

[FILTER]
    Name            kubernetes
    Match           kube.*
    Kube_URL        %s
    Kube_CA_File    %s
    Kube_Token_File %s
    Kube_Tag_Prefix %s

[OUTPUT]
    Name   file
    Match  *
    Path   %s
    File   got.log
    Format plain
    Mkdir  On
""" % (parsers, port, logs, api.url, api.ca, token, tag_prefix(logs), out))
    r = e2e.run_to_exit(["--dry-run", "-c", conf], timeout=60)
    c.equal(r.rc, 0, "kube.conf passes --dry-run: %s" % r.log()[-500:])
    # Fluent Bit's own files, as they are
    for name in ("kube.conf", "kube_elasticsearch.conf"):
        path = os.path.join(e2e.source_root(), "tests", "conformance", "fluent-bit", "conf", name)
        r = e2e.run_to_exit(["--dry-run", "-c", path], timeout=60)
        c.check(r.rc == 0 and "configuration test is successful" in r.out.decode(),
                "Fluent Bit's conf/%s passes --dry-run: %s" % (name, r.log()[-500:]))
    f = os.path.join(logs, "web-0_shop_c-%s.log" % ID_API)
    open(f, "w").close()  # tail without Read_from_Head: new lines only
    d = e2e.Daemon(conf, os.path.join(tmp, "sluice.log"))
    try:
        e2e.wait_port(port, d.p)
        append(f, [docker("first")])
        warm_up(f, docker, out, "web-0", "kube.conf records with labels")
    except TimeoutError as e:
        c.check(False, str(e))
    finally:
        rc = d.stop()
        api.stop()
    c.equal(rc, 0, "clean exit: %s" % d.output()[-800:])
    check_rbac(api, "kube.conf")


def check_refused(tmp):
    """Options sluice does not implement are refused, each by name."""
    for opt, val in (("Use_Journal", "On"), ("Kube_Token_Command", "cat /t"),
                     ("Regex_Parser", "x"), ("Kube_Meta_Preload_Cache_Dir", "/x"),
                     ("tls.vhost", "k"), ("aws_use_pod_association", "On")):
        conf = e2e.write(os.path.join(tmp, "refused.conf"),
                         e2e.section("INPUT", Name="dummy", Tag="kube.x") +
                         e2e.section("FILTER", Name="kubernetes", Match="*", **{opt: val}) +
                         e2e.section("OUTPUT", Name="null", Match="*"))
        r = e2e.run_to_exit(["--dry-run", "-c", conf], timeout=60)
        c.check(r.rc != 0 and opt.lower() in r.log().lower() and "refused.conf" in r.log(),
                "%s is refused with its name and the file: rc=%r %s" % (opt, r.rc, r.log()[-300:]))


ONLY = os.environ.get("K8S_ONLY")
for name, fn in (("metadata", check_metadata), ("trouble", check_api_trouble),
                 ("watch", check_node_watch), ("kubelet", check_kubelet),
                 ("ttl", check_ttl), ("kube_conf", check_fluent_bit_kube_conf),
                 ("refused", check_refused)):
    if ONLY and name != ONLY:
        continue
    with e2e.TempDir("sluice-k8s-%s-" % name) as tmp:
        fn(tmp)
c.finish()
