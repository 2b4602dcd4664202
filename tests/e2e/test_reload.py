# SPDX-License-Identifier: Apache-2.0
"""SIGHUP reloads the configuration (SPEC §2): a valid new configuration
replaces the running pipeline, which hands it the records it still holds;
a broken one is rejected with its errors logged as FILE:LINE and the
running pipeline goes on.

The hand-over: records buffered behind a dead output when the reload comes
are delivered exactly once by the new pipeline once the output is back;
what the new configuration routes nowhere is counted as dropped (reason
reload); the internal counters go on from where they were."""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sluice_e2e as e2e  # noqa: E402
import http_receiver  # noqa: E402

c = e2e.Checker()


def pipeline(out, name, value):
    return (e2e.section("SERVICE", Flush="0.1", Grace="3", Log_Level="info") +
            e2e.section("INPUT", Name="dummy", Tag="reload", Rate="50",
                        Dummy='{"v":"%s"}' % value) +
            e2e.section("OUTPUT", Name="file", Match="*", Path=out, File=name,
                        Format="plain", Mkdir="On"))


def post(port, records):
    body = json.dumps(records).encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", "/ev", body=body, headers={"Content-Type": "application/json"})
        return conn.getresponse().status
    except OSError:
        return None
    finally:
        conn.close()


def listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def metric(api, family, **labels):
    try:
        conn = http.client.HTTPConnection("127.0.0.1", api, timeout=5)
        conn.request("GET", "/api/v1/metrics/prometheus")
        text = conn.getresponse().read().decode()
        conn.close()
    except OSError:
        return None
    return http_receiver.prometheus_value(text, family, labels)


def delivered_ids(rcv):
    """ids of records in the requests the receiver answered 200, in order"""
    ids = []
    for req in rcv.snapshot():
        if req.status == 200:
            ids += [json.loads(ln)["id"] for ln in req.body.splitlines() if ln.strip()]
    return ids


def handover_pipeline(in_port, api_port, out_port, match="*"):
    return (e2e.section("SERVICE", Flush="0.2", Grace="2", Log_Level="info",
                        HTTP_Server="On", HTTP_Listen="127.0.0.1", HTTP_Port=api_port,
                        **{"scheduler.base": "0.2", "scheduler.cap": "0.5"}) +
            e2e.section("INPUT", Name="http", Listen="127.0.0.1", Port=in_port) +
            e2e.section("OUTPUT", Name="http", Match=match, Host="127.0.0.1",
                        Port=out_port, Uri="/in", Format="json_lines"))


