# SPDX-License-Identifier: Apache-2.0
"""tail on a Kubernetes node's log folder: a fake /var/log/containers tree
with containerd (cri) and docker (json-file) logs whose long lines were
split into partial lines. multiline.parser "docker, cri" joins them back,
Kube_Meta_From_Path names the pod, namespace, container and container id,
a [MULTILINE_PARSER] group whose continuation never comes goes out
after its flush_timeout, and the built-in java joins a stack trace."""
import json
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sluice_e2e as e2e  # noqa: E402

c = e2e.Checker()

ID_CRI = "a" * 60 + "0001"
ID_DOCKER = "0123456789abcdef" * 4


def write_lines(path, lines):
    with open(path, "a") as f:
        for l in lines:
            f.write(l + "\n")


def docker(log, stream, t):
    return json.dumps({"log": log, "stream": stream, "time": t})


def k8s(ns, pod, container, cid):
    return {"namespace_name": ns, "pod_name": pod, "container_name": container,
            "docker_id": cid}


def check_cri_and_docker(tmp):
    logs = os.path.join(tmp, "var", "log", "containers")
    os.makedirs(logs)
    cri = os.path.join(logs, "web-7d4f9c-x2k8p_shop_nginx-%s.log" % ID_CRI)
    write_lines(cri, [
        "2024-01-01T00:00:00.000000001Z stdout P hello, ",
        "2024-01-01T00:00:00.000000002Z stdout P wide ",
        "2024-01-01T00:00:00.000000003Z stdout F world",
        "2024-01-01T00:00:01Z stderr F one line",
        "2024-01-01T00:00:02Z stdout P cut at the end of the file",
    ])
    dock = os.path.join(logs, "api-0_prod_app-%s.log" % ID_DOCKER)
    write_lines(dock, [
        docker("part one, ", "stdout", "2024-01-01T00:00:00.5Z"),
        docker("part two, ", "stdout", "2024-01-01T00:00:00.6Z"),
        docker("part three\n", "stdout", "2024-01-01T00:00:00.7Z"),
        docker("alone\n", "stderr", "2024-01-01T00:00:01Z"),
    ])
    other = os.path.join(logs, "not-a-kubelet-name.log")
    write_lines(other, ["2024-01-01T00:00:03Z stdout F plain"])
    out = os.path.join(tmp, "out")
    conf = e2e.write(os.path.join(tmp, "k8s.conf"),
                     e2e.section("SERVICE", Flush="0.2", Grace="5", Log_Level="warn") +
                     e2e.section("INPUT", Name="tail", Path=os.path.join(logs, "*.log"),
                                 Tag="kube.*", Read_from_Head="On", Exit_On_Eof="On",
                                 Kube_Meta_From_Path="On",
                                 **{"multiline.parser": "docker, cri"}) +
                     e2e.section("OUTPUT", Name="file", Match="kube.*", Path=out,
                                 File="got.log", Format="plain", Mkdir="On"))
    r = e2e.run_to_exit(["-c", conf], timeout=60)
    c.equal(r.rc, 0, "Exit_On_Eof run exits 0: %s" % r.log()[-500:])
    got = e2e.read_plain(os.path.join(out, "got.log"))
    meta_cri = k8s("shop", "web-7d4f9c-x2k8p", "nginx", ID_CRI)
    meta_docker = k8s("prod", "api-0", "app", ID_DOCKER)
    want = [
        {"time": "2024-01-01T00:00:00.000000001Z", "stream": "stdout",
         "log": "hello, wide world", "kubernetes": meta_cri},
        {"time": "2024-01-01T00:00:01Z", "stream": "stderr", "log": "one line",
         "kubernetes": meta_cri},
        # the last partial has no F: emitted whole at the end of the file
        {"time": "2024-01-01T00:00:02Z", "stream": "stdout",
         "log": "cut at the end of the file", "kubernetes": meta_cri},
        {"log": "part one, part two, part three\n", "stream": "stdout",
         "time": "2024-01-01T00:00:00.5Z", "kubernetes": meta_docker},
        {"log": "alone\n", "stream": "stderr", "time": "2024-01-01T00:00:01Z",
         "kubernetes": meta_docker},
        # a name the kubelet did not make: joined, but no kubernetes object
        {"time": "2024-01-01T00:00:03Z", "stream": "stdout", "log": "plain"},
    ]

    def key(rec):
        return json.dumps(rec, sort_keys=True)
    c.equal(sorted(map(key, got)), sorted(map(key, want)),
            "joined messages with their kubernetes fields")
    # per file, records keep the order of the file
    c.equal([g["log"] for g in got if g.get("kubernetes") == meta_cri],
            ["hello, wide world", "one line", "cut at the end of the file"],
            "cri records in file order")


