#!/usr/bin/env python3
"""A Miniserver stand-in for the UDP route: feeds what LoxBerry's MQTT Gateway V1 sends over UDP
for a set of MQTT messages into the Virtual UDP Input commands of a loxcan template, and checks
that every command recognises exactly its value.

usage: miniserver_udp.py TEMPLATE.xml MESSAGES
  MESSAGES: `mosquitto_sub -v` output (one "topic payload" per line).

The gateway side (CONVENTIONS.md 1.3/1.4, LoxBerry::IO::msudp_send): each value goes through the
boolean conversion and the conversions online=1 / offline=0, then into datagrams
"MQTT: <topic>=<value> <topic>=<value> ..." of at most 220 characters; JSON objects are expanded
(Hash::Flatten, '_' between levels). The Miniserver side: a command's recognition is a sequence
of "\\i<text>\\i" (skip to after <text>) and "\\v" (read a number there).
Exit 0 when every command whose topic was published got its value, 1 otherwise.
"""
import json
import re
import sys
import xml.etree.ElementTree as ET

TRUE = {"true", "yes", "on", "enabled", "enable", "1", "check", "checked", "select", "selected"}
FALSE = {"false", "no", "off", "disabled", "disable", "0"}
CONVERSIONS = {"online": "1", "offline": "0"}


def convert(value):
    v = value.strip().lower()
    value = "1" if v in TRUE else "0" if v in FALSE else value
    return CONVERSIONS.get(value.strip(), value)


def flatten(obj, prefix, out):
    if isinstance(obj, dict) and obj:
        for k, v in obj.items():
            flatten(v, f"{prefix}_{k}" if prefix else k, out)
    elif isinstance(obj, list) and obj:
        for i, v in enumerate(obj):
            flatten(v, f"{prefix}_{i}", out)
    else:
        out[prefix] = "" if obj is None else ("1" if obj is True else "0" if obj is False else str(obj))


def gateway_pairs(messages):
    pairs = {}
    for topic, payload in messages:
        try:
            doc = json.loads(payload)
        except ValueError:
            doc = None
        if isinstance(doc, dict):
            flat = {}
            flatten(doc, "", flat)
            for k, v in flat.items():
                pairs[f"{topic}/{k}"] = convert(v)
        else:
            pairs[topic] = convert(payload)
    return pairs


def datagrams(pairs):
    out, line = [], ""
    for topic, value in pairs.items():
        item = f"{topic}={value} "
        if line and len(line) + len(item) > 220:
            out.append(line)
            line = ""
        line = (line or "MQTT: ") + item
    return out + ([line] if line else [])


def recognise(check, text):
    """Loxone's command recognition: the value, or None when the text does not match."""
    pos, i = 0, 0
    while i < len(check):
        if check.startswith("\\i", i):
            end = check.index("\\i", i + 2)
            found = text.find(check[i + 2:end], pos)
            if found < 0:
                return None
            pos = found + end - (i + 2)
            i = end + 2
        elif check.startswith("\\v", i):
            m = re.match(r"-?\d+(\.\d+)?", text[pos:])
            return m.group(0) if m else None
        else:
            if not text.startswith(check[i], pos):
                return None
            pos, i = pos + 1, i + 1
    return None


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 64
    messages = [tuple(l.rstrip("\n").split(" ", 1)) for l in open(argv[2], encoding="utf-8") if " " in l]
    pairs = gateway_pairs([m for m in messages if len(m) == 2])
    grams = datagrams(pairs)
    problems, matched = [], 0
    for cmd in ET.parse(argv[1]).getroot():
        topic, check = cmd.get("Comment"), cmd.get("Check")
        got = [v for v in (recognise(check, g) for g in grams) if v is not None]
        want = pairs.get(topic)
        if want is None or not re.fullmatch(r"-?\d+(\.\d+)?", want):
            if got:
                problems.append(f"{cmd.get('Title')}: recognised {got} although {topic} was not published as a number")
            continue
        if got != [want]:
            problems.append(f"{cmd.get('Title')}: recognised {got}, expected [{want}] ({topic})")
        else:
            matched += 1
    for p in problems:
        print(p)
    print(f"{matched} commands recognised their value in {len(grams)} datagrams", file=sys.stderr)
    return 1 if problems or matched == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