def handover(tmp):
    """Records buffered behind a dead output survive a reload, once each."""
    in_port, api = http_receiver.free_port(), http_receiver.free_port()
    with http_receiver.Receiver(default={"status": 503}) as rcv:
        conf = os.path.join(tmp, "handover.conf")
        e2e.write(conf, handover_pipeline(in_port, api, rcv.port))
        log_path = os.path.join(tmp, "handover.log")
        with open(log_path, "wb") as log:
            p = subprocess.Popen([e2e.binary(), "-c", conf], stderr=log)

        def logged(text):
            with open(log_path, "rb") as f:
                return f.read().count(text.encode())
        try:
            e2e.wait_for(lambda: listening(in_port) and listening(api), 20, what="sluice up")
            for i in range(0, 50, 10):
                c.equal(post(in_port, [{"id": j} for j in range(i, i + 10)]), 201,
                        "in_http accepts records %d.." % i)
            # the output is down: every record is held, retried
            rcv.wait_for(lambda rs: len(rs) >= 2, 20, what="retried requests")
            e2e.wait_for(lambda: (metric(api, "sluice_output_errors_total",
                                        name="http.0") or 0) >= 1, 10, what="errors counted")
            c.equal(metric(api, "sluice_input_records_total", name="http.0"), 50.0,
                    "50 records in before the reload")

            p.send_signal(signal.SIGHUP)
            e2e.wait_for(lambda: logged("configuration reloaded") >= 1, 20, what="reload")
            e2e.wait_for(lambda: listening(in_port) and listening(api), 20,
                         what="the new pipeline listens")
            c.check(logged("handed to the new pipeline") >= 1, "the reload logs the hand-over")
            for i in range(50, 100, 10):
                c.equal(post(in_port, [{"id": j} for j in range(i, i + 10)]), 201,
                        "the new pipeline accepts records %d.." % i)
            c.equal(metric(api, "sluice_input_records_total", name="http.0"), 100.0,
                    "sluice_input_records_total goes on across the reload (50 + 50)")
            c.equal(delivered_ids(rcv), [], "nothing delivered while the output is down")

            rcv.default = {"status": 200}
            rcv.wait_for(lambda rs: len(delivered_ids(rcv)) >= 100, 30,
                         what="every record delivered")
            time.sleep(0.5)  # a duplicate would come with the next retry round
            ids = delivered_ids(rcv)
            c.equal(sorted(ids), list(range(100)), "every record delivered exactly once")
            e2e.wait_for(lambda: metric(api, "sluice_output_proc_records_total",
                                        name="http.0") == 100.0, 10,
                         what="sluice_output_proc_records_total 100")

            # a reload whose output no longer takes the tag: counted, not lost
            rcv.default = {"status": 503}
            c.equal(post(in_port, [{"id": j} for j in range(100, 107)]), 201,
                    "7 records more")
            rcv.wait_for(lambda rs: sum(r.status == 503 for r in rs) >= 3, 20,
                         what="the 7 records retried")
            e2e.write(conf, handover_pipeline(in_port, api, rcv.port, match="elsewhere"))
            p.send_signal(signal.SIGHUP)
            e2e.wait_for(lambda: logged("configuration reloaded") >= 2, 20, what="reload 2")
            e2e.wait_for(lambda: listening(api), 20, what="api after reload 2")
            e2e.wait_for(lambda: metric(api, "sluice_output_dropped_records_total",
                                        name="http.0", reason="reload") == 7.0, 10,
                         what="7 records dropped (reason reload)")
            c.equal(metric(api, "sluice_input_records_total", name="http.0"), 107.0,
                    "input counter still continues after the second reload")
        finally:
            p.send_signal(signal.SIGTERM)
            try:
                rc = p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                rc = None
        c.equal(rc, 0, "clean exit after the hand-over reloads")


def tail_db(tmp):
    """tail with a DB: its undelivered chunks are not carried by a reload
    but read again from the committed offset: still exactly once."""
    api = http_receiver.free_port()
    path, db = os.path.join(tmp, "app.log"), os.path.join(tmp, "tail.db")
    with open(path, "w") as f:
        for i in range(300):
            f.write('{"id": %d}\n' % i)
    with http_receiver.Receiver(default={"status": 503}) as rcv:
        def conf_text():
            return (e2e.section("SERVICE", Flush="0.2", Grace="2", Log_Level="info",
                                HTTP_Server="On", HTTP_Listen="127.0.0.1", HTTP_Port=api,
                                Parsers_File=parsers,
                                **{"scheduler.base": "0.2", "scheduler.cap": "0.5"}) +
                    e2e.section("INPUT", Name="tail", Path=path, DB=db, Tag="app",
                                Read_from_Head="On") +
                    e2e.section("FILTER", Name="parser", Match="app", Key_Name="log",
                                Parser="json") +
                    e2e.section("OUTPUT", Name="http", Match="app", Host="127.0.0.1",
                                Port=rcv.port, Uri="/in", Format="json_lines"))
        parsers = e2e.parsers_file(os.path.join(tmp, "parsers.conf"),
                                   [{"Name": "json", "Format": "json"}])
        conf = e2e.write(os.path.join(tmp, "tail.conf"), conf_text())
        log_path = os.path.join(tmp, "tail.log")
        with open(log_path, "wb") as log:
            p = subprocess.Popen([e2e.binary(), "-c", conf], stderr=log)

        def logged(text):
            with open(log_path, "rb") as f:
                return f.read().count(text.encode())
        try:
            rcv.wait_for(lambda rs: len(rs) >= 2, 20, what="tail's records retried")
            p.send_signal(signal.SIGHUP)
            e2e.wait_for(lambda: logged("configuration reloaded") >= 1, 20, what="reload")
            with open(path, "a") as f:
                for i in range(300, 350):
                    f.write('{"id": %d}\n' % i)
            rcv.default = {"status": 200}
            rcv.wait_for(lambda rs: len(delivered_ids(rcv)) >= 350, 30,
                         what="every line delivered")
            time.sleep(0.5)
            ids = sorted(delivered_ids(rcv))
            c.check(ids == list(range(350)),
                    "tail with DB: every line delivered exactly once across the "
                    "reload (%d delivered, %d distinct)" % (len(ids), len(set(ids))))
        finally:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()


