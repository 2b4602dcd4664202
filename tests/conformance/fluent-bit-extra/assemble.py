#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Assembles this corpus from a Fluent Bit checkout (see SOURCE.md).

Fluent Bit's runtime tests (tests/runtime/*.c) build their pipelines with
flb_input()/flb_filter()/flb_output() and flb_*_set(ctx, ffd, "Key",
"Value", ..., NULL) calls. Each test function whose calls all use string
literals becomes one classic config file with the same sections, keys and
values, in the same order. The library plugins the tests need (`lib` input
and output) become `dummy` and `null`; a test is kept only when every other
plugin is one of sluice's. The verdict is what the test asserts: "invalid"
when it checks that flb_start() or a flb_*_set() call fails, else "valid".

Usage: assemble.py /path/to/fluent-bit  (writes next to this script)
Standard library only; run by hand, not by the test suite.
"""
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SLUICE = {
    "input": {"tail", "dummy", "stdin", "http"},
    "filter": {"parser", "grep", "modify", "log_to_metrics", "record_modifier"},
    "output": {"loki", "kafka", "es", "prometheus_exporter", "stdout", "file",
               "null", "http"},
}
LIB = {"input": "dummy", "output": "null"}
SOURCES = ["filter_grep.c", "filter_modify.c", "filter_parser.c",
           "filter_record_modifier.c", "filter_log_to_metrics.c", "in_tail.c",
           "in_http.c", "in_dummy.c", "in_simple_systems.c", "out_file.c",
           "out_stdout.c", "out_null.c", "out_loki.c", "out_http.c",
           "out_elasticsearch.c", "out_kafka.c"]
HEADER = {"input": "INPUT", "filter": "FILTER", "output": "OUTPUT"}
# Config files of the integration tests that the first corpus leaves out
# (no .conf/.yaml name), copied unchanged: (path, plugins, env vars, test).
VERBATIM = [
    ("tests/integration/scenarios/in_http/config/in_http_config", "in: http; out: http",
     ["FLUENT_BIT_HTTP_MONITORING_PORT", "FLUENT_BIT_TEST_LISTENER_PORT",
      "TEST_SUITE_HTTP_PORT"],
     "tests/integration/scenarios/in_http/tests/test_in_http_001.py starts Fluent Bit "
     "with it and posts records through"),
]
STR = r'"((?:[^"\\]|\\.)*)"'
FAIL_CHECK = re.compile(r"(?:if\s*\(\s*!\s*)?TEST_CHECK\(\s*ret\s*(?:!=\s*0|==\s*-1|<\s*0)\s*\)")
# options of the lib plugins that the stand-ins (dummy, null) share
LIB_KEEP = {"tag", "match", "match_regex", "alias", "log_level", "format"}


def functions(text):
    """(name, is_test, body) of every top-level function: tests are
    `void name(void)` or `void name()`; the others may be helpers that
    build the pipeline (filter_test_create() and the like)."""
    for m in re.finditer(r"^(?:static\s+)?(?:inline\s+)?([\w\s\*]+?)\b(\w+)\s*\(([^;{)]*)\)\s*\{",
                         text, re.M):
        depth, i = 1, m.end()
        while depth and i < len(text):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        is_test = (m.group(1).strip() == "void" and m.group(3).strip() in ("", "void"))
        yield m.group(2), is_test, text[m.end():i - 1]


def with_helpers(body, helpers):
    """The body with the bodies of the helpers it calls put first."""
    pre = [helpers[n] for n in helpers if re.search(r"\b%s\s*\(" % n, body)]
    return "\n".join(pre + [body])


def ffd_name(expr):
    """The instance variable as written, blanks removed (`ctx->f_ffd`)."""
    return re.sub(r"\s+", "", expr)


def c_args(call):
    """The arguments of a call's text after `(`, split at top-level commas."""
    args, depth, cur, i, q = [], 0, "", 0, False
    while i < len(call):
        ch = call[i]
        if q:
            cur += ch
            if ch == "\\":
                cur += call[i + 1]
                i += 1
            elif ch == '"':
                q = False
        elif ch == '"':
            q, cur = True, cur + ch
        elif ch == "(":
            depth, cur = depth + 1, cur + ch
        elif ch == ")":
            if depth == 0:
                args.append(cur.strip())
                return args
            depth, cur = depth - 1, cur + ch
        elif ch == "," and depth == 0:
            args.append(cur.strip())
            cur = ""
        else:
            cur += ch
        i += 1
    return None


def literal(arg):
    arg = re.sub(r"^\(\s*char\s*\*\s*\)\s*", "", arg)
    parts = re.findall(STR, arg)
    if not parts or re.sub(STR, "", arg).strip():
        return None
    return bytes("".join(parts), "utf-8").decode("unicode_escape")


