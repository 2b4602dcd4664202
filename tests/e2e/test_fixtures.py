#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The five fixture styles through tail -> parser(json) -> file.

For the shipped fixtures (tests/e2e/fixtures/, a copy of shared/fixtures/)
and for a fresh set made by gen_fixtures.py with another seed and size, one
sluice run tails every file from the head (Exit_On_Eof), parses each style
with its own Time_Key/Time_Format (Time_Keep On, so parsed records must equal
their lines), and writes Fluent Bit's out_file format, which carries the
time. Checked per style:
  - one output record per non-empty input line, in order: nothing lost;
  - lines that are not JSON objects come out as {"log": <line>}, and there
    are exactly expected.json's "malformed" of them;
  - invalid UTF-8 is repaired to U+FFFD and the record kept: exactly
    expected.json's "utf8_repaired" records carry U+FFFD;
  - every parsed record equals its line (json.loads, U+FFFD for bad bytes)
    and its timestamp equals the one the line states, to the nanosecond.
"""
import calendar
import json
import os
import subprocess
import sys
from datetime import datetime

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sluice_e2e as e2e  # noqa: E402

FIXTURES = os.path.join(e2e.e2e_dir(), "fixtures")
SEED, LINES = 20261121, 2500


def iso_ns(s):
    """'2026-11-21T08:00:00.123Z' -> ns since the epoch (UTC)."""
    d = datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ")
    return calendar.timegm(d.timetuple()) * 10**9 + d.microsecond * 1000


def asctime_ns(s):
    """python-json-logger's '2026-11-21 08:00:00,123' (UTC) -> ns."""
    d = datetime.strptime(s, "%Y-%m-%d %H:%M:%S,%f")
    return calendar.timegm(d.timetuple()) * 10**9 + d.microsecond * 1000


# style -> (Time_Key, Time_Format, the line's time in ns)
STYLES = {
    "agent-backend": ("asctime", "%Y-%m-%d %H:%M:%S,%L", lambda r: asctime_ns(r["asctime"])),
    "streaming-proxy": ("timestamp", "%Y-%m-%dT%H:%M:%S.%LZ", lambda r: iso_ns(r["timestamp"])),
    "webrtc-mesh": ("timestamp", "%Y-%m-%dT%H:%M:%S.%LZ", lambda r: iso_ns(r["timestamp"])),
    "agent-mesh": ("ts", "%Y-%m-%dT%H:%M:%S.%LZ", lambda r: iso_ns(r["ts"])),
    "awareness-network": ("time", "epoch_ms", lambda r: r["time"] * 10**6),
}


def expected_lines(path):
    """[(raw_line_text, parsed_object_or_None)] for each non-empty line."""
    out = []
    with open(path, "rb") as f:
        for raw in f.read().split(b"\n"):
            if not raw:
                continue
            text = raw.decode("utf-8", "replace")
            try:
                obj = json.loads(text)
            except ValueError:
                obj = None
            out.append((text, obj if isinstance(obj, dict) else None))
    return out


def write_config(work, logdir, outdir):
    parsers = [dict(Name="fx_" + s, Format="json", Time_Key=k, Time_Format=f,
                    Time_Keep="On")
               for s, (k, f, _) in STYLES.items()]
    e2e.parsers_file(os.path.join(work, "parsers.conf"), parsers)
    text = e2e.section("SERVICE", Flush=1, Grace=5, Log_Level="info",
                       Parsers_File=os.path.join(work, "parsers.conf"))
    for s in STYLES:
        text += e2e.section("INPUT", Name="tail", Path=os.path.join(logdir, s + ".log"),
                            Tag="fx." + s, Read_from_Head="On", Exit_On_Eof="On",
                            Skip_Empty_Lines="On", Buffer_Max_Size="1M")
        text += e2e.section("FILTER", Name="parser", Match="fx." + s,
                            Key_Name="log", Parser="fx_" + s)
    text += e2e.section("OUTPUT", Name="file", Match="fx.*", Path=outdir,
                        Format="out_file", Mkdir="On")
    return e2e.write(os.path.join(work, "fixtures-to-file.conf"), text)


def check_set(c, name, logdir, expected):
    with e2e.TempDir("sluice-fx-") as work:
        outdir = os.path.join(work, "out")
        conf = write_config(work, logdir, outdir)
        dry = e2e.run_to_exit(["-c", conf, "--dry-run"], timeout=30)
        if not c.equal(dry.rc, 0, "%s: --dry-run exit code (%s)" % (name, dry.log()[-2000:])):
            return
        run = e2e.run_to_exit(["-c", conf], timeout=120)
        c.equal(run.rc, 0, "%s: exit code (stderr: %s)" % (name, run.log()[-2000:]))
        for style, (_, _, line_ns) in STYLES.items():
            want = expected_lines(os.path.join(logdir, style + ".log"))
            exp = expected[style]
            target = os.path.join(outdir, "fx." + style)
            # The run has ended; still, allow the file to settle.
            try:
                e2e.wait_for_lines(target, len(want), timeout=10)
            except TimeoutError as e:
                c.check(False, "%s/%s: %s" % (name, style, e))
            if not os.path.exists(target):
                continue
            got = e2e.read_out_file(target)
            label = "%s/%s" % (name, style)
            c.equal(len(got), len(want), label + ": records out vs non-empty lines in")
            # The oracle itself must agree with expected.json.
            c.equal(sum(1 for _, o in want if o is None), exp["malformed"],
                    label + ": malformed lines in the input (oracle)")
            malformed = repaired = 0
            for i, ((tag, ts, rec), (text, obj)) in enumerate(zip(got, want)):
                c.equal(tag, "fx." + style, "%s #%d: tag" % (label, i))
                if obj is None:
                    malformed += rec == {"log": text}
                    c.equal(rec, {"log": text}, "%s #%d: malformed line kept" % (label, i))
                    continue
                if "\ufffd" in json.dumps(rec, ensure_ascii=False):
                    repaired += 1
                c.equal(rec, obj, "%s #%d: record" % (label, i))
                try:
                    want_ns = line_ns(obj)
                except KeyError:
                    continue  # the injected bad-UTF-8 line has no time field
                c.equal(ts, want_ns, "%s #%d: timestamp" % (label, i))
            c.equal(malformed, exp["malformed"], label + ": malformed records")
            c.equal(repaired, exp["utf8_repaired"], label + ": U+FFFD-repaired records")


def main():
    e2e.require_plugins("tail", "parser", "file")
    c = e2e.Checker()
    with open(os.path.join(FIXTURES, "expected.json")) as f:
        shipped = json.load(f)
    check_set(c, "shipped", FIXTURES, shipped)
    with e2e.TempDir("sluice-fxgen-") as gen:
        subprocess.run([sys.executable, os.path.join(FIXTURES, "gen_fixtures.py"), gen,
                        "--seed", str(SEED), "--lines", str(LINES), "--malformed"],
                       check=True)
        with open(os.path.join(gen, "expected.json")) as f:
            generated = json.load(f)
        check_set(c, "seed%d" % SEED, gen, generated)
    c.finish()


if __name__ == "__main__":
    main()
