# SPDX-License-Identifier: Apache-2.0
"""Document identity across crashes: tail -> es with Generate_ID On and the
default memory storage, SIGKILLed five times while bulks are in flight and
restarted each time. tail re-reads what was not acknowledged (from the
offsets in its DB); each re-read line must get the _id it had, so the
re-send ends as a 409 and no document is stored twice; and nothing is lost.
The re-read lines that ES already held (409s) are printed per kill.

Second scenario: lines repeated byte for byte with the same parsed time
(second precision, as many logs have) are different records: all stored,
none taken for a re-send of another."""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import es_receiver  # noqa: E402
import sluice_e2e as e2e  # noqa: E402

RECORDS = int(os.environ.get("SLUICE_ES_IDENTITY_RECORDS", "200000"))
KILLS = 5
DEADLINE = 180


def conf(tmp, log, port, parser="json", **inp):
    parsers = e2e.parsers_file(
        os.path.join(tmp, "parsers.conf"),
        [{"Name": "json", "Format": "json"},
         {"Name": "json_time", "Format": "json", "Time_Key": "time",
          "Time_Format": "%Y-%m-%dT%H:%M:%S", "Time_Keep": "On"}])
    i = dict(Name="tail", Path=log, Tag="app", Read_from_Head="On",
             Parser=parser, DB=os.path.join(tmp, "tail.db"))
    i.update(inp)
    return (e2e.section("SERVICE", Flush="0.2", Grace="2", Log_Level="info",
                        Parsers_File=parsers,
                        **{"scheduler.base": "0.05", "scheduler.cap": "0.5"})
            + e2e.section("INPUT", **i)
            + e2e.section("OUTPUT", Name="es", Match="*", Host="127.0.0.1",
                          Port=port, Index="app", Generate_ID="On",
                          Suppress_Type_Name="On"))


def start(path, log):
    return subprocess.Popen([e2e.binary(), "-c", path], stdout=log,
                            stderr=subprocess.STDOUT)


def stored(rcv):
    with rcv.lock:
        return len(rcv.docs)


def by_seq(rcv):
    seen = {}
    with rcv.lock:
        for src in rcv.docs.values():
            seen[src.get("seq")] = seen.get(src.get("seq"), 0) + 1
    return seen


def scenario_kills(c, tmp):
    log = os.path.join(tmp, "app.log")
    with open(log, "w") as f:
        for i in range(RECORDS):
            f.write(json.dumps({"seq": i, "event": "turn_fallback_initiated",
                                "agent_id": "agent-%d" % (i % 97)},
                               separators=(",", ":")) + "\n")
    # a slow peer: kills land while bulks are in flight
    rcv = es_receiver.EsReceiver(delay=0.15).start()
    path = e2e.write(os.path.join(tmp, "kills.conf"), conf(tmp, log, rcv.port))
    out = open(os.path.join(tmp, "kills.out"), "wb")
    p = start(path, out)
    windows = []
    try:
        for k in range(1, KILLS + 1):
            goal = k * RECORDS // (KILLS + 2)
            try:
                e2e.wait_for(lambda: stored(rcv) >= goal, DEADLINE,
                             interval=0.02, what="%d documents stored" % goal)
            except TimeoutError as e:
                c.check(False, str(e))
                break
            p.send_signal(signal.SIGKILL)
            p.wait()
            before = rcv.dump()["conflicts"]
            at_kill = stored(rcv)
            p = start(path, out)
            windows.append((k, at_kill, before))
            # the re-read window of this kill is settled once the next one
            # is sent: wait a little for it before the next kill
            try:
                e2e.wait_for(lambda: stored(rcv) > at_kill or
                             rcv.dump()["conflicts"] > before, DEADLINE,
                             interval=0.02, what="progress after restart")
            except TimeoutError as e:
                c.check(False, str(e))
        try:
            e2e.wait_for(lambda: len(by_seq(rcv)) >= RECORDS, DEADLINE,
                         interval=0.2, what="every record stored")
        except TimeoutError as e:
            c.check(False, str(e))
        # whatever a last re-read holds arrives as 409s: settle
        time.sleep(0.5)
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        out.close()
        rcv.stop()
    dump = rcv.dump()
    seen = by_seq(rcv)
    conflicts = [w[2] for w in windows[1:]] + [dump["conflicts"]]
    for (k, at_kill, before), after in zip(windows, conflicts):
        print("kill %d: %d documents stored at the kill, %d re-read lines "
              "already stored came back as 409" % (k, at_kill, after - before))
    print("%d records, %d kills: %d items sent, %d documents, %d 409s"
          % (RECORDS, len(windows), dump["items_received"], len(dump["docs"]),
             dump["conflicts"]))
    c.equal(len(windows), KILLS, "SIGKILLed %d times mid-delivery" % KILLS)
    missing = [i for i in range(RECORDS) if i not in seen]
    c.equal(len(missing), 0, "records lost (first: %r)" % missing[:5])
    twice = sorted(s for s, n in seen.items() if n > 1)
    c.equal(len(twice), 0, "documents stored twice (first: %r)" % twice[:5])
    c.equal(len(dump["docs"]), RECORDS, "one document per record")
    c.check(dump["conflicts"] > 0,
            "the kills made re-reads, and they came back as 409 (%d)"
            % dump["conflicts"])


def scenario_repeated_lines(c, tmp):
    """The same line at different offsets, same parsed time: all stored."""
    log = os.path.join(tmp, "repeat.log")
    line = json.dumps({"time": "2026-01-01T00:00:00", "msg": "retrying"},
                      separators=(",", ":"))
    n = 300
    with open(log, "w") as f:
        for _ in range(n):
            f.write(line + "\n")
    rcv = es_receiver.EsReceiver().start()
    path = e2e.write(os.path.join(tmp, "repeat.conf"),
                     conf(tmp, log, rcv.port, parser="json_time",
                          DB=os.path.join(tmp, "repeat.db")))
    out = open(os.path.join(tmp, "repeat.out"), "wb")
    p = start(path, out)
    try:
        try:
            e2e.wait_for(lambda: rcv.dump()["items_received"] >= n, DEADLINE,
                         interval=0.05, what="%d items sent" % n)
        except TimeoutError as e:
            c.check(False, str(e))
        time.sleep(0.3)
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=20)
        out.close()
        rcv.stop()
    dump = rcv.dump()
    c.equal(len(dump["docs"]), n,
            "repeated lines with one parsed time are %d documents" % n)
    c.equal(dump["conflicts"], 0, "no repeated line taken for a re-send")


def main():
    e2e.require_plugins("tail", "es")
    c = e2e.Checker()
    with e2e.TempDir("sluice-es-identity-") as tmp:
        scenario_kills(c, tmp)
        scenario_repeated_lines(c, tmp)
    c.finish()


if __name__ == "__main__":
    main()
