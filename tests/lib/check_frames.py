#!/usr/bin/env python3
"""Checks candump logs frame by frame against the independent encoder (loxframes.py).

The golden traces (tests/data/traces/*.log) and the start-up capture (tests/data/captures/
startup.log) are written by loxcan's own encoder. Here every frame is taken apart into the fields
LOXONE_CAN.md defines and built again with loxframes.py, which was written from the specification
without loxcan's code; a frame that comes out different fails:
  - NAT frames (section 2.1): bus, direction, fragment flag, NAT, command, D0..D7;
  - NAT fragmented packets (5.1): the 0xF0 header and the 0xF1 data frames are collected per
    (bus, direction, NAT, device NAT) and the whole packet is built again from its payload, so
    length, STM32 CRC, padding and device NAT must match;
  - Start packets (4.1.1) from an extension (device NAT 0): rebuilt from version, serial and type;
  - legacy frames (2.2, 3.2): direction bit, type, serial, and the direction bit in D0.
Legacy multicasts (ID 0 or T<<24) are checked as 8 bytes with the server's D0 bit clear.

  check_frames.py [--tree] LOG...   exit 0 and one line per file when every frame agrees; exit 1
                                    and "FILE:LINE: ..." for each frame that does not
  --tree: the logs are from a Tree branch (0x11 is a NAT frame there; on the Link bus, section
  2.3, 0x11xxxxxx is a legacy frame to a type-1 Extension).
"""
import os
import re
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import loxframes  # noqa: E402

LINE_RE = re.compile(r"^\(\d+\.\d+\)\s+\S+\s+([0-9A-Fa-f]{8})#([0-9A-Fa-f]{16})\s*$")


def check_nat_single(can_id, data):
    bus, direction, nat, cmd = can_id >> 24 & 0x1F, can_id >> 21 & 3, can_id >> 12 & 0xFF, can_id & 0xFF
    if can_id >> 8 & 0xF or can_id >> 23 & 1:
        return "reserved bits of the NAT identifier are not zero"
    if direction == 1:
        return "direction 01 is illegal (section 2.1)"
    dev, b0, val16, val32 = struct.unpack("<BBHI", data)
    want = loxframes.frame(loxframes.nat_id(direction == 3, nat, cmd, False, bus, direction),
                           struct.pack("<BBHI", dev, b0, val16, val32))
    return None if want == loxframes.frame(can_id, data) else f"independent encoder builds {want}"


def check_legacy(can_id, data):
    to_ext = bool(can_id >> 28 & 1)
    dev_type, serial24 = can_id >> 24 & 0xF, can_id & 0xFFFFFF
    if serial24 == 0:  # multicast from the Miniserver
        return None if data[0] & 0x80 == 0 else "a multicast with the extension bit set in D0"
    _, b0, val16, val32 = struct.unpack("<BBHI", data)
    want = loxframes.legacy(to_ext, dev_type, serial24, data[0] & 0x7F, b0, val16, val32)
    return None if want == loxframes.frame(can_id, data) else f"independent encoder builds {want}"


class Packets:
    """NAT fragments collected per (bus, direction, NAT, device NAT), rebuilt when complete."""

    def __init__(self):
        self.open = {}  # key -> [header line number, frames, cmd, length, payload]

    def feed(self, lineno, can_id, data, problems, where):
        bus, direction, nat, cmd = can_id >> 24 & 0x1F, can_id >> 21 & 3, can_id >> 12 & 0xFF, can_id & 0xFF
        key = (bus, direction, nat, data[0])
        text = loxframes.frame(can_id, data)
        if cmd == 0xF0:
            if key in self.open:
                problems.append(f"{where}:{self.open[key][0]}: packet never completed")
            _, real_cmd, length, _ = struct.unpack("<BBHI", data)
            self.open[key] = [lineno, [text], real_cmd, length, b""]
            if length == 0:
                self.finish(key, problems, where)
            return
        if key not in self.open:
            problems.append(f"{where}:{lineno}: 0xF1 without a header")
            return
        p = self.open[key]
        p[1].append(text)
        p[4] += bytes(data[1:])
        if len(p[4]) >= p[3]:
            self.finish(key, problems, where)

    def finish(self, key, problems, where):
        lineno, frames, cmd, length, payload = self.open.pop(key)
        bus, direction, nat, dev = key
        payload = payload[:length]
        want = loxframes.fragments(direction == 3, nat, dev, cmd, payload, bus, direction)
        if want != frames:
            problems.append(f"{where}:{lineno}: packet 0x{cmd:02X} of {length} bytes: independent encoder "
                            f"builds {' '.join(want)}, the log has {' '.join(frames)}")
            return
        if cmd == 0x02 and dev == 0 and direction == 0 and length == 20:
            version, _, _, serial, _, dev_type, _ = struct.unpack("<IIIIBHB", payload)
            start = loxframes.start(nat, serial, dev_type, version)
            if start != frames:
                problems.append(f"{where}:{lineno}: Start packet: independent encoder builds {' '.join(start)}")


def check_file(path, nat_buses):
    problems, frames, packets = [], 0, Packets()
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip() or line.startswith("#"):
                continue
            m = LINE_RE.match(line)
            if not m:
                problems.append(f"{path}:{lineno}: not a candump line with 8 data bytes: {line.strip()}")
                continue
            can_id, data = int(m.group(1), 16), bytes.fromhex(m.group(2))
            frames += 1
            top5 = can_id >> 24 & 0x1F
            if top5 in nat_buses and can_id >> 20 & 1:
                packets.feed(lineno, can_id, data, problems, path)
                continue
            why = check_nat_single(can_id, data) if top5 in nat_buses else check_legacy(can_id, data)
            if why:
                problems.append(f"{path}:{lineno}: {m.group(1)}#{m.group(2)}: {why}")
    for key, p in packets.open.items():
        problems.append(f"{path}:{p[0]}: packet 0x{p[2]:02X} never completed")
    return frames, problems


def main(argv):
    paths = [a for a in argv[1:] if a != "--tree"]
    nat_buses = (0x11,) if "--tree" in argv[1:] else (0x10,)
    if not paths:
        sys.exit(__doc__)
    failed = False
    for path in paths:
        frames, problems = check_file(path, nat_buses)
        for p in problems:
            print(p, file=sys.stderr)
        if problems or frames == 0:
            failed = True
            print(f"{path}: {len(problems)} of {frames} frames disagree with loxframes.py", file=sys.stderr)
        else:
            print(f"{path}: {frames} frames agree with the independent encoder")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
