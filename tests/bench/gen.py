#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Deterministic benchmark data: JSON lines in the five fixture styles.

Records come from the fixture generator (tests/e2e/fixtures/gen_fixtures.py),
the five styles interleaved round-robin, each with Kubernetes-like metadata
added so that lines average ~350 bytes, as container logs do. The same seed
and size always give the same bytes; an existing file with a matching
.meta is reused.

usage: gen.py [--lines N] [--seed N] [--out PATH]
"""
import argparse
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.join(HERE, "..", "e2e", "fixtures"))
import gen_fixtures  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", default=os.path.join(HERE, "data", "bench.log"))
    a = ap.parse_args()
    meta = "%s.meta" % a.out
    want = json.dumps({"lines": a.lines, "seed": a.seed, "version": 1})
    if os.path.exists(a.out) and os.path.exists(meta) and open(meta).read() == want:
        print("reusing %s" % a.out)
        return
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    per = (a.lines + len(gen_fixtures.SYSTEMS) - 1) // len(gen_fixtures.SYSTEMS)
    gens = []
    for k, (name, fn) in enumerate(gen_fixtures.SYSTEMS.items()):
        gens.append((name, fn(random.Random(a.seed * 1000 + k), per, gen_fixtures.Tally())))
    rng = random.Random(a.seed)
    n = size = 0
    tmp = a.out + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        while n < a.lines:
            for name, g in gens:
                if n == a.lines:
                    break
                rec = next(g)
                rec["host"] = "node-%02d.prod.internal" % rng.randrange(40)
                rec["kubernetes"] = {
                    "namespace_name": "agents-prod",
                    "pod_name": "%s-%x-%05x" % (name, rng.getrandbits(36), rng.getrandbits(20)),
                    "container_name": name,
                }
                line = json.dumps(rec, separators=(",", ":")) + "\n"
                f.write(line)
                size += len(line)
                n += 1
    os.replace(tmp, a.out)
    with open(meta, "w") as f:
        f.write(want)
    print("wrote %s: %d lines, %.1f MB, %.0f bytes/line" % (a.out, n, size / 1e6, size / n))


if __name__ == "__main__":
    main()
