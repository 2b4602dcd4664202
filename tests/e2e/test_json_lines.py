#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""JSONTestSuite through the binary: tail -> parser(json) -> file (plain).

Every file of test_parsing/ that a line reader sees as one line (per
expectations.json's lines_seen_by_a_line_reader) becomes one line of one
input file ("\\n" appended). The output must hold one record per non-empty
line, in order:
  - record == true: the parsed object, equal to Python's json.loads of the
    file (duplicate keys: both sides compared as Python dicts, so the last
    wins; the bytes sluice keeps are checked to be valid JSON either way);
  - record == false: {"log": <line>} (invalid UTF-8 shown as U+FFFD), counted;
  - record == null (implementation-defined): either outcome, counted.
Multi-line files are skipped (a line reader cannot make them one record).
"""
import json
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sluice_e2e as e2e  # noqa: E402


def corpus():
    for base in (os.path.join(e2e.source_root(), "tests", "conformance", "json"),
                 "/work/shared/conformance/json"):
        if os.path.isdir(os.path.join(base, "test_parsing")) and \
                os.path.exists(os.path.join(base, "expectations.json")):
            return base
    e2e.skip("JSONTestSuite corpus not found")


def cases(base):
    """[(name, line_bytes, expectation)] in file-name order."""
    with open(os.path.join(base, "expectations.json")) as f:
        exp = json.load(f)["files"]
    out = []
    for name in sorted(exp):
        e = exp[name]
        if e["lines_seen_by_a_line_reader"] != 1:
            continue
        with open(os.path.join(base, "test_parsing", name), "rb") as f:
            data = f.read()
        line = data[:-1] if data.endswith(b"\n") else data
        out.append((name, line, e))
    return out


def parse_object(line):
    try:
        v = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return v if isinstance(v, dict) else None


def main():
    e2e.require_plugins("tail", "parser", "file")
    base = corpus()
    all_cases = cases(base)
    fed = [c for c in all_cases if c[1]]  # an empty line is skipped by tail
    c = e2e.Checker()
    with e2e.TempDir("sluice-jts-") as work:
        log = os.path.join(work, "suite.log")
        with open(log, "wb") as f:
            for _, line, _ in all_cases:
                f.write(line + b"\n")
        e2e.parsers_file(os.path.join(work, "parsers.conf"),
                         [dict(Name="json", Format="json")])
        out = os.path.join(work, "out.jsonl")
        conf = e2e.write(os.path.join(work, "jts.conf"),
                         e2e.section("SERVICE", Flush=1, Log_Level="info",
                                     Parsers_File=os.path.join(work, "parsers.conf"))
                         + e2e.section("INPUT", Name="tail", Path=log, Tag="jts",
                                       Read_from_Head="On", Exit_On_Eof="On",
                                       Skip_Empty_Lines="On", Buffer_Chunk_Size="1M",
                                       Buffer_Max_Size="1M")
                         + e2e.section("FILTER", Name="parser", Match="jts",
                                       Key_Name="log", Parser="json")
                         + e2e.section("OUTPUT", Name="file", Match="jts",
                                       Path=work, File="out.jsonl", Format="plain"))
        run = e2e.run_to_exit(["-c", conf], timeout=120)
        c.equal(run.rc, 0, "exit code (stderr: %s)" % run.log()[-2000:])
        try:
            e2e.wait_for_lines(out, len(fed), timeout=10)
        except TimeoutError as e:
            c.check(False, str(e))
        got = []
        if os.path.exists(out):
            with open(out, "rb") as f:
                for raw in f.read().split(b"\n"):
                    if not raw:
                        continue
                    # Everything sluice writes must be valid UTF-8 JSON objects.
                    try:
                        got.append(json.loads(raw.decode("utf-8")))
                    except (UnicodeDecodeError, ValueError) as e:
                        c.check(False, "output line is not JSON (%s): %r" % (e, raw[:120]))
                        got.append(None)
        c.equal(len(got), len(fed), "records out vs non-empty lines in")
        counts = {"records": 0, "kept_as_log": 0, "i_records": 0, "i_kept": 0}
        for (name, line, e), rec in zip(fed, got):
            as_log = {"log": line.decode("utf-8", "replace")}
            # tail drops NUL bytes at the head of a line, as Fluent Bit does
            # (copytruncate leaves zeros behind); only i_string_utf16BE_* has them.
            if line.startswith(b"\0") and rec == {"log": line.lstrip(b"\0").decode("utf-8", "replace")}:
                as_log = rec
            if e["record"] is True:
                want = parse_object(line)
                c.equal(rec, want, name + ": parsed record")
                counts["records"] += rec == want
            elif e["record"] is False:
                c.equal(rec, as_log, name + ": kept as {\"log\": line}")
                counts["kept_as_log"] += rec == as_log
            else:
                want = parse_object(line)
                ok = rec == as_log or (want is not None and rec == want) or \
                    (isinstance(rec, dict) and "log" not in rec)
                c.check(ok, "%s: implementation-defined case gave %r" % (name, rec))
                if rec == as_log:
                    counts["i_kept"] += 1
                else:
                    counts["i_records"] += 1
        want_records = sum(1 for _, l, e in fed if e["record"] is True)
        want_kept = sum(1 for _, l, e in fed if e["record"] is False)
        c.equal(counts["records"], want_records, "records parsed")
        c.equal(counts["kept_as_log"], want_kept, "lines kept as log")
        print("cases fed: %d (skipped multi-line: %d); %s"
              % (len(fed), sum(1 for e in json.load(open(os.path.join(base, "expectations.json")))["files"].values()
                               if e["lines_seen_by_a_line_reader"] != 1), counts))
    c.finish()


if __name__ == "__main__":
    main()
