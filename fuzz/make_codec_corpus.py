#!/usr/bin/env python3
"""Writes fuzz/corpus/fuzz_codec/: inputs of fuzz_codec (a selector byte choosing the type,
then the bytes after its tag; see fuzz_codec.cpp), valid and invalid encodings written from the
format's description in docs/codecs.md rather than by taskmap, so they also check that the
two agree. Rerun after changing the format or fuzz_codec's types."""

import pathlib
import struct


def count(n):
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def string(s):
    return count(len(s)) + s


def i32(v):
    return struct.pack("<i", v)


def i64(v):
    return struct.pack("<q", v)


def u64(v):
    return struct.pack("<Q", v)


def f64(v):
    return struct.pack("<d", v)


INT, DOUBLE, STRING, VSTRING, MAP, OPTTUPLE, VARIANT, MONSTER = range(8)
UMAP, VBOOL, TUPLE, SETPAIR, USETD, VOPT, MAPU64, VPAIR = range(8, 16)
RAW = 0x80

inputs = {
    "int-42": (INT, i32(42)),
    "int-trailing-byte": (INT, i32(-1) + b"\x00"),
    "int-raw-foreign-tag": (INT | RAW, b"\x01\x02\x03\x04\x05\x06\x07\x08" + i32(1)),
    "double-negative-zero": (DOUBLE, u64(0x8000000000000000)),
    "double-nan-payload": (DOUBLE, u64(0x7FF0000000000001)),
    "string-hello": (STRING, string(b"hello")),
    "string-count-overlong": (STRING, b"\x81\x00x"),
    "vector-string": (VSTRING, count(2) + string(b"a") + string(b"")),
    "vector-string-count-2-to-the-60": (VSTRING, count(1 << 60) + b"abc"),
    "map-string-vector-double": (
        MAP, count(2) + string(b"a") + count(1) + f64(1.5) + string(b"b") + count(0)),
    "map-keys-out-of-order": (MAP, count(2) + string(b"b") + count(0) + string(b"a") + count(0)),
    "optional-tuple": (OPTTUPLE, b"\x01" + i32(7) + string(b"hi")),
    "optional-empty": (OPTTUPLE, b"\x00"),
    "optional-flag-2": (OPTTUPLE, b"\x02"),
    "variant-string": (VARIANT, count(2) + string(b"abc")),
    "variant-vector-bool": (VARIANT, count(3) + count(10) + b"\xff\x03"),
    "variant-index-out-of-range": (VARIANT, count(5)),
    "monster": (MONSTER, count(1) + string(b"k") + count(2) + count(0) + b"\x00" + count(1) + i64(-1)),
    # unordered keys sorted by their bytes: 256 (00 01 00 00) before 1 (01 00 00 00)
    "monster-unordered": (
        MONSTER, count(1) + string(b"") + count(1) + count(5) + count(1) + string(b"a") + count(2)
        + i32(256) + i32(1)),
    "unordered-map-sorted": (UMAP, count(2) + string(b"a") + count(0) + string(b"b") + count(1) + i32(5)),
    "unordered-map-unsorted": (UMAP, count(2) + string(b"b") + count(0) + string(b"a") + count(0)),
    "vector-bool-9": (VBOOL, count(9) + b"\xff\x01"),
    "vector-bool-padding-set": (VBOOL, count(3) + b"\x0f"),
    # array<u16,3>, Shade::dark, true, 'c', long double 1.0 (x87: significand, then exponent)
    "tuple-array-enum-long-double": (
        TUPLE, struct.pack("<HHH", 1, 0xFFFF, 0) + b"\x01\x01c" + u64(1 << 63) + b"\xff\x3f"),
    "set-of-pairs": (SETPAIR, count(2) + b"\xff" + string(b"a") + b"\x01" + string(b"")),
    "unordered-set-zero-and-negative-zero": (USETD, count(2) + f64(0.0) + f64(-0.0)),
    "vector-optional-monostates": (VOPT, count(2) + b"\x00\x01" + count(3) + b"\x00\x00\x00"),
    "map-u64-empty-tuples": (MAPU64, count(2) + u64(1) + b"\x00" + u64(2) + b"\x00"),
    "vector-pair-optional-double": (VPAIR, count(1) + string(b"x") + b"\x01" + f64(2.5)),
}

out_dir = pathlib.Path(__file__).resolve().parent / "corpus" / "fuzz_codec"
out_dir.mkdir(parents=True, exist_ok=True)
for name, (selector, payload) in inputs.items():
    (out_dir / name).write_bytes(bytes([selector]) + payload)
print(f"wrote {len(inputs)} inputs to {out_dir}")
