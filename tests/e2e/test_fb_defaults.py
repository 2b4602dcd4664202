# SPDX-License-Identifier: Apache-2.0
"""Configs written the Fluent Bit way behave as in Fluent Bit (classic and
YAML): an input without Tag is tagged <plugin>.<n> (n counts every input),
one input and one output need no Match (filters still do), dummy's Samples
stop the records but not the process, an unset ${VAR} is warned about with
FILE:LINE, an option left empty by it is an error, a bad per-plugin
log_level is refused, and config errors are precise: the option's line, no
doubled plugin prefix, plugin and config-map errors in one pass, "did you
mean", and a Fluent Bit plugin sluice lacks named as such."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sluice_e2e as e2e  # noqa: E402

c = e2e.Checker()
UNSET = "SLUICE_E2E_SURELY_UNSET_VAR"
os.environ.pop(UNSET, None)


def lines_of(text):
    return [ln for ln in text.splitlines() if ln.strip()]


def line_no(text, needle):
    """1-based line of the first line of `text` containing needle."""
    for i, ln in enumerate(text.splitlines(), 1):
        if needle in ln:
            return i
    raise ValueError(needle)


def dry_run(path):
    return e2e.run_to_exit(["--dry-run", "-c", path], timeout=60)


def run_records(conf, out_path, n):
    """Runs conf until out_path has n records, stops sluice, returns
    (exit code, records as (tag, ts, record))."""
    r = e2e.run_until(["-c", conf], lambda: e2e.count_lines(out_path) >= n, timeout=60)
    recs = e2e.read_out_file(out_path) if os.path.exists(out_path) else []
    return r, recs


def default_tags(tmp):
    # classic: two dummies without Tag are dummy.0 and dummy.1
    out = os.path.join(tmp, "tags")
    conf = e2e.write(os.path.join(tmp, "tags.conf"),
                     e2e.section("SERVICE", Flush="0.2", Log_Level="warn") +
                     e2e.section("INPUT", Name="dummy", Dummy='{"n":0}', Samples="2") +
                     e2e.section("INPUT", Name="dummy", Dummy='{"n":1}', Samples="2") +
                     e2e.section("OUTPUT", Name="file", Match="dummy.*", Path=out,
                                 File="got.log", Mkdir="on"))
    r, recs = run_records(conf, os.path.join(out, "got.log"), 4)
    c.equal(r.rc, 0, "classic: sluice stopped by SIGTERM exits 0 (%s)" % r.log()[-300:])
    c.equal(sorted({(t, rec["n"]) for t, _, rec in recs}), [("dummy.0", 0), ("dummy.1", 1)],
            "classic: inputs without Tag are tagged dummy.0 and dummy.1")

    # YAML: n counts every input, not the inputs of one plugin
    out = os.path.join(tmp, "ytags")
    conf = e2e.write(os.path.join(tmp, "tags.yaml"), """\
service:
  flush: 0.2
  log_level: warn
pipeline:
  inputs:
    - name: tail
      tag: files
      path: %s/nothing-here-*.log
    - name: dummy
      dummy: '{"n":2}'
      samples: 2
  outputs:
    - name: file
      match: dummy.1
      path: %s
      file: got.log
      mkdir: on
""" % (tmp, out))
    r, recs = run_records(conf, os.path.join(out, "got.log"), 2)
    c.equal(r.rc, 0, "yaml: exits 0 when stopped (%s)" % r.log()[-300:])
    c.equal([(t, rec["n"]) for t, _, rec in recs], [("dummy.1", 2), ("dummy.1", 2)],
            "yaml: the second input (a dummy after a tail) is tagged dummy.1")


def one_to_one(tmp):
    # one input, one output without Match: everything goes there; a filter
    # without Match still applies to nothing (Fluent Bit unloads it)
    out = os.path.join(tmp, "one")
    conf = e2e.write(os.path.join(tmp, "one.conf"),
                     e2e.section("SERVICE", Flush="0.2", Log_Level="warn") +
                     e2e.section("INPUT", Name="dummy", Tag="app.x", Dummy='{"a":1}',
                                 Samples="3") +
                     e2e.section("FILTER", Name="modify", Add="added yes") +
                     e2e.section("OUTPUT", Name="file", Path=out, File="got.log",
                                 Mkdir="on"))
    r, recs = run_records(conf, os.path.join(out, "got.log"), 3)
    c.equal(r.rc, 0, "1:1 classic exits 0 when stopped (%s)" % r.log()[-300:])
    c.equal([(t, rec) for t, _, rec in recs], [("app.x", {"a": 1})] * 3,
            "1:1 classic: the output without Match gets every record; the "
            "filter without Match changes none")

    out = os.path.join(tmp, "yone")
    conf = e2e.write(os.path.join(tmp, "one.yaml"), """\
