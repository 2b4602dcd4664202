# SPDX-License-Identifier: Apache-2.0
"""The syslog input as senders use it (SPEC: Fluent Bit's in_syslog
options; RFC 5424, RFC 3164 and vendor variants; RFC 6587 framing):
an RFC 5424/3164 corpus over TCP (octet-counted and newline-framed on one
connection), UDP, TLS, unix_tcp and unix_udp, with every parsed field and
the record time checked exactly; a byte-at-a-time sender; 1 MB messages
kept and larger ones counted as oversize without losing the next ones;
garbage kept as {"log": ...} and counted; Parser naming a [PARSER];
Raw_Message_Key;
Max_Connections; 20000 messages over TCP into a small Mem_Buf_Limit with
none lost; and datagrams the kernel drops while sluice is stopped counted
in sluice_syslog_udp_dropped_total so that received + dropped = sent."""
import calendar
import datetime
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sluice_e2e as e2e  # noqa: E402

NS = 1_000_000_000


def utc_ns(y, mo, d, h=0, mi=0, s=0, frac_ns=0):
    return calendar.timegm((y, mo, d, h, mi, s)) * NS + frac_ns


def yearless_ns(mo, d, h, mi, s, frac_ns=0):
    """The input's rule: this year, unless that is more than 31 days
    ahead of now (then last year)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    y = now.year
    t = utc_ns(y, mo, d, h, mi, s, frac_ns)
    if t > time.time_ns() + 31 * 86400 * NS:
        t = utc_ns(y - 1, mo, d, h, mi, s, frac_ns)
    return t


# (message bytes, parsed fields, record time in ns or None for "now")
CORPUS = [
    # RFC 5424 section 6.5, examples 1-4
    (b"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - "
     b"\xef\xbb\xbf'su root' failed for lonvick on /dev/pts/8",
     {"pri": "34", "time": "2003-10-11T22:14:15.003Z",
      "host": "mymachine.example.com", "ident": "su", "pid": "-",
      "msgid": "ID47", "extradata": "-",
      "message": "'su root' failed for lonvick on /dev/pts/8"},
     utc_ns(2003, 10, 11, 22, 14, 15, 3_000_000)),
    (b"<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - "
     b"%% It's time to make the do-nuts.",
     {"pri": "165", "time": "2003-08-24T05:14:15.000003-07:00",
      "host": "192.0.2.1", "ident": "myproc", "pid": "8710", "msgid": "-",
      "extradata": "-", "message": "%% It's time to make the do-nuts."},
     utc_ns(2003, 8, 24, 12, 14, 15, 3000)),
    (b'<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - '
     b'ID47 [exampleSDID@32473 iut="3" eventSource="Application" '
     b'eventID="1011"] \xef\xbb\xbfAn application event log entry...',
     {"pri": "165", "time": "2003-10-11T22:14:15.003Z",
      "host": "mymachine.example.com", "ident": "evntslog", "pid": "-",
      "msgid": "ID47",
      "extradata": '[exampleSDID@32473 iut="3" eventSource="Application" '
                   'eventID="1011"]',
      "sd": {"exampleSDID@32473": {"iut": "3", "eventSource": "Application",
                                   "eventID": "1011"}},
      "message": "An application event log entry..."},
     utc_ns(2003, 10, 11, 22, 14, 15, 3_000_000)),
    (b'<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - '
     b'ID47 [exampleSDID@32473 iut="3" eventSource="Application" '
     b'eventID="1011"][examplePriority@32473 class="high"]',
     {"pri": "165", "time": "2003-10-11T22:14:15.003Z",
      "host": "mymachine.example.com", "ident": "evntslog", "pid": "-",
      "msgid": "ID47",
      "extradata": '[exampleSDID@32473 iut="3" eventSource="Application" '
                   'eventID="1011"][examplePriority@32473 class="high"]',
      "sd": {"exampleSDID@32473": {"iut": "3", "eventSource": "Application",
                                   "eventID": "1011"},
             "examplePriority@32473": {"class": "high"}}},
     utc_ns(2003, 10, 11, 22, 14, 15, 3_000_000)),
    # escapes in PARAM-VALUE (RFC 5424 6.3.3)
    (b'<14>1 2024-05-06T07:08:09Z fw01 audit 77 login [auth@1 user="a\\"b" '
     b'path="c:\\\\x\\]" raw="q\\z"] ok',
     {"pri": "14", "time": "2024-05-06T07:08:09Z", "host": "fw01",
      "ident": "audit", "pid": "77", "msgid": "login",
      "extradata": '[auth@1 user="a\\"b" path="c:\\\\x\\]" raw="q\\z"]',
      "sd": {"auth@1": {"user": 'a"b', "path": "c:\\x]", "raw": "q\\z"}},
      "message": "ok"},
     utc_ns(2024, 5, 6, 7, 8, 9)),
    # Juniper: Junos OS System Log Messages Reference, "Interpreting
    # Messages Generated in Structured-Data Format" (the message built from
    # the example values of its field table)
    (b'<165>1 2007-02-15T09:17:15.719Z router1 mgd 3046 '
     b'UI_DBASE_LOGOUT_EVENT [junos@2636.1.1.1.2.18 username="regress"] '
     b"User 'regress' exiting configuration mode",
     {"pri": "165", "time": "2007-02-15T09:17:15.719Z", "host": "router1",
      "ident": "mgd", "pid": "3046", "msgid": "UI_DBASE_LOGOUT_EVENT",
      "extradata": '[junos@2636.1.1.1.2.18 username="regress"]',
      "sd": {"junos@2636.1.1.1.2.18": {"username": "regress"}},
      "message": "User 'regress' exiting configuration mode"},
     utc_ns(2007, 2, 15, 9, 17, 15, 719_000_000)),
    # RFC 3164 section 5.4 examples
    (b"<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on "
     b"/dev/pts/8",
     {"pri": "34", "time": "Oct 11 22:14:15", "host": "mymachine",
      "ident": "su", "message": "'su root' failed for lonvick on /dev/pts/8"},
     yearless_ns(10, 11, 22, 14, 15)),
    (b"<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!",
     {"pri": "13", "time": "Feb  5 17:32:18", "host": "10.0.0.99",
      "ident": "Use", "message": "the BFG!"},
     yearless_ns(2, 5, 17, 32, 18)),
    # no hostname, tag with pid (what /dev/log senders write)
    (b"<86>Jun  1 10:00:00 sudo[77]: alice : TTY=pts/0 ; COMMAND=/bin/ls",
     {"pri": "86", "time": "Jun  1 10:00:00", "ident": "sudo", "pid": "77",
      "message": "alice : TTY=pts/0 ; COMMAND=/bin/ls"},
     yearless_ns(6, 1, 10, 0, 0)),
    # <PRI> only
    (b"<13>no header at all",
     {"pri": "13", "message": "no header at all"}, None),
    # Cisco: sequence number, '*', milliseconds (service sequence-numbers,
    # service timestamps log datetime msec)
    (b"<189>52: *Mar  1 18:46:11.123: %SYS-5-CONFIG_I: Configured from "
     b"console by vty0",
     {"pri": "189", "seq": "52", "time": "Mar  1 18:46:11.123",
      "message": "%SYS-5-CONFIG_I: Configured from console by vty0"},
     yearless_ns(3, 1, 18, 46, 11, 123_000_000)),
    # Cisco IE 3000 Switch Software Configuration Guide (OL-13018-03),
    # "System Log Message Format" example, with its <PRI> added
    (b"<189>*Mar 1 18:48:50.483 UTC: %SYS-5-CONFIG_I: Configured from "
     b"console by vty2 (10.34.195.36)",
     {"pri": "189", "time": "Mar 1 18:48:50.483 UTC",
      "message": "%SYS-5-CONFIG_I: Configured from console by vty2 "
                 "(10.34.195.36)"},
     yearless_ns(3, 1, 18, 48, 50, 483_000_000)),
    # ISO timestamp in a BSD-style message (rsyslog RFC3339 templates)
    (b"<30>2024-01-02T03:04:05.678+01:00 web1 nginx[9]: GET / 200",
     {"pri": "30", "time": "2024-01-02T03:04:05.678+01:00", "host": "web1",
      "ident": "nginx", "pid": "9", "message": "GET / 200"},
     utc_ns(2024, 1, 2, 2, 4, 5, 678_000_000)),
    # a year after the day
    (b"<190>Mar  1 2024 18:46:11: %LINK-3-UPDOWN: Interface up",
     {"pri": "190", "time": "Mar  1 2024 18:46:11",
      "message": "%LINK-3-UPDOWN: Interface up"},
     utc_ns(2024, 3, 1, 18, 46, 11)),
    # invalid UTF-8: repaired (and counted)
    (b"<13>1 2024-01-01T00:00:00Z h app - - - bad \xc0\xaf byte \xff",
     {"pri": "13", "time": "2024-01-01T00:00:00Z", "host": "h",
      "ident": "app", "pid": "-", "msgid": "-", "extradata": "-",
      "message": "bad \ufffd\ufffd byte \ufffd"},
     utc_ns(2024, 1, 1)),
]
N_REPAIRED = 1


def octet(msg):
    return b"%d %s" % (len(msg), msg)


def by_tag(path):
    out = {}
    try:
        for tag, ts, rec in e2e.read_out_file(path):
            out.setdefault(tag, []).append((ts, rec))
    except FileNotFoundError:
        pass
    return out


def start(tmp, name, text, wait):
    conf = e2e.write(os.path.join(tmp, name + ".conf"), text)
    log = open(os.path.join(tmp, name + ".log"), "wb")
    p = subprocess.Popen([e2e.binary(), "-c", conf], stdout=log,
                         stderr=subprocess.STDOUT)
    for port in wait:
        e2e.wait_port(port, p, timeout=30)
    return p, log


def stop(c, p, log, what):
    """SIGTERM; sluice must exit 0 (under ASan: no leak, no error)."""
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = p.wait()
    log.close()
    if not c.equal(rc, 0, what + ": sluice exits 0"):
        with open(log.name, "rb") as f:
            print(f.read()[-3000:].decode("utf-8", "replace"))


def check_corpus(c, what, got, strip=()):
    """got: [(ts, rec)] in any order; each corpus entry exactly once."""
    c.equal(len(got), len(CORPUS), what + ": one record per message")
    for msg, want, ts in CORPUS:
        match = [(t, r) for t, r in got
                 if {k: v for k, v in r.items() if k not in strip}
                 == {k: v for k, v in want.items() if k not in strip}]
        if not c.check(len(match) == 1, "%s: %r parsed as %r (records: %r)"
                       % (what, msg[:60], want, [r for _, r in got][:3])):
            continue
        if ts is not None:
            c.equal(match[0][0], ts, "%s: time of %r" % (what, msg[:40]))


def send_tcp(port, data, step=None):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if step:
        for i in range(0, len(data), step):
            s.sendall(data[i:i + step])
    else:
        s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    s.settimeout(30)
    try:
        s.recv(1)  # the input closes when it has read everything
    except OSError:
        pass
    s.close()


def wait_records(path, tag, n, timeout=60):
    return e2e.wait_for(lambda: len(by_tag(path).get(tag, [])) >= n,
                        timeout, what="%d %s records" % (n, tag))


def test_main(c, tmp):
    crt, key = os.path.join(tmp, "c.pem"), os.path.join(tmp, "k.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", key, "-out", crt, "-days", "1",
                    "-subj", "/CN=localhost"], check=True, capture_output=True)
    http, tcp, udp, tls, prs, cap = (e2e.free_port() for _ in range(6))
    ux_stream = os.path.join(tmp, "stream.sock")
    ux_dgram = os.path.join(tmp, "dgram.sock")
    out = os.path.join(tmp, "out")
    os.mkdir(out)
    path = os.path.join(out, "all")
    parsers = e2e.parsers_file(os.path.join(tmp, "parsers.conf"), [{
        # Fluent Bit's conf/parsers.conf syslog-rfc5424
        "Name": "syslog-rfc5424", "Format": "regex",
        "Regex": r"^\<(?<pri>[0-9]{1,5})\>1 (?<time>[^ ]+) (?<host>[^ ]+) "
                 r"(?<ident>[^ ]+) (?<pid>[-0-9]+) (?<msgid>[^ ]+) "
                 r"(?<extradata>(\[(.*?)\]|-)) (?<message>.+)$",
        "Time_Key": "time", "Time_Format": "%Y-%m-%dT%H:%M:%S.%L%z",
        "Time_Keep": "On"}])
    common = {"Listen": "127.0.0.1", "Structured_Data_Key": "sd"}
    text = (e2e.section("SERVICE", Flush="0.2", Grace="5", Log_Level="info",
                        Parsers_File=parsers, HTTP_Server="On",
                        HTTP_Listen="127.0.0.1", HTTP_Port=http)
            + e2e.section("INPUT", Name="syslog", Alias="tcp", Mode="tcp",
                          Port=tcp, Tag="tcp", Buffer_Max_Size="2M",
                          Source_Address_Key="src", **common)
            + e2e.section("INPUT", Name="syslog", Alias="udp", Mode="udp",
                          Port=udp, Tag="udp", Source_Address_Key="src",
                          **common)
            + e2e.section("INPUT", Name="syslog", Alias="tls", Mode="tcp",
                          Port=tls, Tag="tls", tls="On",
                          **{"tls.crt_file": crt, "tls.key_file": key},
                          **common)
            + e2e.section("INPUT", Name="syslog", Alias="uxs",
                          Mode="unix_tcp", Path=ux_stream, Unix_Perm="0600",
                          Tag="uxs", Source_Address_Key="src",
                          Structured_Data_Key="sd")
            + e2e.section("INPUT", Name="syslog", Alias="uxd",
                          Mode="unix_udp", Path=ux_dgram, Tag="uxd",
                          Structured_Data_Key="sd")
            + e2e.section("INPUT", Name="syslog", Alias="prs", Mode="tcp",
                          Listen="127.0.0.1", Port=prs, Tag="prs",
                          Parser="syslog-rfc5424", Raw_Message_Key="raw")
            + e2e.section("INPUT", Name="syslog", Alias="cap", Mode="tcp",
                          Listen="127.0.0.1", Port=cap, Tag="cap",
                          Max_Connections="2")
            + e2e.section("OUTPUT", Name="file", Match="*", Path=out,
                          File="all"))
    p, log = start(tmp, "main", text, [http, tcp, tls, prs, cap])
    try:
        e2e.wait_for(lambda: os.path.exists(ux_stream)
                     and os.path.exists(ux_dgram), 30, what="unix sockets")
        c.equal(oct(os.stat(ux_stream).st_mode & 0o777), "0o600",
                "Unix_Perm 0600 on the socket file")

        # TCP: octet counting and newline framing (LF, CRLF, NUL) mixed on
        # one connection, as RFC 6587 lets a sender do
        data = b""
        for i, (msg, _, _) in enumerate(CORPUS):
            data += octet(msg) if i % 2 == 0 else msg + [b"\n", b"\r\n",
                                                         b"\0"][i % 3]
        send_tcp(tcp, data)
        wait_records(path, "tcp", len(CORPUS))
        got = by_tag(path)["tcp"]
        c.check(all(r.get("src", "").startswith("tcp://127.0.0.1:")
                    for _, r in got), "tcp: Source_Address_Key is tcp://IP:PORT")
        check_corpus(c, "tcp", got, strip=("src",))

        # byte-at-a-time sender: the same messages
        send_tcp(tcp, data, step=1)
        wait_records(path, "tcp", 2 * len(CORPUS))
        check_corpus(c, "tcp slow", by_tag(path)["tcp"][len(CORPUS):],
                     strip=("src",))

        # UDP: one message per datagram
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for msg, _, _ in CORPUS:
            u.sendto(msg + b"\n", ("127.0.0.1", udp))
        wait_records(path, "udp", len(CORPUS))
        got = by_tag(path)["udp"]
        c.check(all(r.get("src", "").startswith("udp://127.0.0.1:")
                    for _, r in got), "udp: Source_Address_Key is udp://IP:PORT")
        check_corpus(c, "udp", got, strip=("src",))

        # TLS
        ctx = ssl.create_default_context(cafile=crt)
        ctx.check_hostname = False
        raw = socket.create_connection(("127.0.0.1", tls), timeout=30)
        s = ctx.wrap_socket(raw, server_hostname="localhost")
        c.check(s.version() in ("TLSv1.2", "TLSv1.3"), "tls: TLS 1.2+")
        for i, (msg, _, _) in enumerate(CORPUS):
            s.sendall(octet(msg) if i % 2 else msg + b"\n")
        wait_records(path, "tls", len(CORPUS))
        s.close()
        check_corpus(c, "tls", by_tag(path)["tls"])

        # unix_tcp and unix_udp
        us = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        us.connect(ux_stream)
        us.sendall(b"".join(octet(m) for m, _, _ in CORPUS))
        us.close()
        wait_records(path, "uxs", len(CORPUS))
        got = by_tag(path)["uxs"]
        c.check(all(r.get("src") == "unix://" + ux_stream for _, r in got),
                "unix_tcp: Source_Address_Key is unix://PATH")
        check_corpus(c, "unix_tcp", got, strip=("src",))
        ud = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        for msg, _, _ in CORPUS:
            ud.sendto(msg, ux_dgram)
        wait_records(path, "uxd", len(CORPUS))
        check_corpus(c, "unix_udp", by_tag(path)["uxd"])

        # Parser: a [PARSER] instead of the built-in one
        send_tcp(prs, b"<34>1 2003-10-11T22:14:15.003Z mymachine su 12 ID47 "
                      b"- hello there\n")
        wait_records(path, "prs", 1)
        ts, rec = by_tag(path)["prs"][0]
        c.equal(rec, {"pri": "34", "time": "2003-10-11T22:14:15.003Z",
                      "host": "mymachine", "ident": "su", "pid": "12",
                      "msgid": "ID47", "extradata": "-",
                      "message": "hello there",
                      "raw": "<34>1 2003-10-11T22:14:15.003Z mymachine su 12 "
                             "ID47 - hello there"},
                "Parser: the regex's fields, Raw_Message_Key the message")
        c.equal(ts, utc_ns(2003, 10, 11, 22, 14, 15, 3_000_000),
                "Parser: Time_Key sets the time")

        # 1 MB messages kept, 3 MB ones skipped and counted, and the
        # messages after them on the same connection still arrive
        big = b"<13>1 - big app - - - " + b"m" * (1 << 20)
        huge = b"<13>1 - huge app - - - " + b"h" * (3 << 20)
        send_tcp(tcp, octet(big) + big + b"\n" + octet(huge)
                 + b"<13>after octet oversize\n" + huge + b"\n"
                 + b"<13>after line oversize\n", step=65536)
        n0 = 2 * len(CORPUS)
        wait_records(path, "tcp", n0 + 4)
        got = [r for _, r in by_tag(path)["tcp"][n0:]]
        c.equal([len(r.get("message", "")) for r in got[:2]],
                [1 << 20, 1 << 20], "1 MB messages kept whole (both framings)")
        c.equal([r.get("message") for r in got[2:]],
                ["after octet oversize", "after line oversize"],
                "messages after oversize ones kept")
        c.equal(e2e.metric_value(http, "sluice_syslog_oversize_total",
                                 {"name": "tcp"}), 2.0,
                "oversize messages counted")
        # a datagram over Buffer_Max_Size (32K default)
        u.sendto(b"<13>" + b"u" * 40000, ("127.0.0.1", udp))
        u.sendto(b"<13>after big datagram", ("127.0.0.1", udp))
        wait_records(path, "udp", len(CORPUS) + 1)
        c.equal(by_tag(path)["udp"][-1][1].get("message"), "after big datagram",
                "udp: the datagram after an oversize one")
        e2e.wait_for(lambda: e2e.metric_value(
            http, "sluice_syslog_oversize_total", {"name": "udp"}) == 1.0,
            30, what="udp oversize counted")

        # garbage: kept as {"log": ...} and counted, never a crash
        garbage = [b"not syslog", b"<999>too big a pri", b"\x01\x02\x03",
                   b"<12", b"12345678901234567890 digits"]
        send_tcp(tcp, b"\n".join(garbage) + b"\n" + bytes(range(256))
                 + b"\n<13>after garbage\n")
        wait_records(path, "tcp", n0 + 4 + len(garbage) + 3)
        got = [r for _, r in by_tag(path)["tcp"][n0 + 4:]]
        c.equal([r.get("log") for r in got[:len(garbage)]],
                [g.decode() for g in garbage], "garbage kept as log")
        c.equal(got[-1].get("message"), "after garbage",
                "a message after garbage")
        c.check(p.poll() is None, "sluice still running after garbage")
        perr = e2e.metric_value(http, "sluice_input_parse_errors_total",
                                {"name": "tcp"})
        c.check(perr is not None and perr >= len(garbage),
                "garbage counted as parse errors: %r" % perr)
        rep = e2e.metric_value(http, "sluice_input_repaired_records_total",
                               {"name": "tcp"})
        c.check(rep is not None and rep >= 2 * N_REPAIRED,
                "invalid UTF-8 counted as repaired: %r" % rep)

        # Max_Connections 2: a third connection is closed at once
        a = socket.create_connection(("127.0.0.1", cap), timeout=30)
        b = socket.create_connection(("127.0.0.1", cap), timeout=30)
        a.sendall(b"<13>from a\n")
        b.sendall(b"<13>from b\n")
        wait_records(path, "cap", 2)
        x = socket.create_connection(("127.0.0.1", cap), timeout=30)
        try:
            closed = x.recv(1) == b""
        except OSError:
            closed = True
        c.check(closed, "third connection closed over Max_Connections")
        c.equal(e2e.metric_value(http, "sluice_syslog_connections_refused_total",
                                 {"name": "cap"}), 1.0,
                "refused connection counted")
        for s_ in (a, b, x):
            s_.close()
    finally:
        stop(c, p, log, "main")


def test_tcp_nothing_lost(c, tmp):
    """20000 messages over TCP while the input pauses at a small
    Mem_Buf_Limit: every one is in the file, each once."""
    http, port = e2e.free_port(), e2e.free_port()
    out = os.path.join(tmp, "out_lost")
    os.mkdir(out)
    path = os.path.join(out, "all")
    # Flush 5: only the budget seals chunks early, so the input pauses
    text = (e2e.section("SERVICE", Flush="5", Grace="5", Log_Level="debug",
                        HTTP_Server="On", HTTP_Listen="127.0.0.1",
                        HTTP_Port=http)
            + e2e.section("INPUT", Name="syslog", Alias="bp", Mode="tcp",
                          Listen="127.0.0.1", Port=port, Tag="t",
                          Mem_Buf_Limit="64K")
            + e2e.section("OUTPUT", Name="file", Match="*", Path=out,
                          File="all", Format="plain"))
    p, log = start(tmp, "lost", text, [http, port])
    n = 20000
    try:
        data = b"".join(octet(b"<13>1 2024-01-01T00:00:00Z h app - - - n=%d"
                              % i) if i % 2 else
                        b"<13>Jan  1 00:00:00 h app: n=%d\n" % i
                        for i in range(n))
        send_tcp(port, data, step=4096)
        e2e.wait_for(lambda: e2e.count_lines(path) >= n, 120,
                     what="%d records" % n)
        seen = [json.loads(l)["message"] for l in e2e.complete_lines(path)]
        c.equal(len(seen), n, "every TCP message in the file")
        c.equal(sorted(seen, key=lambda s: int(s[2:])),
                ["n=%d" % i for i in range(n)], "each exactly once")
    finally:
        stop(c, p, log, "nothing lost")
    with open(os.path.join(tmp, "lost.log"), "rb") as f:
        c.check(b"[bp] paused:" in f.read(),
                "the input paused at Mem_Buf_Limit (back-pressure exercised)")


def proc_udp_drops(port):
    """The drops column of /proc/net/udp for the socket bound to port."""
    with open("/proc/net/udp") as f:
        for line in f.readlines()[1:]:
            parts = line.split()
            if int(parts[1].split(":")[1], 16) == port:
                return int(parts[-1])
    return None


def test_udp_drops_counted(c, tmp):
    """Datagrams sent while sluice is stopped overflow a small socket
    buffer; the kernel's drops are exported, so received + dropped = sent."""
    http, port = e2e.free_port(), e2e.free_port()
    out = os.path.join(tmp, "out_drop")
    os.mkdir(out)
    path = os.path.join(out, "all")
    text = (e2e.section("SERVICE", Flush="0.2", Grace="5", Log_Level="warn",
                        HTTP_Server="On", HTTP_Listen="127.0.0.1",
                        HTTP_Port=http)
            + e2e.section("INPUT", Name="syslog", Mode="udp",
                          Listen="127.0.0.1", Port=port, Tag="u",
                          Receive_Buffer_Size="8K")
            + e2e.section("OUTPUT", Name="file", Match="*", Path=out,
                          File="all", Format="plain"))
    p, log = start(tmp, "drop", text, [http])
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sent = 0
    try:
        e2e.wait_for(lambda: proc_udp_drops(port) is not None, 30,
                     what="udp socket bound")
        os.kill(p.pid, signal.SIGSTOP)
        try:
            for i in range(2000):
                u.sendto(b"<13>Jan  1 00:00:00 h app: n=%d" % i,
                         ("127.0.0.1", port))
                sent += 1
                if i % 50 == 0:
                    time.sleep(0.001)  # pace: drops at the socket only
        finally:
            os.kill(p.pid, signal.SIGCONT)
        kernel = proc_udp_drops(port)
        c.check(kernel and kernel > 0, "the kernel dropped datagrams: %r"
                % kernel)

        def settled():
            got = e2e.count_lines(path)
            dropped = e2e.metric_value(http, "sluice_syslog_udp_dropped_total")
            return dropped is not None and got + dropped == sent and \
                (got, dropped)

        def report(what):
            try:
                got, dropped = e2e.wait_for(settled, 60, what=what)
            except TimeoutError:
                got, dropped = e2e.count_lines(path), e2e.metric_value(
                    http, "sluice_syslog_udp_dropped_total")
            c.equal(got + (dropped or 0), sent, "%s: received + dropped = "
                    "sent (received %d, dropped %r)" % (what, got, dropped))
            c.equal(dropped, float(proc_udp_drops(port)),
                    "%s: the metric is the kernel's count" % what)
        # no datagram follows the drops: seen in /proc/net/udp
        report("after the burst")
        # and a datagram after them carries the count (SO_RXQ_OVFL)
        u.sendto(b"<13>Jan  1 00:00:00 h app: last", ("127.0.0.1", port))
        sent += 1
        report("after one more")
    finally:
        stop(c, p, log, "udp drops")


