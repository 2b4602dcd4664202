# SPDX-License-Identifier: Apache-2.0
"""The shipped fleet, end to end: conf/agent-forward.conf and
conf/aggregator.conf run unchanged (environment overrides only) as

  agent (tail -> forward, acks) -> aggregator (forward input on disk ->
  kafka output, Tag_Key tag; kafka input -> es + loki) -> fake ES and Loki

with librdkafka's mock cluster (tests/e2e/kafka_mock_cluster.c) as Kafka.
The test writes lines to two tailed files while it SIGKILLs the agent once
and the aggregator once, mid-stream, and restarts them.

Checks:
- every line written arrives at ES and at Loki, as written (payload.log),
  with the original tag (fwd.node.<path>: the agent's tag behind the
  forward input's Tag_Prefix) in the ES document and as Loki's tag label,
  and nothing else arrives;
- duplicates are counted and bounded by the structure, not by speed:
  ES holds one document per Kafka message (Generate_ID from topic,
  partition and offset: a re-read is not a new document); a line is in
  Kafka at most 3 times (the kills are apart, so one kill touches a line:
  the agent's re-sends it once; the aggregator's can add one re-send of
  the agent plus one re-produce of its recovered chunk); a Kafka message
  reaches Loki at most twice (one group change re-reads it: the kill);
- the consumer group's committed offsets, sampled all along, never run
  ahead of delivery: every message below them is in ES and in Loki; in the
  end they reach the watermarks.
"""
import collections
import json
import os
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sluice_e2e as e2e  # noqa: E402
import es_receiver  # noqa: E402
import loki_receiver  # noqa: E402
from test_kafka_input import Mock  # noqa: E402

c = e2e.Checker()
e2e.require_plugins("tail", "forward", "kafka", "es", "loki")
PARTITIONS = 3
BATCH = 100
GROUP = "fleet"
CONF = os.path.join(e2e.source_root(), "conf")
# the kafka input's record (Logstash_Format adds @timestamp for ES); the
# payload is the first hop's message: @timestamp, tag (Tag_Key), log
ES_KEYS = {"@timestamp", "topic", "partition", "offset", "error", "key", "payload"}
LOKI_KEYS = {"partition", "offset", "error", "key", "payload"}