def main():
    with e2e.TempDir("sluice-reload-") as tmp:
        handover(tmp)
        tail_db(tmp)
        out = os.path.join(tmp, "out")
        conf = os.path.join(tmp, "reload.conf")
        a, b = os.path.join(out, "a.log"), os.path.join(out, "b.log")
        e2e.write(conf, pipeline(out, "a.log", "a"))
        log_path = os.path.join(tmp, "stderr.log")
        with open(log_path, "wb") as log:
            p = subprocess.Popen([e2e.binary(), "-c", conf], stderr=log)
        try:
            e2e.wait_for(lambda: e2e.count_lines(a) >= 5, 10, what="first pipeline")

            e2e.write(conf, pipeline(out, "b.log", "b"))
            p.send_signal(signal.SIGHUP)
            e2e.wait_for(lambda: e2e.count_lines(b) >= 5, 15, what="reloaded pipeline")
            settled = e2e.count_lines(a)
            e2e.wait_for(lambda: e2e.count_lines(b) >= 20, 15, what="more of b")
            c.equal(e2e.count_lines(a), settled, "the old pipeline stopped writing")
            c.check(all(r["v"] == "a" for r in e2e.read_plain(a)), "a.log holds old records")
            # the old pipeline's last records (buffered when the reload came)
            # may open b.log: handed over, not lost; then only new ones
            vs = "".join(r["v"] for r in e2e.read_plain(b))
            c.check(vs.lstrip("a") == "b" * len(vs.lstrip("a")) and "b" in vs,
                    "b.log holds handed-over old records, then new ones: %s" % vs[:80])

            # a broken configuration: rejected, the running pipeline goes on
            e2e.write(conf, pipeline(out, "c.log", "c") +
                      e2e.section("OUTPUT", Name="no_such_output", Match="*"))
            with open(conf) as f:
                # the error is at the Name line of the last [OUTPUT]
                bad_line = [i for i, ln in enumerate(f, 1) if "no_such_output" in ln][-1]
            p.send_signal(signal.SIGHUP)

            def rejected():
                with open(log_path, "rb") as f:
                    return b"reload rejected" in f.read()
            e2e.wait_for(rejected, 10, what="rejection logged")
            before = e2e.count_lines(b)
            e2e.wait_for(lambda: e2e.count_lines(b) > before + 10, 10,
                         what="b goes on after a rejected reload")
            c.check(not os.path.exists(os.path.join(out, "c.log")),
                    "nothing of the broken configuration ran")
        finally:
            p.send_signal(signal.SIGTERM)
            try:
                rc = p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                rc = None
        with open(log_path, "rb") as f:
            err = f.read().decode("utf-8", "replace")
        c.check("%s:%d: unknown output plugin 'no_such_output'" % (conf, bad_line) in err,
                "the rejected configuration's error names FILE:LINE: %s" % err[-600:])
        c.equal(rc, 0, "clean exit after reloads")
    c.finish()


if __name__ == "__main__":
    main()
