# SPDX-License-Identifier: Apache-2.0
"""packaging/demo.sh --once on the built binary: the five fixture styles are
read and counted on /metrics, records get correlation IDs, a signed witness
event is accepted (202), a bad signature refused (403), and the accepted
event is counted. Free ports and a temporary DEMO_DIR; the script itself
checks each step and exits non-zero on the first that fails."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import prometheus_util as pu  # noqa: E402
import sluice_e2e as e2e  # noqa: E402


def main():
    e2e.require_plugins("tail", "witness", "correlate", "log_to_metrics",
                        "prometheus_exporter", "file")
    c = e2e.Checker()
    ports = set()
    while len(ports) < 3:
        ports.add(pu.free_port())
    api, metrics, witness = sorted(ports)
    with e2e.TempDir("sluice-demo-e2e-") as tmp:
        env = dict(os.environ, SLUICE_BIN=e2e.binary(), DEMO_DIR=tmp,
                   API_PORT=str(api), METRICS_PORT=str(metrics),
                   WITNESS_PORT=str(witness))
        r = subprocess.run(["bash", os.path.join(e2e.source_root(), "packaging",
                                                 "demo.sh"), "--once"],
                           env=env, capture_output=True, timeout=240,
                           start_new_session=True)
        out = (r.stdout + r.stderr).decode("utf-8", "replace")
        print(out[-3000:])
        c.equal(r.returncode, 0, "demo.sh --once exit code")
        for want in ("security_auth_failures_total", "circuit_breaker_trips_total",
                     "sluice_correlate_generated_total", '"correlation_id"',
                     "signed: 202   bad signature: 403", '"total_events":1',
                     "demo: ok"):
            c.check(want in out, "demo output shows %s" % want)
    c.finish()


if __name__ == "__main__":
    main()