service:
  flush: 0.2
  log_level: warn
pipeline:
  inputs:
    - name: dummy
      dummy: '{"b":2}'
      samples: 2
  outputs:
    - name: file
      path: %s
      file: got.log
      mkdir: on
""" % out)
    r, recs = run_records(conf, os.path.join(out, "got.log"), 2)
    c.equal([(t, rec) for t, _, rec in recs], [("dummy.0", {"b": 2})] * 2,
            "1:1 yaml: the output without Match gets the records of dummy.0")

    # two outputs: no default, the one without Match gets nothing
    conf = e2e.write(os.path.join(tmp, "two.conf"),
                     e2e.section("INPUT", Name="dummy", Samples="1") +
                     e2e.section("OUTPUT", Name="null", Match="*") +
                     e2e.section("OUTPUT", Name="null"))
    r = dry_run(conf)
    c.check(r.rc == 0 and "no Match or Match_Regex" in r.log(),
            "with two outputs, one without Match is warned about in --dry-run: %s"
            % r.log())


def samples_keep_running(tmp):
    out = os.path.join(tmp, "samples")
    port = e2e.free_port()
    conf = e2e.write(os.path.join(tmp, "samples.conf"),
                     e2e.section("SERVICE", Flush="0.2", Log_Level="info",
                                 HTTP_Server="On", HTTP_Listen="127.0.0.1",
                                 HTTP_Port=str(port)) +
                     e2e.section("INPUT", Name="dummy", Tag="s", Samples="2", Rate="50") +
                     e2e.section("OUTPUT", Name="file", Match="s", Path=out, File="got.log",
                                 Mkdir="on"))
    d = e2e.Daemon(conf, os.path.join(tmp, "samples.log"))
    try:
        e2e.wait_for_lines(os.path.join(out, "got.log"), 2, timeout=60)
        # well after its last record, the input's counter is final and
        # sluice still answers its endpoints
        e2e.wait_for(lambda: e2e.metric_sum(port, "sluice_input_records_total") == 2, 60,
                     what="2 input records counted")
        got = e2e.http_request(port, "GET", "/api/v1/health")
        c.check(got is not None and got[0] == 200,
                "after the samples, sluice still serves /api/v1/health: %r" % (got,))
        c.check(d.p.poll() is None, "after the samples, sluice is still running")
    finally:
        rc = d.stop()
    c.equal(rc, 0, "stopped by SIGTERM, it exits 0")
    c.equal(e2e.count_lines(os.path.join(out, "got.log")), 2, "exactly the 2 samples")
    c.check("every input finished" not in d.output(),
            "dummy's Samples did not end the process: %s" % d.output()[-500:])


def variables(tmp):
    text = (e2e.section("INPUT", Name="dummy", Tag="v") +
            e2e.section("FILTER", Name="modify", Match="*", Add="k ${%s}x" % UNSET) +
            e2e.section("OUTPUT", Name="null", Match="*"))
    conf = e2e.write(os.path.join(tmp, "vars.conf"), text)
    r = dry_run(conf)
    want = "%s:%d:" % (conf, line_no(text, UNSET))
    c.check(r.rc == 0 and "successful" in r.out.decode(),
            "an unset ${VAR} in a value that may be empty is valid: %s" % r.log())
    c.check(any(want in ln and UNSET in ln and "[warn]" in ln for ln in lines_of(r.log())),
            "classic: --dry-run warns about ${%s} at %s: %s" % (UNSET, want, r.log()))

    ytext = """\
pipeline:
  inputs:
    - name: dummy
      tag: v
  filters:
    - name: modify
      match: '*'
      add: k ${%s}x
  outputs:
    - name: null
      match: '*'