def test_config_errors(c, tmp):
    """Bad options are FILE:LINE errors at start-up."""
    cases = [({"Mode": "sctp"}, "Mode must be"),
             ({"Mode": "unix_udp"}, "needs Path"),
             ({"Mode": "udp", "tls": "On", "tls.crt_file": "/x",
               "tls.key_file": "/y"}, "tls needs Mode tcp"),
             ({"Mode": "tcp", "Parser": "nope"}, "Parser 'nope'"),
             ({"Mode": "tcp", "Unix_Perm": "9z"}, "Unix_Perm")]
    for i, (opts, want) in enumerate(cases):
        conf = e2e.write(os.path.join(tmp, "bad%d.conf" % i),
                         e2e.section("INPUT", Name="syslog", Port="0", **opts)
                         + e2e.section("OUTPUT", Name="null", Match="*"))
        r = e2e.run_to_exit(["-c", conf, "--dry-run"], timeout=60)
        c.check(r.rc != 0 and want in r.log() and "bad%d.conf:" % i in r.log(),
                "config error %r: rc %d, %s" % (opts, r.rc, r.log()[-300:]))


def main():
    e2e.require_plugins("syslog", "file")
    c = e2e.Checker()
    with e2e.TempDir("sluice_syslog_") as tmp:
        test_config_errors(c, tmp)
        test_main(c, tmp)
        test_tcp_nothing_lost(c, tmp)
        test_udp_drops_counted(c, tmp)
    c.finish()


if __name__ == "__main__":
    main()
