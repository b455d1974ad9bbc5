#!/usr/bin/env python3
"""Independent Loxone Link frame builder for integration tests (cansend syntax).

Written from LOXONE_CAN.md sections 2, 4 and 5 without using loxcan's own encoder, so that tests
compare two implementations. Usage:
  loxframes.py offer NAT SERIAL [FLAGS]         NAT offer broadcast (0xFD)
  loxframes.py start NAT SERIAL TYPE [VERSION]  Start packet (0x02) as F0 + F1 fragments from NAT
  loxframes.py nat DIR NAT DEV CMD B0 VAL16 VAL32   one NAT frame (DIR: s = server, d = device)
Numbers are hex (serial, type, nat) or decimal where noted; prints one frame per line.
"""
import struct
import sys


def stm32_crc(data: bytes) -> int:
    data = data + b"\0" * (-len(data) % 4)
    crc = 0xFFFFFFFF
    for i in range(0, len(data), 4):
        crc ^= struct.unpack_from("<I", data, i)[0]
        for _ in range(32):
            crc = ((crc << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if crc & 0x80000000 else (crc << 1) & 0xFFFFFFFF
    return crc


def nat_id(server: bool, nat: int, cmd: int, frag: bool = False, bus: int = 0x10, direction: int = -1) -> int:
    """Section 2.1: bus 0x10 Link / 0x11 Tree branch; direction 0 device, 3 server, 2 re-emitted."""
    d = direction if direction >= 0 else (3 if server else 0)
    return bus << 24 | d << 21 | (1 if frag else 0) << 20 | nat << 12 | cmd


def legacy_id(to_extension: bool, dev_type: int, serial24: int) -> int:
    """Section 2.2: bit 28 = to the extension, 4-bit type, 24-bit serial."""
    return (1 if to_extension else 0) << 28 | (dev_type & 0xF) << 24 | serial24 & 0xFFFFFF


def legacy(to_extension: bool, dev_type: int, serial24: int, cmd: int, b0: int = 0, val16: int = 0,
           val32: int = 0) -> str:
    """Section 3.2: D0 = 7-bit command, bit 7 set when sent by the extension."""
    d0 = (cmd & 0x7F) | (0 if to_extension else 0x80)
    return frame(legacy_id(to_extension, dev_type, serial24), struct.pack("<BBHI", d0, b0, val16, val32))


def frame(can_id: int, data: bytes) -> str:
    return f"{can_id:08X}#{data.hex().upper()}"


def nat(server: bool, nat_: int, dev: int, cmd: int, b0: int = 0, val16: int = 0, val32: int = 0) -> str:
    return frame(nat_id(server, nat_, cmd), struct.pack("<BBHI", dev, b0, val16, val32))


def fragments(server: bool, nat_: int, dev: int, cmd: int, payload: bytes, bus: int = 0x10,
              direction: int = -1) -> list:
    """Section 5.1: header 0xF0 (command, length, STM32 CRC), then 7 bytes per 0xF1, zero-padded."""
    out = [frame(nat_id(server, nat_, 0xF0, True, bus, direction),
                 struct.pack("<BBHI", dev, cmd, len(payload), stm32_crc(payload)))]
    for i in range(0, len(payload), 7):
        chunk = payload[i:i + 7].ljust(7, b"\0")
        out.append(frame(nat_id(server, nat_, 0xF1, True, bus, direction), bytes([dev]) + chunk))
    return out


def start(nat_: int, serial: int, dev_type: int, version: int = 10031108) -> list:
    payload = struct.pack("<IIIIBHB", version, 0, 0, serial, 0x02, dev_type, 1)
    return fragments(False, nat_, 0, 0x02, payload)


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "offer":
        flags = int(args[2], 16) if len(args) > 2 else 0
        print(nat(True, 0xFF, 0, 0xFD, int(args[0], 16), flags, int(args[1], 16)))
    elif cmd == "start":
        version = int(args[3]) if len(args) > 3 else 10031108
        print("\n".join(start(int(args[0], 16), int(args[1], 16), int(args[2], 16), version)))
    elif cmd == "nat":
        d, n, dev, c, b0, v16, v32 = args
        print(nat(d == "s", int(n, 16), int(dev, 16), int(c, 16), int(b0, 16), int(v16, 16), int(v32, 16)))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