""" % UNSET
    yconf = e2e.write(os.path.join(tmp, "vars.yaml"), ytext)
    r = dry_run(yconf)
    want = "%s:%d:" % (yconf, line_no(ytext, UNSET))
    c.check(any(want in ln and UNSET in ln for ln in lines_of(r.log())),
            "yaml: --dry-run warns about ${%s} at %s: %s" % (UNSET, want, r.log()))

    # @SET and the environment are not warned about
    text = ("@SET mine=1\n" + e2e.section("INPUT", Name="dummy", Tag="t${mine}${HOME}") +
            e2e.section("OUTPUT", Name="null", Match="*"))
    r = dry_run(e2e.write(os.path.join(tmp, "set.conf"), text))
    c.check(r.rc == 0 and "neither @SET" not in r.log(),
            "variables that are set are not warned about: %s" % r.log())

    # an option that needs a value and gets "" from an unset variable
    text = (e2e.section("INPUT", Name="dummy") +
            e2e.section("OUTPUT", Name="loki", Match="*", Host="${%s}" % UNSET))
    conf = e2e.write(os.path.join(tmp, "host.conf"), text)
    r = dry_run(conf)
    want = "%s:%d:" % (conf, line_no(text, "Host"))
    c.equal(r.rc, 1, "an empty Host is an error")
    c.check(any(ln.startswith(want) and "'Host'" in ln and "empty" in ln
                for ln in lines_of(r.log())),
            "the error names %s and Host: %s" % (want, r.log()))

    ytext = """\
pipeline:
  inputs:
    - name: dummy
      tag: ${%s}
  outputs:
    - name: es
      match: '*'
      host: ${%s}
""" % (UNSET, UNSET)
    yconf = e2e.write(os.path.join(tmp, "host.yaml"), ytext)
    r = dry_run(yconf)
    c.equal(r.rc, 1, "yaml: an empty tag and host are errors")
    for key, n in (("Tag", 4), ("host", 8)):
        c.check(any(ln.startswith("%s:%d:" % (yconf, n)) and "'%s'" % key in ln
                    for ln in lines_of(r.log())),
                "yaml: the error for %s names line %d: %s" % (key, n, r.log()))


def log_levels(tmp):
    text = (e2e.section("INPUT", Name="dummy", Log_Level="thisdoesnotexist") +
            e2e.section("FILTER", Name="grep", Match="*", Regex="a b", Log_Level="loud") +
            e2e.section("OUTPUT", Name="null", Match="*", Log_Level="warning"))
    conf = e2e.write(os.path.join(tmp, "levels.conf"), text)
    r = dry_run(conf)
    c.equal(r.rc, 1, "a bad per-plugin log_level is refused")
    for value in ("thisdoesnotexist", "loud"):
        want = "%s:%d:" % (conf, line_no(text, value))
        c.check(any(ln.startswith(want) and value in ln for ln in lines_of(r.log())),
                "log_level %s is refused at %s: %s" % (value, want, r.log()))
    c.check("warning" not in r.log(), "'warning' is a valid level, as in Fluent Bit")
    ytext = """\
pipeline:
  inputs:
    - name: dummy
      log_level: debug
  outputs:
    - name: stdout
      match: '*'
      log_level: thisdoesnotexist
"""
    yconf = e2e.write(os.path.join(tmp, "levels.yaml"), ytext)
    r = dry_run(yconf)
    c.check(r.rc == 1 and any(ln.startswith(yconf + ":8:") for ln in lines_of(r.log())),
            "yaml: the output's bad log_level is refused at line 8: %s" % r.log())


def error_positions(tmp):
    text = (e2e.section("INPUT", Name="dummy") +
            e2e.section("OUTPUT", Name="es", Match="*", Bogus_Option="1",
                        Write_Operation="sideways") +
            e2e.section("OUTPUT", Name="loki", Match="*", Uri="no-slash") +
            e2e.section("INPUT", Name="dummy", Dummy="[1]"))
    conf = e2e.write(os.path.join(tmp, "errors.conf"), text)
    r = dry_run(conf)
    log = r.log()
    c.equal(r.rc, 1, "plugin errors exit 1")
    for needle, word in (("Bogus_Option", "bogus_option"), ("Write_Operation", "sideways"),
                         ("Uri", "uri"), ("Dummy", "Dummy")):
        want = "%s:%d:" % (conf, line_no(text, needle))
        c.check(any(ln.startswith(want) and word.lower() in ln.lower()
                    for ln in lines_of(log)),
                "the %s error is at the option's line %s: %s" % (needle, want, log))
    c.check("es: es:" not in log and "loki: loki:" not in log,
            "no doubled plugin prefix: %s" % log)
    c.check(" es: Write_Operation" in log and " loki: uri" in log,
            "each plugin error names its plugin once: %s" % log)

    ytext = """\
