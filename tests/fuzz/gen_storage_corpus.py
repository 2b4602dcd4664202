#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the seed corpus of the fuzz_storage_chunk fuzz target.

Each seed is a chunk file as the storage layer writes it (format version 2,
documented at the top of core/chunk/sl_storage.h; records in the sl_chunk
encoding of core/chunk/sl_chunk.h: int64 ts_ns, uint64 identity, uint32 body
length, body, little endian), either well formed or broken in the one way its name says.
Every CRC (zlib crc32) is right unless the case is about a bad CRC, so the
seeds get past the checksums into the block, LZ4 and record-framing code.
The sealed form carries a literals-only LZ4 block (one sequence, no match),
which LZ4_decompress_safe accepts.

  bad_version            a whole version 1 file: refused at the version byte
  unsupported_version    version 9: "unsupported version"
  empty, torn_header     torn header (shorter than the fixed part)
  tag_len_past_end       T claims more bytes than the file has
  open_header_only       open form, no block: valid, 0 records
  open_two_blocks        open form, 2 blocks: valid, 3 records
  open_cut_block_header  last block header torn: cut, 2 records kept
  open_cut_payload       last payload short: cut, 2 records kept
  open_zero_tail         zero-filled tail after the blocks: cut, 3 records
  open_last_crc_bad      last payload CRC fails: corrupt strict, cut lenient
  open_garbage_tail      non-zero bytes after the last block: corrupt
  open_bad_framing       block says 3 records, holds 2: corrupt
  open_lying_length      record body length past the block: corrupt
  sealed_empty           sealed, no record: valid, 0 records
  sealed_literals        sealed, 3 records: valid
  sealed_huge_claim      U = 64 MiB for a 1-byte LZ4 block: refused
  sealed_trailing        a byte after the LZ4 block: refused

Rerun after changing the format (from the source tree root):

  python3 tests/fuzz/gen_storage_corpus.py [OUTPUT_DIR]

OUTPUT_DIR defaults to tests/fuzz/corpus/fuzz_storage_chunk; files of the
names above are overwritten, others are left alone. Output is deterministic.
"""

import os
import struct
import sys
import zlib

VERSION = 2
FORM_OPEN = 1
FORM_SEALED = 2
CHUNK_ID = 7
TAG = b"app.log"
STREAM = b"tail.0"


def crc(b):
    return zlib.crc32(b) & 0xFFFFFFFF


def record(ts, identity, body):
    return struct.pack("<qQI", ts, identity, len(body)) + body


def record_v1(ts, body):
    """Version 1 had no identity."""
    return struct.pack("<qI", ts, len(body)) + body


def header(form, version=VERSION, tag=TAG, stream=STREAM, chunk_id=CHUNK_ID):
    h = b"SLCH" + struct.pack("<BBHQHH", version, form, 0, chunk_id,
                              len(tag), len(stream)) + tag + stream
    return h + struct.pack("<I", crc(h))


def block(payload, n_records, payload_crc=None):
    if payload_crc is None:
        payload_crc = crc(payload)
    h = b"SLBK" + struct.pack("<III", len(payload), n_records, payload_crc)
    return h + struct.pack("<I", crc(h)) + payload


def lz4_literals(data):
    """An LZ4 block of one literals-only sequence (the last sequence of a
    block has no match part)."""
    n = len(data)
    if n < 15:
        out = bytes([n << 4])
    else:
        out = bytearray([0xF0])
        rest = n - 15
        while rest >= 255:
            out.append(255)
            rest -= 255
        out.append(rest)
        out = bytes(out)
    return out + data


def sealed_body(records, n_records, ulen=None, lz4=None):
    if lz4 is None:
        lz4 = lz4_literals(records)
    if ulen is None:
        ulen = len(records)
    h = b"SLSZ" + struct.pack("<IIII", ulen, len(lz4), n_records,
                              crc(records))
    return h + struct.pack("<I", crc(h)) + lz4


BLOCK1 = record(1, 0x1001, b'{"a":1}') + record(2, 0, b'{"msg":"hello"}')
BLOCK2 = record(3, 0xDEADBEEF00000003, b'{"c":"' + b"x" * 40 + b'"}')
OPEN = header(FORM_OPEN)
TWO_BLOCKS = OPEN + block(BLOCK1, 2) + block(BLOCK2, 1)


def cases():
    c = {}
    # A complete, consistent version 1 file (its own record encoding and
    # CRCs): only the version byte refuses it.
    v1 = record_v1(1, b'{"a":1}') + record_v1(2, b'{"msg":"hello"}')
    c["bad_version"] = header(FORM_OPEN, version=1) + block(v1, 2)
    c["unsupported_version"] = header(FORM_OPEN, version=9) + block(BLOCK1, 2)

    c["empty"] = b""
    c["torn_header"] = OPEN[:13]
    # T = 65535 with the fixed part and a few tag bytes present: the file
    # is long enough not to count as torn, too short for the header.
    fixed = b"SLCH" + struct.pack("<BBHQHH", VERSION, FORM_OPEN, 0, CHUNK_ID,
                                  0xFFFF, len(STREAM))
    c["tag_len_past_end"] = fixed + b"abcdefghij"

    c["open_header_only"] = OPEN
    c["open_two_blocks"] = TWO_BLOCKS
    second = block(BLOCK2, 1)
    c["open_cut_block_header"] = OPEN + block(BLOCK1, 2) + second[:9]
    c["open_cut_payload"] = OPEN + block(BLOCK1, 2) + second[:20 + 30]
    c["open_zero_tail"] = TWO_BLOCKS + bytes(64)
    # the last payload's final byte changed after its CRC was taken
    bad = bytearray(TWO_BLOCKS)
    bad[-1] ^= 0x01
    c["open_last_crc_bad"] = bytes(bad)
    c["open_garbage_tail"] = TWO_BLOCKS + b"garbage!" * 4
    c["open_bad_framing"] = OPEN + block(BLOCK1, 3)
    c["open_lying_length"] = OPEN + block(
        struct.pack("<qQI", 1, 0x2002, 1000) + b"{}", 1)

    c["sealed_empty"] = header(FORM_SEALED) + sealed_body(b"", 0)
    c["sealed_literals"] = header(FORM_SEALED) + sealed_body(
        BLOCK1 + BLOCK2, 3)
    c["sealed_huge_claim"] = header(FORM_SEALED) + sealed_body(
        b"", 0, ulen=64 * 1024 * 1024)
    c["sealed_trailing"] = header(FORM_SEALED) + sealed_body(BLOCK1, 2) + \
        b"\0"
    return c


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    out = argv[1] if len(argv) > 1 else os.path.join(
        here, "corpus", "fuzz_storage_chunk")
    os.makedirs(out, exist_ok=True)
    for name, data in sorted(cases().items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        print("%-24s %4d bytes" % (name, len(data)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
