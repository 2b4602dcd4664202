# SPDX-License-Identifier: Apache-2.0
"""Agent -> aggregator over the forward protocol, two sluice processes: the
agent tails a file and forwards with Require_ack_response; the aggregator
(forward input, storage.type filesystem) writes to a file. The aggregator
is SIGKILLed twice mid-stream and restarted: no record may be lost (the
agent counts a chunk delivered only after the aggregator acked it, and the
aggregator acks only records it has on disk). Records delivered twice are
allowed, counted and printed."""
import collections
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sluice_e2e as e2e  # noqa: E402

c = e2e.Checker()
e2e.require_plugins("forward", "tail", "file")
TOTAL, BATCH = 6000, 200


def aggregator(tmp, port, api):
    # Flush 1: acked records wait in the aggregator's buffer for a while,
    # so a kill finds some there (with memory storage they would be lost)
    conf = e2e.write(os.path.join(tmp, "aggregator.conf"),
                     e2e.section("SERVICE", Flush="1", Grace="3", Log_Level="info",
                                 HTTP_Server="On", HTTP_Listen="127.0.0.1", HTTP_Port=api,
                                 **{"storage.path": os.path.join(tmp, "storage")}) +
                     e2e.section("INPUT", Name="forward", Listen="127.0.0.1", Port=port,
                                 **{"storage.type": "filesystem"}) +
                     e2e.section("OUTPUT", Name="file", Match="*", Path=tmp, File="got.out"))
    d = e2e.Daemon(conf, os.path.join(tmp, "aggregator.log"))
    e2e.wait_port(port, d.p)
    return d


def agent(tmp, port, api):
    parsers = e2e.parsers_file(os.path.join(tmp, "parsers.conf"),
                               [{"Name": "json", "Format": "json"}])
    conf = e2e.write(os.path.join(tmp, "agent.conf"),
                     e2e.section("SERVICE", Flush="0.2", Grace="5", Log_Level="info",
                                 HTTP_Server="On", HTTP_Listen="127.0.0.1", HTTP_Port=api,
                                 Parsers_File=parsers,
                                 **{"scheduler.base": "0.2", "scheduler.cap": "0.5"}) +
                     e2e.section("INPUT", Name="tail", Path=os.path.join(tmp, "app.log"),
                                 Tag="app", Read_from_Head="On") +
                     e2e.section("FILTER", Name="parser", Match="app", Key_Name="log",
                                 Parser="json") +
                     e2e.section("OUTPUT", Name="forward", Match="app", Host="127.0.0.1",
                                 Port=port, Require_ack_response="On",
                                 Retry_Limit="no_limits"))
    d = e2e.Daemon(conf, os.path.join(tmp, "agent.log"))
    try:
        e2e.wait_port(api, d.p)
    except RuntimeError:
        print(d.output())
        raise
    return d


def seqs(tmp):
    try:
        return [r["seq"] for _, _, r in e2e.read_out_file(os.path.join(tmp, "got.out"))]
    except FileNotFoundError:
        return []


def write_lines(tmp, start, n):
    with open(os.path.join(tmp, "app.log"), "a") as f:
        for i in range(start, start + n):
            f.write('{"seq":%d,"msg":"forwarded with acks"}\n' % i)


def hop(tmp):
    port, api_r, api_a = e2e.free_port(), e2e.free_port(), e2e.free_port()
    rcv = aggregator(tmp, port, api_r)
    open(os.path.join(tmp, "app.log"), "w").close()
    snd = agent(tmp, port, api_a)
    written, kills = 0, 0
    for k in (TOTAL // 3, 2 * TOTAL // 3):
        while written < k:
            write_lines(tmp, written, BATCH)
            written += BATCH
            time.sleep(0.02)  # a stream, not one burst (pacing, not an assert)
        # mid-stream: some records are through, more are in flight
        e2e.wait_for(lambda: len(seqs(tmp)) >= k // 2, 60, what="records at the aggregator")
        write_lines(tmp, written, BATCH)
        written += BATCH
        rcv.kill()
        kills += 1
        print("kill %d: %d of %d records written were at the aggregator"
              % (kills, len(set(seqs(tmp))), written))
        write_lines(tmp, written, BATCH)  # written while the aggregator is down
        written += BATCH
        rcv = aggregator(tmp, port, api_r)
    while written < TOTAL:
        write_lines(tmp, written, BATCH)
        written += BATCH
    want = set(range(written))
    try:
        e2e.wait_for(lambda: want <= set(seqs(tmp)), 120, what="every record at the aggregator")
    except TimeoutError:
        pass  # reported below as the records lost
    got = seqs(tmp)
    lost = want - set(got)
    dups = sum(n - 1 for n in collections.Counter(got).values() if n > 1)
    c.check(not lost, "%d SIGKILLs of the aggregator: %d of %d records lost (e.g. %s)"
            % (kills, len(lost), written, sorted(lost)[:5]))
    c.check(set(got) <= want, "nothing but the written records arrives")
    print("forward hop: %d records, %d aggregator SIGKILLs, %d delivered twice"
          % (written, kills, dups))
    c.equal(snd.stop(), 0, "agent exits 0")
    c.equal(rcv.stop(), 0, "aggregator exits 0")


with e2e.TempDir("sluice-fwdhop-") as tmp:
    try:
        hop(tmp)
    except Exception:
        for n in ("agent.log", "aggregator.log"):
            print("---", n)
            print(open(os.path.join(tmp, n)).read()[-3000:])
        raise
c.finish()
