# SPDX-License-Identifier: Apache-2.0
"""A Forward protocol v1 peer written from the specification (Fluentd's
"Forward Protocol Specification v1"), for sluice's forward tests: a client
that sends every mode (Message, Forward, PackedForward,
CompressedPackedForward), with or without the shared-key handshake, and a
Fluent-Bit-style receiver that records what a sender sent (modes, the
options map, EventTime, the handshake) and answers acks.

Needs Debian's python3-msgpack: `import forward_peer` re-runs the calling
script under /usr/bin/python3 when the first python3 on PATH lacks it."""
import gzip
import hashlib
import os
import socket
import struct
import sys
import threading
import time

try:
    import msgpack
except ImportError:  # a python3 first on PATH without Debian's modules
    if sys.executable != "/usr/bin/python3" and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise


def event_time(ts_ns):
    """EventTime: ext type 0, uint32 seconds and nanoseconds, big endian."""
    return msgpack.ExtType(0, struct.pack(">II", ts_ns // 10**9, ts_ns % 10**9))


def time_ns(t):
    """An entry's time in nanoseconds, whatever form the sender chose."""
    if isinstance(t, msgpack.ExtType):
        s, ns = struct.unpack(">II", t.data)
        return s * 10**9 + ns
    if isinstance(t, float):
        return int(round(t * 1e9))
    return int(t) * 10**9


def sha512_hex(*parts):
    h = hashlib.sha512()
    for p in parts:
        h.update(p if isinstance(p, bytes) else p.encode())
    return h.hexdigest()


def pack_entries(entries):
    return b"".join(msgpack.packb([t, r], use_bin_type=True) for t, r in entries)


class Client:
    """One connection to a Forward server."""

    def __init__(self, port, host="127.0.0.1", shared_key=None, hostname="peer",
                 username="", password="", timeout=20, unix_path=None):
        if unix_path:
            self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.s.settimeout(timeout)
            self.s.connect(unix_path)
        else:
            self.s = socket.create_connection((host, port), timeout=timeout)
        self.u = msgpack.Unpacker(raw=False)
        self.pong = None
        if shared_key is not None:
            self.handshake(shared_key, hostname, username, password)

    def read(self):
        """The next msgpack object from the server, None at EOF."""
        while True:
            for obj in self.u:
                return obj
            data = self.s.recv(65536)
            if not data:
                return None
            self.u.feed(data)

    def handshake(self, shared_key, hostname, username="", password=""):
        helo = self.read()
        assert helo and helo[0] == "HELO", "no HELO: %r" % (helo,)
        opt = helo[1]
        nonce = opt["nonce"]
        nonce = nonce.encode("latin-1") if isinstance(nonce, str) else nonce
        auth = opt.get("auth", b"")
        auth = auth.encode("latin-1") if isinstance(auth, str) else auth
        self.nonce = nonce
        salt = os.urandom(16).hex()
        pw = sha512_hex(auth, username, password) if username else ""
        self.send_obj(["PING", hostname, salt,
                       sha512_hex(salt, hostname, nonce, shared_key), username, pw])
        self.pong = self.read()
        if self.pong and self.pong[1]:
            want = sha512_hex(salt, self.pong[3], nonce, shared_key)
            assert self.pong[4] == want, "PONG digest"
        return self.pong

    def send_raw(self, data):
        self.s.sendall(data)

    def send_obj(self, obj):
        self.s.sendall(msgpack.packb(obj, use_bin_type=True))

    @staticmethod
    def _opt(chunk, size=None, compressed=None):
        opt = {}
        if chunk:
            opt["chunk"] = chunk
        if size is not None:
            opt["size"] = size
        if compressed:
            opt["compressed"] = compressed
        return opt

    def message(self, tag, t, record, chunk=None):
        msg = [tag, t, record]
        if chunk:
            msg.append(self._opt(chunk))
        self.send_obj(msg)

    def forward(self, tag, entries, chunk=None):
        msg = [tag, [[t, r] for t, r in entries]]
        if chunk:
            msg.append(self._opt(chunk, len(entries)))
        self.send_obj(msg)

    def packed(self, tag, entries, chunk=None, compressed=False, as_str=False):
        body = pack_entries(entries)
        if compressed:
            body = gzip.compress(body)
        opt = self._opt(chunk, len(entries), "gzip" if compressed else None)
        # PackedForward may carry its entries as bin or (old Fluentd) str
        head = msgpack.packb(tag)
        if as_str:
            n = len(body)
            blob = (b"\xdb" + struct.pack(">I", n)) + body
        else:
            blob = msgpack.packb(body, use_bin_type=True)
        data = (b"\x93" if opt else b"\x92") + head + blob
        if opt:
            data += msgpack.packb(opt)
        self.send_raw(data)

    def ack(self):
        """The server's answer: the chunk of {"ack": chunk}, or None at EOF
        or timeout."""
        try:
            obj = self.read()
        except (socket.timeout, OSError):
            return None
        return obj.get("ack") if isinstance(obj, dict) else None

    def closed_by_server(self):
        """True when the server closes the connection (EOF or reset)."""
        try:
            return self.s.recv(65536) == b""
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def close(self):
        self.s.close()


class Receiver:
    """A Fluent-Bit-style Forward server in a thread: it records every
    message (mode, options, entries with their time type) and answers the
    `chunk` option with an ack, unless told to drop the first acks."""

    def __init__(self, shared_key=None, hostname="receiver", drop_acks=0,
                 users=None):
        self.shared_key = shared_key
        self.hostname = hostname
        self.drop_acks = drop_acks
        self.users = users or {}
        self.lock = threading.Lock()
        self.messages = []      # dicts: mode, tag, option, entries
        self.handshakes = []    # dicts: ok, hostname, reason
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(16)
        self.port = self.srv.getsockname()[1]
        self.stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopping:
            try:
                conn, _ = self.srv.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _handshake(self, conn, u):
        nonce, auth = os.urandom(16), os.urandom(16)
        conn.sendall(msgpack.packb(["HELO", {"nonce": nonce, "auth": auth,
                                             "keepalive": True}], use_bin_type=True))
        ping = self._next(conn, u)
        if not ping or ping[0] != "PING" or len(ping) != 6:
            with self.lock:
                self.handshakes.append({"ok": False, "reason": "no PING"})
            return False
        _, host, salt, digest, user, pwd = ping
        ok = digest == sha512_hex(salt, host, nonce, self.shared_key)
        reason = "" if ok else "shared_key mismatch"
        if ok and self.users:
            ok = user in self.users and pwd == sha512_hex(auth, user, self.users[user])
            reason = "" if ok else "username/password mismatch"
        conn.sendall(msgpack.packb(["PONG", ok, reason, self.hostname,
                                    sha512_hex(salt, self.hostname, nonce, self.shared_key)]))
        with self.lock:
            self.handshakes.append({"ok": ok, "hostname": host, "user": user,
                                    "reason": reason})
        return ok

    @staticmethod
    def _next(conn, u):
        while True:
            for obj in u:
                return obj
            data = conn.recv(65536)
            if not data:
                return None
            u.feed(data)

    def _serve(self, conn):
        u = msgpack.Unpacker(raw=False, strict_map_key=False)
        try:
            if self.shared_key is not None and not self._handshake(conn, u):
                conn.close()
                return
            while True:
                msg = self._next(conn, u)
                if msg is None:
                    break
                self._record(conn, msg)
        except OSError:
            pass
        conn.close()

    def _record(self, conn, msg):
        tag, second = msg[0], msg[1]
        option = msg[2] if len(msg) > 2 and isinstance(msg[2], dict) else {}
        if isinstance(second, list):
            mode, raw = "Forward", second
        elif isinstance(second, (bytes, str)):
            body = second if isinstance(second, bytes) else second.encode("utf-8", "surrogateescape")
            mode = "PackedForward"
            if option.get("compressed") == "gzip":
                mode, body = "CompressedPackedForward", gzip.decompress(body)
            up = msgpack.Unpacker(raw=False, strict_map_key=False)
            up.feed(body)
            raw = list(up)
        else:
            mode, raw = "Message", [[msg[1], msg[2]]]
            option = msg[3] if len(msg) > 3 else {}
        entries = [{"time_type": "EventTime" if isinstance(t, msgpack.ExtType)
                    else type(t).__name__, "ts_ns": time_ns(t), "record": r}
                   for t, r in raw]
        with self.lock:
            self.messages.append({"mode": mode, "tag": tag, "option": option,
                                  "entries": entries})
            drop = self.drop_acks > 0 and "chunk" in option
            if drop:
                self.drop_acks -= 1
        if "chunk" in option:
            if drop:
                conn.close()  # no ack: the sender must send it again
                raise OSError("ack dropped")
            conn.sendall(msgpack.packb({"ack": option["chunk"]}))

    def records(self):
        with self.lock:
            return [(m["tag"], e["ts_ns"], e["record"]) for m in self.messages
                    for e in m["entries"]]

    def close(self):
        self.stopping = True
        self.srv.close()
