# SPDX-License-Identifier: Apache-2.0
"""service.telemetry.metrics.logs.tag_records run for real on Fluent Bit's
own integration configs (tests/conformance/.../internal_metrics/config):
each record an input reads is counted once, under {name, tag} in
sluice_input_logs_tag_records_total or under {name, reason} in
..._untracked_total (max_series, tag_length_limit); an input's telemetry
block overrides the service's; without it the families do not exist, as
in Fluent Bit. Also the same counters under Fluent Bit's name, and a
classic-format [SERVICE] spelling."""
import os
import re
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sluice_e2e as e2e  # noqa: E402

CONFIGS = os.path.join(e2e.source_root(), "tests", "conformance", "fluent-bit",
                       "tests-integration-scenarios", "internal_metrics", "config")
TRACKED = "sluice_input_logs_tag_records_total"
UNTRACKED = "sluice_input_logs_tag_records_untracked_total"


def series(port, family):
    """{(label, label): value} of one family; None when unreachable."""
    r = e2e.http_request(port, "GET", "/api/v2/metrics/prometheus", timeout=5)
    if not r or r[0] != 200:
        return None
    out = {}
    for line in r[2].decode("utf-8", "replace").splitlines():
        m = re.match(r"^%s\{([^}]*)\} (\S+)$" % re.escape(family), line)
        if m:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
            out[tuple(labels[k] for k in sorted(labels))] = float(m.group(2))
    return out