def convert(body):
    """(sections, service, verdict) or None when the test is not convertible."""
    sections, by_var, service, invalid = [], {}, [], False
    for m in re.finditer(r"(?:([\w>.-]+)\s*=\s*)?flb_(input|filter|output|service_set|input_set|"
                         r"filter_set|output_set|start)\s*\(|([\w>.-]+)\s*=\s*(\w+)\s*;", body):
        if m.group(3):  # ctx->i_ffd = i_ffd;
            if ffd_name(m.group(4)) in by_var:
                by_var[ffd_name(m.group(3))] = by_var[ffd_name(m.group(4))]
            continue
        kind = m.group(2)
        args = c_args(body[m.end():])
        if args is None:
            return None
        # the check of this call's result: before the next flb_ call
        after = body[m.end():]
        after = after[after.find(";") + 1:]
        nxt = re.search(r"\bflb_\w+\s*\(", after)
        checks_failure = bool(FAIL_CHECK.search(after[:nxt.start()] if nxt else after))
        if kind in ("input", "filter", "output"):
            name = literal(args[1]) if len(args) > 1 else None
            if name is None or not m.group(1):
                return None
            lib = name == "lib"
            name = LIB.get(kind, name) if lib else name
            if name not in SLUICE[kind]:
                return None
            sec = [kind, [("Name", name)], lib]
            sections.append(sec)
            by_var[ffd_name(m.group(1))] = sec
        elif kind == "start":
            invalid |= checks_failure
        else:
            kv = args[1:] if kind == "service_set" else args[2:]
            if not kv or kv[-1] != "NULL":
                return None
            kv = kv[:-1]
            vals = [literal(a) for a in kv]
            if any(v is None for v in vals) or len(vals) % 2:
                return None
            pairs = list(zip(vals[::2], vals[1::2]))
            if kind == "service_set":
                service += pairs
            else:
                sec = by_var.get(ffd_name(args[1]))
                if sec is None:
                    return None
                sec[1] += [kv for kv in pairs
                           if not sec[2] or kv[0].lower() in LIB_KEEP]
            invalid |= checks_failure
    if not sections:
        return None
    return sections, service, "invalid" if invalid else "valid"


def render(sections, service):
    out = []
    if service:
        out.append("[SERVICE]")
        out += ["    %s %s" % kv for kv in service]
        out.append("")
    for kind, kvs, _ in sections:
        out.append("[%s]" % HEADER[kind])
        for k, v in kvs:
            if "\n" in v or not v.strip():
                return None  # not expressible in the classic format
            out.append("    %s %s" % (k, v))
        out.append("")
    return "\n".join(out)


def main(argv):
    fb = argv[1]
    commit = subprocess.run(["git", "-C", fb, "rev-parse", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    files = []
    for src in SOURCES:
        path = os.path.join(fb, "tests", "runtime", src)
        if not os.path.exists(path):
            continue
        text = open(path, encoding="utf-8", errors="replace").read()
        seen = set()
        funcs = list(functions(text))
        helpers = {n: b for n, t, b in funcs if not t and "flb_create" in b}
        for fn, is_test, body in funcs:
            if not is_test or "flb_" not in body:
                continue
            got = convert(with_helpers(body, helpers))
            if not got:
                continue
            conf = render(got[0], got[1])
            if conf is None or conf in seen:
                continue
            seen.add(conf)
            rel = os.path.join("runtime", src[:-2], fn + ".conf")
            os.makedirs(os.path.join(HERE, os.path.dirname(rel)), exist_ok=True)
            with open(os.path.join(HERE, rel), "w", encoding="utf-8") as f:
                f.write("# From Fluent Bit tests/runtime/%s, %s() (see SOURCE.md)\n%s"
                        % (src, fn, conf))
            plugins = "; ".join("%s: %s" % (k, dict(kv)["Name"]) for k, kv, _ in got[0])
            files.append({"path": rel, "fluent_bit_path": "tests/runtime/" + src,
                          "test": fn, "format": "classic", "plugins": plugins,
                          "sluice_set": "YES", "verdict": got[2],
                          "evidence": "tests/runtime/%s: %s() %s" % (
                              src, fn, "asserts that a call fails" if got[2] == "invalid"
                              else "starts the pipeline and checks its output")})
    for src, plugins, env, evidence in VERBATIM:
        rel = os.path.join("integration", os.path.relpath(src, "tests/integration/scenarios"))
        os.makedirs(os.path.join(HERE, os.path.dirname(rel)), exist_ok=True)
        with open(os.path.join(fb, src), "rb") as i, open(os.path.join(HERE, rel), "wb") as o:
            o.write(i.read())
        files.append({"path": rel, "fluent_bit_path": src, "format": "classic",
                      "plugins": plugins, "sluice_set": "YES", "verdict": "valid",
                      "env_vars": env, "evidence": evidence})
    with open(os.path.join(HERE, "index.json"), "w", encoding="utf-8") as f:
        json.dump({"fluent_bit": {"commit": commit}, "files": files}, f, indent=1)
        f.write("\n")
    print("%d files (%d invalid)" % (len(files), sum(e["verdict"] == "invalid" for e in files)))


if __name__ == "__main__":
    main(sys.argv)
