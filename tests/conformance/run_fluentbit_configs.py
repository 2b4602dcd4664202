#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Runs Fluent Bit's own configuration files through `sluice --dry-run`.

Reads fluent-bit/index.json (next to this script), keeps the files whose
format is in FORMATS, whose plugins are all in sluice's set (sluice_set
"YES...") or that name no plugin ("—", parsers/include/upstream files), and
whose verdict is valid, invalid or grammar-valid-rejected-later (Fluent Bit
parses it but refuses it at load or start: counted as invalid here). A
valid file must exit 0 and print
"configuration test is successful"; an invalid one must exit 1 with at least
one "FILE:LINE: message" (or "FILE: message") line on stderr naming an
existing file. Parsers files (index: "as parsers file, -R") are given with
-R, every other file with -c.

Usage: run_fluentbit_configs.py PATH/TO/sluice [-v] [--corpus NAME]
Standard library only. Exits 0 when every selected file behaves, 1 otherwise.
"""

import json
import os
import re
import socket
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
# --corpus NAME picks another folder next to this script with the same
# index.json shape (fluent-bit-extra: configs from Fluent Bit's C tests)
CORPUS = os.path.join(HERE, "fluent-bit")

FORMATS = ("classic", "yaml")

# Fluent Bit features sluice does not have, on purpose or not yet. A VALID
# file that uses one passes only if sluice refuses it with every error line
# naming such a feature: a config is never run with part of it ignored.
UNSUPPORTED = (
    ("Kafka avro (a Fluent Bit build option)",
     "needs Fluent Bit's optional Avro encoder build (FLB_AVRO_ENCODER)"),
    ("in_http OAuth2 JWT validation", "unknown option 'oauth2."),
    ("out_http GELF format", "format 'gelf' is not supported"),
)
# "grammar-valid-rejected-later": Fluent Bit parses the file but refuses it
# when it loads or starts it (a bad per-plugin log_level, say); a dry run
# must refuse it as an invalid file.
VERDICTS = ("valid", "invalid", "grammar-valid-rejected-later")
REJECTED = ("invalid", "grammar-valid-rejected-later")
TIMEOUT = 30
SUCCESS = "configuration test is successful"

# "FILE:LINE: message" or "FILE: message" (FILE without blanks).
DIAG_RE = re.compile(r"^(?P<file>[^\s:][^\s:]*):(?:(?P<line>\d+):)? \S")


def selected(entry):
    return (entry.get("format") in FORMATS
            and entry.get("verdict") in VERDICTS
            and (entry.get("sluice_set", "").startswith("YES")
                 or entry.get("sluice_set", "").startswith("\u2014")))


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return str(s.getsockname()[1])


def parsers_file_for(config_path):
    """The parsers file a test config means by ${PARSERS_FILE_TEST}."""
    folder = os.path.dirname(config_path)
    for name in sorted(os.listdir(folder)):
        if name.startswith("parsers") and name != os.path.basename(config_path):
            return os.path.join(folder, name)
    return os.path.join(CORPUS, "conf", "parsers.conf")


def env_value(name, config_path, tmp):
    """A plausible value for one ${VAR} a config uses."""
    upper = name.upper()
    if upper == "FLB_ROOT":
        return CORPUS
    if "PARSERS_FILE" in upper:
        return parsers_file_for(config_path)
    if "PORT" in upper:
        return free_port()
    if upper.endswith("_DIR") or upper == "TEST_DIR":
        path = os.path.join(tmp, name.lower())
        os.makedirs(path, exist_ok=True)
        return path
    if any(w in upper for w in ("PATH", "FILE", "DB", "SOCKET", "CERT",
                                "KEY_TEST")):
        return os.path.join(tmp, name.lower())
    if "HOST" in upper:
        return "127.0.0.1"
    if "SIZE" in upper:
        return "10M"
    if "INTERVAL" in upper:
        return "1"
    return "sluice-test"


def has_location(stderr):
    for line in stderr.splitlines():
        m = DIAG_RE.match(line.strip())
        if m and os.path.exists(m.group("file")):
            return True
    return False


def unsupported_features(err):
    """The UNSUPPORTED features named when every error line names one."""
    lines = [ln for ln in err.splitlines()
             if ln.strip() and "included from here" not in ln
             and "] [warn] [" not in ln]
    found = []
    for ln in lines:
        hit = [name for name, text in UNSUPPORTED if text in ln]
        if not hit:
            return []
        found += [h for h in hit if h not in found]
    return found


def run_one(sluice, entry, tmp):
    path = os.path.join(CORPUS, entry["path"])
    as_parsers = "as parsers file" in (entry.get("dry_run_5_1_1") or "")
    flag = "-R" if as_parsers else "-c"
    env = dict(os.environ)
    for var in entry.get("env_vars") or []:
        env[var] = env_value(var, path, tmp)
    env["FLB_ROOT"] = CORPUS
    cwd = tempfile.mkdtemp(dir=tmp)  # an empty working folder, as upstream
    try:
        proc = subprocess.run([sluice, "--dry-run", flag, path], cwd=cwd,
                              env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True,
                              errors="replace", timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return False, "timed out after %ds" % TIMEOUT, ""
    out, err = proc.stdout, proc.stderr
    if entry["verdict"] not in REJECTED:
        if proc.returncode == 1:
            features = unsupported_features(err)
            if features:
                return True, "refused, unsupported: " + ", ".join(features), err
        if proc.returncode != 0:
            return False, "exit %d, expected 0" % proc.returncode, err
        if SUCCESS not in out:
            return False, "no '%s' on stdout" % SUCCESS, err
        return True, "ok", err
    if proc.returncode != 1:
        return False, "exit %d, expected 1" % proc.returncode, err
    if not has_location(err):
        return False, "no FILE:LINE: message on stderr", err
    return True, "rejected", err


def main(argv):
    if len(argv) < 2:
        print("usage: %s PATH/TO/sluice [-v] [--corpus NAME]" % argv[0], file=sys.stderr)
        return 2
    global CORPUS
    sluice = os.path.abspath(argv[1])
    verbose = "-v" in argv[2:]
    if "--corpus" in argv[2:]:
        CORPUS = os.path.join(HERE, argv[argv.index("--corpus") + 1])
    INDEX = os.path.join(CORPUS, "index.json")
    if not os.access(sluice, os.X_OK):
        print("sluice binary not found: %s" % sluice, file=sys.stderr)
        return 1
    with open(INDEX, encoding="utf-8") as f:
        index = json.load(f)
    entries = [e for e in index["files"] if selected(e)]
    passed = failed = refused = 0
    tally = {"valid": [0, 0], "invalid": [0, 0]}  # verdict: [passed, total]
    with tempfile.TemporaryDirectory(prefix="sluice-conformance.") as tmp:
        for entry in entries:
            ok, why, err = run_one(sluice, entry, tmp)
            mode = "parsers" if "as parsers file" in (
                entry.get("dry_run_5_1_1") or "") else "main"
            print("%s %-7s %-7s %s: %s" % ("PASS" if ok else "FAIL",
                                            "invalid" if entry["verdict"] in REJECTED
                                            else entry["verdict"], mode,
                                            entry["path"], why))
            if (not ok or verbose) and err.strip():
                for line in err.strip().splitlines()[:5]:
                    print("    | " + line)
            kind = "invalid" if entry["verdict"] in REJECTED else "valid"
            tally[kind][1] += 1
            tally[kind][0] += 1 if ok else 0
            if ok and why.startswith("refused"):
                refused += 1
            elif ok:
                passed += 1
            else:
                failed += 1
    print("%d passed, %d failed (%d files selected, formats: %s; %d valid "
          "files refused for unsupported features)"
          % (passed + refused, failed, len(entries), ", ".join(FORMATS),
             refused))
    print("valid files accepted (or refused for an unsupported feature): "
          "%d/%d; invalid files rejected: %d/%d"
          % (tally["valid"][0], tally["valid"][1], tally["invalid"][0],
             tally["invalid"][1]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