def with_keepalive(tmp, name):
    """The config plus one endless input that does not count by tag, so
    that the process outlives its `samples: 1` inputs whatever dummy does
    when they are done (the counts checked stay those of the config)."""
    with open(os.path.join(CONFIGS, name + ".yaml"), encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    doc["pipeline"]["inputs"].append({
        "name": "dummy", "alias": "keepalive", "tag": "keepalive", "rate": "1",
        "telemetry": {"metrics": {"logs": {"tag_records": {"enabled": False}}}}})
    path = os.path.join(tmp, name + ".yaml")
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(doc, f)
    return path


def run(c, tmp, name, inputs, check):
    """Runs one config until every input named in `inputs` read at least
    one record, then checks the two families."""
    port = e2e.free_port()
    os.environ["FLUENT_BIT_HTTP_MONITORING_PORT"] = str(port)
    d = e2e.Daemon(with_keepalive(tmp, name), os.path.join(tmp, name + ".log"))
    try:
        e2e.wait_port(port, d.p, 30)
        e2e.wait_for(lambda: all((e2e.metric_value(port, "sluice_input_records_total",
                                                   {"name": i}) or 0) >= 1
                                 for i in inputs), 60, what="%s: records read" % name)
        check(series(port, TRACKED), series(port, UNTRACKED), port)
    except Exception as e:  # noqa: BLE001
        c.check(False, "%s: %s\n%s" % (name, e, d.output()[-2000:]))
    finally:
        d.stop()


def main():
    c = e2e.Checker()
    with e2e.TempDir("tag-records") as tmp:
        # tracked keys are (name, tag); untracked keys are (name, reason)
        run(c, tmp, "tag_records_enabled", ["tag_records_dummy"],
            lambda t, u, p: (c.equal(t, {("tag_records_dummy", "tag.records.one"): 1},
                                     "enabled: one record of its tag"),
                             c.equal(u, {}, "enabled: nothing untracked")))
        run(c, tmp, "tag_records_disabled", ["tag_records_disabled_dummy"],
            lambda t, u, p: c.equal((t, u), ({}, {}), "disabled: no family"))
        run(c, tmp, "tag_records_input_enable",
            ["tag_records_enabled_input", "tag_records_default_input"],
            lambda t, u, p: c.equal(t, {("tag_records_enabled_input", "tag.records.on"): 1},
                                    "input enable: only that input"))
        run(c, tmp, "tag_records_input_nested_disable",
            ["tag_records_nested_off", "tag_records_nested_control"],
            lambda t, u, p: c.equal(
                t, {("tag_records_nested_control", "tag.records.nested.on"): 1},
                "input disable: the other input only"))
        run(c, tmp, "tag_records_input_nested_enable",
            ["tag_records_nested_enabled", "tag_records_nested_default"],
            lambda t, u, p: c.equal(
                t, {("tag_records_nested_enabled", "tag.records.nested.enable"): 1},
                "nested enable: that input only"))
        run(c, tmp, "tag_records_input_override", ["tag_records_input_disabled"],
            lambda t, u, p: c.equal((t, u), ({}, {}), "input override: nothing counted"))

        def max_series(t, u, p):
            c.equal(len(t), 1, "max_series 1: one tracked series: %r" % t)
            c.equal(sorted(u.values()), [1], "max_series 1: one untracked record")
            c.check(all(k[1] == "max_series" for k in u), "reason max_series: %r" % u)
            c.equal(sum(t.values()) + sum(u.values()), 2, "every record counted once")
        run(c, tmp, "tag_records_max_series",
            ["tag_records_first", "tag_records_second"], max_series)
        run(c, tmp, "tag_records_max_tag_length", ["tag_records_long_tag"],
            lambda t, u, p: (c.equal(t, {}, "long tag: not tracked"),
                             c.equal(u, {("tag_records_long_tag", "tag_length_limit"): 1},
                                     "long tag: untracked by reason")))
        run(c, tmp, "tag_records_multi_tag", ["tag_records_multi_a", "tag_records_multi_b"],
            lambda t, u, p: c.equal(t, {("tag_records_multi_a", "tag.records.alpha"): 1,
                                        ("tag_records_multi_b", "tag.records.beta"): 1},
                                    "two inputs, two tags"))

        def accumulate(t, u, p):
            key = ("tag_records_accumulate", "tag.records.acc")
            first = (t or {}).get(key, 0)
            try:
                e2e.wait_for(lambda: (series(p, TRACKED) or {}).get(key, 0) >= first + 3,
                             60, what="the counter to grow")
            except TimeoutError as e:
                c.check(False, "accumulate: %s" % e)
            now = series(p, TRACKED) or {}
            recs = e2e.metric_value(p, "sluice_input_records_total",
                                    {"name": "tag_records_accumulate"}) or 0
            c.check(now.get(key, 0) <= recs and now.get(key, 0) >= first + 3,
                    "accumulate: grows with the records read (%r, %r)" % (now, recs))
        run(c, tmp, "tag_records_accumulate", ["tag_records_accumulate"], accumulate)

        # the classic format spells the nesting as dotted [SERVICE] keys,
        # and Fluent Bit's names carry the same counts
        classic = e2e.write(os.path.join(tmp, "classic.conf"), e2e.section(
            "SERVICE", Flush="0.2", Grace="1", HTTP_Server="On", HTTP_Listen="127.0.0.1",
            HTTP_Port="${FLUENT_BIT_HTTP_MONITORING_PORT}",
            **{"metrics.names": "fluentbit",
               "telemetry.metrics.logs.tag_records.enabled": "on"})
            + e2e.section("INPUT", Name="dummy", Tag="classic.tag", Samples="2")
            + e2e.section("INPUT", Name="dummy", Tag="keepalive", Rate="1",
                          **{"telemetry.metrics.logs.tag_records.enabled": "off"})
            + e2e.section("OUTPUT", Name="null", Match="*"))

        port = e2e.free_port()
        os.environ["FLUENT_BIT_HTTP_MONITORING_PORT"] = str(port)
        d = e2e.Daemon(classic, os.path.join(tmp, "classic2.log"))
        try:
            e2e.wait_port(port, d.p, 30)
            e2e.wait_for(lambda: (series(port, "fluentbit_input_logs_tag_records_total")
                                  or {}).get(("dummy.0", "classic.tag")) == 2, 60,
                         what="two records of classic.tag under Fluent Bit's name")
            c.equal(series(port, TRACKED), {}, "fluentbit names only")
        except Exception as e:  # noqa: BLE001
            c.check(False, "classic: %s\n%s" % (e, d.output()[-2000:]))
        finally:
            d.stop()
    c.finish()


if __name__ == "__main__":
    main()