def check_flush_timeout(tmp):
    logs = os.path.join(tmp, "logs")
    os.makedirs(logs)
    app = os.path.join(logs, "app.log")
    open(app, "w").close()
    parsers = e2e.write(os.path.join(tmp, "ml.conf"),
                        "[MULTILINE_PARSER]\n"
                        "    name          stack\n"
                        "    type          regex\n"
                        "    flush_timeout 300\n"
                        "    rule \"start_state\" \"/^[A-Z][a-z]{2} \\d+ /\" \"cont\"\n"
                        "    rule \"cont\"        \"/^\\s+at /\"          \"cont\"\n")
    out = os.path.join(tmp, "out")
    got_path = os.path.join(out, "got.log")
    conf = e2e.write(os.path.join(tmp, "ft.conf"),
                     e2e.section("SERVICE", Flush="0.2", Grace="5", Log_Level="warn",
                                 Parsers_File=parsers) +
                     e2e.section("INPUT", Name="tail", Path=os.path.join(logs, "*.log"),
                                 Tag="app", Read_from_Head="On", Refresh_Interval="1",
                                 **{"multiline.parser": "stack"}) +
                     e2e.section("OUTPUT", Name="file", Match="app", Path=out,
                                 File="got.log", Format="plain", Mkdir="On"))
    p = subprocess.Popen([e2e.binary(), "-c", conf], stderr=subprocess.PIPE)
    try:
        write_lines(app, ["Dec 14 boom", "    at a()", "    at b()"])
        # no next start line ever comes: only flush_timeout emits the group
        e2e.wait_for(lambda: e2e.count_lines(got_path) >= 1, 20, what="flushed group")
        write_lines(app, ["Dec 15 next", "    at c()", "Dec 16 last"])
        e2e.wait_for(lambda: e2e.count_lines(got_path) >= 3, 20, what="three groups")
    except TimeoutError as e:
        c.check(False, str(e))
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = p.wait()
        err = p.stderr.read().decode("utf-8", "replace")
    c.equal(rc, 0, "clean exit: %s" % err[-300:])
    logs_got = [r.get("log") for r in e2e.read_plain(got_path)] if os.path.exists(got_path) else []
    c.equal(logs_got, ["Dec 14 boom\n    at a()\n    at b()", "Dec 15 next\n    at c()",
                       "Dec 16 last"], "regex groups, the first one by flush_timeout")


def check_java_builtin(tmp):
    logs = os.path.join(tmp, "logs")
    os.makedirs(logs)
    write_lines(os.path.join(logs, "app.log"), [
        "INFO starting",
        "Exception in thread \"main\" java.lang.IllegalStateException: bad",
        "\tat com.x.Y.z(Y.java:10)",
        "Caused by: java.io.IOException: disk",
        "\t... 1 more",
        "INFO stopped",
    ])
    out = os.path.join(tmp, "out")
    conf = e2e.write(os.path.join(tmp, "java.conf"),
                     e2e.section("SERVICE", Flush="0.2", Grace="5", Log_Level="warn") +
                     e2e.section("INPUT", Name="tail", Path=os.path.join(logs, "*.log"),
                                 Tag="app", Read_from_Head="On", Exit_On_Eof="On",
                                 **{"multiline.parser": "java"}) +
                     e2e.section("OUTPUT", Name="file", Match="app", Path=out,
                                 File="got.log", Format="plain", Mkdir="On"))
    r = e2e.run_to_exit(["-c", conf], timeout=60)
    c.equal(r.rc, 0, "Exit_On_Eof run exits 0: %s" % r.log()[-500:])
    c.check("multiline" not in r.log(), "java is known: %s" % r.log()[-500:])
    got = [g.get("log") for g in e2e.read_plain(os.path.join(out, "got.log"))]
    c.equal(got, ["INFO starting",
                  "Exception in thread \"main\" java.lang.IllegalStateException: bad\n"
                  "\tat com.x.Y.z(Y.java:10)\n"
                  "Caused by: java.io.IOException: disk\n\t... 1 more",
                  "INFO stopped"], "built-in java joins the stack trace")


def main():
    e2e.require_plugins("tail", "file")
    with e2e.TempDir("sluice-k8s-") as tmp:
        check_cri_and_docker(tmp)
    with e2e.TempDir("sluice-mlft-") as tmp:
        check_flush_timeout(tmp)
    with e2e.TempDir("sluice-java-") as tmp:
        check_java_builtin(tmp)
    c.finish()


if __name__ == "__main__":
    main()