def daemon(name, tmp, env):
    """sluice on conf/<name>.conf with `env` added to the environment."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        return e2e.Daemon(os.path.join(CONF, name + ".conf"),
                          os.path.join(tmp, name + ".log"))
    finally:
        os.environ.clear()
        os.environ.update(saved)


class Fleet:
    def __init__(self, tmp, mock, es, loki):
        self.tmp = tmp
        self.ports = {k: e2e.free_port() for k in ("fwd", "agent_api", "agg_api")}
        self.logs = [os.path.join(tmp, "logs", n) for n in ("app.log", "audit.log")]
        os.makedirs(os.path.join(tmp, "logs"))
        # empty before the agent starts: tail (Read_from_Head off) follows
        # files it finds at start from their end, which is 0 here
        for p in self.logs:
            open(p, "w").close()
        self.agent_env = {
            "SLUICE_LOG_PATH": os.path.join(tmp, "logs", "*.log"),
            "SLUICE_DB": os.path.join(tmp, "agent.db"),
            "AGGREGATOR_HOST": "127.0.0.1",
            "AGGREGATOR_PORT": str(self.ports["fwd"]),
            "HTTP_PORT": str(self.ports["agent_api"]),
        }
        self.agg_env = {
            "KAFKA_BROKERS": mock.bootstrap, "KAFKA_TOPIC": "logs",
            "KAFKA_GROUP": GROUP,
            # the restarted aggregator gets the partitions back in seconds
            "KAFKA_SESSION_TIMEOUT_MS": "6000",
            "ES_HOST": "127.0.0.1", "ES_PORT": str(es.port),
            "LOKI_HOST": "127.0.0.1", "LOKI_PORT": str(loki.port),
            "FORWARD_LISTEN": "127.0.0.1", "FORWARD_PORT": str(self.ports["fwd"]),
            "STORAGE_PATH": os.path.join(tmp, "storage"),
            "HTTP_PORT": str(self.ports["agg_api"]),
        }
        self.agent = self.aggregator = None
        self.written = []  # (file index, line)

    def start_aggregator(self):
        self.aggregator = daemon("aggregator", self.tmp, self.agg_env)
        e2e.wait_port(self.ports["fwd"], self.aggregator.p, timeout=30)
        e2e.wait_port(self.ports["agg_api"], self.aggregator.p, timeout=30)
        e2e.wait_for(lambda: (e2e.metric_value(self.ports["agg_api"],
                                               "sluice_kafka_input_assigned_partitions")
                              or 0) == PARTITIONS,
                     90, interval=0.2, what="the aggregator assigned every partition")

    def start_agent(self):
        self.agent = daemon("agent-forward", self.tmp, self.agent_env)
        e2e.wait_port(self.ports["agent_api"], self.agent.p, timeout=30)

    def write(self, n):
        """n more lines, spread over the two files."""
        files = [open(p, "a", encoding="utf-8") for p in self.logs]
        try:
            for _ in range(n):
                i = len(self.written)
                f = i % 2
                line = ('{"seq":%d,"file":"%s","msg":"fleet line %d \\"quoted\\" \u00e9"}'
                        % (i, os.path.basename(self.logs[f]), i))
                files[f].write(line + "\n")
                self.written.append((f, line))
        finally:
            for fh in files:
                fh.close()

    def stream(self, upto):
        while len(self.written) < upto:
            self.write(BATCH)
            time.sleep(0.05)  # a stream, not one burst (pacing, not an assert)

    def tag_of(self, f):
        # tail's `node.*` (the path with / as .), behind Tag_Prefix fwd.
        return "fwd.node." + self.logs[f].lstrip("/").replace("/", ".")

    def stop(self):
        rc = {}
        for name in ("agent", "aggregator"):
            d = getattr(self, name)
            if d is not None:
                rc[name] = d.stop()
        return rc


def committed(mock):
    # a partition the producer never picked has nothing committed (-1)
    return {p: max(o, 0) for p, o in mock.offsets("committed", GROUP, "logs").items()}


def kafka_consumed(api_port):
    return e2e.metric_value(api_port, "sluice_kafka_input_records_total") or 0


def records_in(api_port, name):
    return e2e.metric_value(api_port, "sluice_input_records_total", {"name": name}) or 0


def es_docs(es):
    with es.lock:
        return list(es.docs.values())


def es_offsets(es):
    return collections.Counter((d["partition"], d["offset"]) for d in es_docs(es))


def loki_offsets(loki):
    got = collections.Counter()
    for e in loki.accepted():
        r = json.loads(e.line)
        got[(r["partition"], r["offset"])] += 1
    return got


def es_lines(es):
    return collections.Counter(d["payload"]["log"] for d in es_docs(es))


def loki_lines(loki):
    return collections.Counter(json.loads(e.line)["payload"]["log"] for e in loki.accepted())


class Sampler(threading.Thread):
    """Reads the group's committed offsets, then what ES and Loki hold:
    everything below the offsets must be there (both outputs acked it)."""

    def __init__(self, mock, es, loki):
        super().__init__(daemon=True)
        self.mock, self.es, self.loki = mock, es, loki
        self.samples, self.ahead, self.committed_max = 0, [], 0
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            try:
                committed = self.mock.offsets("committed", GROUP, "logs")
            except RuntimeError:
                continue
            have_es, have_loki = es_offsets(self.es), loki_offsets(self.loki)
            self.samples += 1
            total = sum(max(v, 0) for v in committed.values())
            self.committed_max = max(self.committed_max, total)
            for p, v in committed.items():
                for o in range(max(v, 0)):
                    if (p, o) not in have_es or (p, o) not in have_loki:
                        self.ahead.append((self.samples, p, o,
                                           (p, o) in have_es, (p, o) in have_loki))
            self.halt.wait(0.3)


def run(tmp):
    mock = Mock()
    es = es_receiver.EsReceiver().start()
    loki = loki_receiver.LokiReceiver()
    loki.__enter__()
    fleet = Fleet(tmp, mock, es, loki)
    sampler = Sampler(mock, es, loki)
    try:
        mock.cmd("topic logs %d" % PARTITIONS)
        fleet.start_aggregator()
        fleet.start_agent()
        sampler.start()

        def arrived(n):
            return lambda: len(es_lines(es)) >= n and len(loki_lines(loki)) >= n

        def settle(what):
            """Every line at ES and Loki, every offset committed: the
            windows of two kills never overlap (one kill per line)."""
            e2e.wait_for(arrived(len(fleet.written)), 90, interval=0.2,
                         what="every line at ES and Loki " + what)
            e2e.wait_for(lambda: committed(mock) == mock.offsets("watermarks", "logs"),
                         60, interval=0.2, what="every offset committed " + what)
        api = fleet.ports["agg_api"]

        # ---- 1. agent SIGKILL once it has read every line: the last ones
        # are in its buffer or on the way (tail must not have committed them)
        fleet.stream(800)
        e2e.wait_for(arrived(300), 60, interval=0.2, what="lines at ES and Loki")
        fleet.write(BATCH)
        e2e.wait_for(lambda: records_in(fleet.ports["agent_api"], "tail.0")
                     >= len(fleet.written), 30, interval=0.02, what="the agent read the lines")
        fleet.agent.kill()
        print("agent SIGKILL: %d lines written and read by the agent, %d at ES"
              % (len(fleet.written), len(es_lines(es))))
        fleet.write(2 * BATCH)  # while the agent is down
        fleet.start_agent()
        fleet.stream(1400)
        settle("after the agent's kill")

        # ---- 2. aggregator SIGKILL once it received every line: the last
        # ones are on its disk (acked to the agent), not yet in Kafka
        fleet.stream(2000)
        fleet.write(BATCH)
        e2e.wait_for(lambda: records_in(api, "forward.0") >= len(fleet.written),
                     30, interval=0.02, what="the aggregator received the lines")
        fleet.aggregator.kill()
        print("aggregator SIGKILL (forward hop): %d lines written and received, %d at ES"
              % (len(fleet.written), len(es_lines(es))))
        fleet.write(2 * BATCH)  # the agent holds them meanwhile
        fleet.start_aggregator()
        fleet.stream(2600)
        settle("after the aggregator's first kill")

        # ---- 3. aggregator SIGKILL once it consumed every line from Kafka:
        # the last ones are on the way to ES and Loki, their offsets must
        # not be committed
        base = kafka_consumed(api)
        start = len(fleet.written)
        fleet.stream(3000)
        fleet.write(BATCH)
        e2e.wait_for(lambda: kafka_consumed(api) - base >= len(fleet.written) - start,
                     30, interval=0.02, what="the aggregator consumed the lines")
        fleet.aggregator.kill()
        print("aggregator SIGKILL (kafka hop): %d lines written and consumed, %d at ES, %d at "
              "Loki" % (len(fleet.written), len(es_lines(es)), len(loki_lines(loki))))
        fleet.write(2 * BATCH)
        fleet.start_aggregator()
        fleet.stream(3600)
        try:
            settle("after the aggregator's second kill")
        except TimeoutError:
            pass  # reported below
        marks = mock.offsets("watermarks", "logs")
        committed_end = committed(mock)
    finally:
        sampler.halt.set()
        if sampler.is_alive():
            sampler.join(10)
        rcs = fleet.stop()
        es.stop()
        loki.__exit__(None, None, None)
        mock.close()

    # ---- what arrived
    want = collections.Counter(line for _, line in fleet.written)
    tags = {line: fleet.tag_of(f) for f, line in fleet.written}
    at_es, at_loki = es_lines(es), loki_lines(loki)
    for where, got in (("ES", at_es), ("Loki", at_loki)):
        lost = [line for line in want if line not in got]
        c.check(not lost, "%d of %d lines never reached %s, e.g. %r"
                % (len(lost), len(want), where, lost[:3]))
        extra = [line for line in got if line not in want]
        c.check(not extra, "%s holds lines never written, e.g. %r" % (where, extra[:3]))
    bad = []
    for d in es_docs(es):
        p = d.get("payload", {})
        if (set(d) != ES_KEYS or d["topic"] != "logs" or d["key"] is not None
                or p.get("tag") != tags.get(p.get("log"))
                or set(p) != {"@timestamp", "tag", "log"}):
            bad.append(d)
    c.check(not bad, "%d ES documents without the expected fields and tag, e.g. %r"
            % (len(bad), bad[:2]))
    bad = []
    for e in loki.accepted():
        r = json.loads(e.line)
        want_labels = {"job": "sluice-aggregator", "topic": "logs",
                       "tag": tags.get(r["payload"].get("log"))}
        # a field made a label leaves the line (as in Fluent Bit)
        if (e.labels != want_labels or set(r) != LOKI_KEYS
                or set(r["payload"]) != {"@timestamp", "log"}):
            bad.append((e.labels, e.line))
    c.check(not bad, "%d Loki entries without the expected labels, e.g. %r"
            % (len(bad), bad[:2]))
    c.equal(loki.violations, 0, "Loki order violations")

    # ---- duplicates, bounded by the structure
    kafka_total = sum(marks.values())
    by_offset = es_offsets(es)
    c.equal(len(by_offset), kafka_total, "Kafka messages with an ES document")
    twice = [k for k, n in by_offset.items() if n > 1]
    c.check(not twice, "%d Kafka messages indexed more than once (Generate_ID must "
            "make a re-read the same document), e.g. %r" % (len(twice), twice[:3]))
    worst_line = max(at_es.values()) if at_es else 0
    c.check(worst_line <= 3, "a line is in Kafka %d times (at most 3: one kill per "
            "line, a re-send and a re-produce)" % worst_line)
    at_loki_by_offset = loki_offsets(loki)
    c.equal(set(at_loki_by_offset), set(by_offset), "Kafka messages at Loki")
    worst_entry = max(at_loki_by_offset.values()) if at_loki_by_offset else 0
    c.check(worst_entry <= 2, "a Kafka message reached Loki %d times (at most 2: one "
            "re-read for the one kill in whose window it was)" % worst_entry)

    # ---- offsets
    c.check(sampler.samples >= 10, "committed offsets sampled %d times" % sampler.samples)
    c.check(sampler.committed_max > 0, "nothing was ever committed")
    c.check(not sampler.ahead, "committed offsets ran ahead of delivery: %d messages "
            "below them not at ES/Loki, e.g. (sample, partition, offset, at ES, at "
            "Loki) %r" % (len(sampler.ahead), sampler.ahead[:5]))
    c.equal(committed_end, marks, "committed offsets at the end")
    c.equal(rcs, {"agent": 0, "aggregator": 0}, "exit codes after SIGTERM")
    print("fleet: %d lines, %d Kafka messages (%d re-sent or re-produced), ES %d documents, "
          "Loki %d entries (%d re-read), %d offset samples"
          % (len(want), kafka_total, kafka_total - len(want), sum(by_offset.values()),
             sum(at_loki_by_offset.values()),
             sum(at_loki_by_offset.values()) - len(at_loki_by_offset), sampler.samples))


with e2e.TempDir("sluice-fleet-") as tmp:
    try:
        run(tmp)
    except Exception:
        for n in ("agent-forward.log", "aggregator.log"):
            path = os.path.join(tmp, n)
            if os.path.exists(path):
                print("---", n)
                print(open(path, errors="replace").read()[-4000:])
        raise
c.finish()
