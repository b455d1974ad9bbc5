#!/usr/bin/env python3
"""Independent re-implementation of LOXONE_CAN.md section 7 (schedules, hashes, packets), used to
compute the expected values in tests/emulation/crypto_test.cpp. Keys below are made up for tests."""
import struct
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

M = 0xFFFFFFFF
def rs(b):
    h, a = 0, 63689
    for c in b:
        h = (h * a + c) & M; a = (a * 378551) & M
    return h
def js(b):
    h = 1315423911
    for c in b: h ^= ((h << 5) + c + (h >> 2)) & M; h &= M
    return h
def djb(b):
    h = 5381
    for c in b: h = (h * 33 + c) & M
    return h
def dek(b):
    h = len(b)
    for c in b: h = (((h << 5) | (h >> 27)) & M) ^ c
    return h
def bp(b):
    h = 0
    for c in b: h = ((h << 7) ^ c) & M
    return h
def w2b(ws): return b"".join(struct.pack("<I", w) for w in ws)
def init(key, iv, serial):
    return w2b([k ^ (~serial & M) for k in key]), w2b([v ^ serial for v in iv])
def data(dev_id, rnd, serial):
    buf = dev_id + struct.pack("<II", rnd, serial)
    k = [rs(buf), js(buf), djb(buf), dek(buf)]
    s = rs(bytes(c ^ 0xA5 for c in buf))
    return w2b([x ^ s for x in k]), w2b([s] * 4)
def enc(kiv, p):
    e = Cipher(algorithms.AES(kiv[0]), modes.CBC(kiv[1])).encryptor(); return e.update(p) + e.finalize()
def pkt(magic, rnd): return struct.pack("<II", magic, rnd) + b"\xA5" * 8

ALGO_KEY = [0x01234567, 0x89ABCDEF, 0xFEDCBA98, 0x76543210]
ALGO_IV = [0x11111111, 0x22222222, 0x33333333, 0x44444444]
LEG_KEY = [0xA0A0A0A0, 0x0B0B0B0B, 0xC0C0C0C0, 0x0D0D0D0D]
LEG_IV = [0x13579BDF, 0x2468ACE0, 0x0F1E2D3C, 0x4B5A6978]
MASTER = bytes(range(12))
for s in [b"", b"a", b"ab", b"123456789"]:
    print(s, hex(rs(s)), hex(js(s)), hex(djb(s)), hex(dek(s)), hex(bp(s)))
serial, rnd, rnd2 = 0x14123456, 0x12345678, 0xCAFEBABE
ki = init(ALGO_KEY, ALGO_IV, serial)
print("init key", ki[0].hex(), "iv", ki[1].hex())
print("challenge", enc(ki, pkt(0xDEADBEEF, rnd)).hex())
kd = data(MASTER, rnd, serial)
print("data key", kd[0].hex(), "iv", kd[1].hex())
print("reply", enc(kd, pkt(0xDEADBEEF, rnd2)).hex())
tserial, tid = 0xC0168612, bytes.fromhex("a1a2a3a4a5a6a7a8a9aaabac")
kl = init(LEG_KEY, LEG_IV, tserial)
print("devid request", enc(kl, pkt(0xDEADBEEF, rnd)).hex())
print("devid reply", enc(kl, struct.pack("<II", 0xDEADBEEF, rnd2) + tid + bytes(12)).hex())