pipeline:
  inputs:
    - name: dummy
  outputs:
    - name: http
      match: '*'
      uri: nope
      bogus: 1
"""
    yconf = e2e.write(os.path.join(tmp, "errors.yaml"), ytext)
    r = dry_run(yconf)
    c.check(any(ln.startswith(yconf + ":7:") and "uri" in ln for ln in lines_of(r.log())) and
            any(ln.startswith(yconf + ":8:") and "bogus" in ln for ln in lines_of(r.log())),
            "yaml: the plugin's own error (line 7) and the config map's (line 8) come in "
            "one pass: %s" % r.log())
    c.check("http: http:" not in r.log(), "yaml: no doubled prefix: %s" % r.log())


def names(tmp):
    text = (e2e.section("INPUT", Name="dummy", Sampels="1") +
            e2e.section("FILTER", Name="lua", Match="*") +
            e2e.section("FILTER", Name="modfy", Match="*") +
            e2e.section("OUTPUT", Name="s3", Match="*") +
            e2e.section("OUTPUT", Name="lokki", Match="*") +
            e2e.section("OUTPUT", Name="zzqqy", Match="*") +
            e2e.section("FILTR", Name="grep"))
    conf = e2e.write(os.path.join(tmp, "names.conf"), text)
    r = dry_run(conf)
    log = lines_of(r.log())
    c.equal(r.rc, 1, "unknown names exit 1")

    def has(needle, *words):
        want = "%s:%d:" % (conf, line_no(text, needle))
        return c.check(any(ln.startswith(want) and all(w in ln for w in words) for ln in log),
                       "%s: %r at %s: %s" % (needle, words, want, r.log()))

    has("Sampels", "unknown option 'Sampels'", "did you mean 'Samples'?")
    has("lua", "'lua' is a Fluent Bit filter plugin that sluice does not have")
    has("s3", "'s3' is a Fluent Bit output plugin that sluice does not have")
    has("modfy", "unknown filter plugin 'modfy'", "did you mean 'modify'?")
    has("lokki", "unknown output plugin 'lokki'", "did you mean 'loki'?")
    has("zzqqy", "unknown output plugin 'zzqqy'")
    has("[FILTR]", "unknown section [FILTR]; did you mean [FILTER]?")
    c.check(not any("zzqqy" in ln and "did you mean" in ln for ln in log),
            "nothing close: no suggestion: %s" % r.log())
    c.check(not any("'s3'" in ln and "did you mean" in ln for ln in log),
            "a lacking plugin is not treated as a typo: %s" % r.log())

    ytext = """\
pipeline:
  inputs:
    - name: tail
      path: /x
      read_from_hed: true
  outputs:
    - name: cloudwatch_logs
      match: '*'
"""
    yconf = e2e.write(os.path.join(tmp, "names.yaml"), ytext)
    r = dry_run(yconf)
    log = lines_of(r.log())
    c.check(any(ln.startswith(yconf + ":5:") and "did you mean 'read_from_head'?" in ln.lower()
                for ln in log), "yaml: did you mean for an option: %s" % r.log())
    c.check(any(ln.startswith(yconf + ":7:") and "'cloudwatch_logs' is a Fluent Bit output"
                in ln for ln in log), "yaml: a lacking output plugin is named: %s" % r.log())


def main():
    with e2e.TempDir("sluice-fbdefaults-") as tmp:
        default_tags(tmp)
        one_to_one(tmp)
        samples_keep_running(tmp)
        variables(tmp)
        log_levels(tmp)
        error_positions(tmp)
        names(tmp)
    c.finish()


if __name__ == "__main__":
    main()
