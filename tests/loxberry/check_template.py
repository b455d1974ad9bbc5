#!/usr/bin/env python3
"""Structure checker for Loxone Config templates written by `loxcan loxone-template`.

The reference is LoxBerry's LoxBerry::LoxoneTemplateBuilder (libs/perllib/LoxBerry/
LoxoneTemplateBuilder.pm): XML declaration, CRLF line ends, one root element VirtualInUdp or
VirtualOut with exactly these attributes in this order, children with exactly theirs.

usage: check_template.py FILE [--topics V2_LIST]
  --topics: the output of `loxcan loxberry-subscriptions --format v2`; every listed topic must be
  recognised by a VirtualInUdpCmd (a JSON topic through its expanded fields), and nothing else.
Exit 0 when the file passes, 1 with one line per problem otherwise.
"""
import re
import sys
import xml.etree.ElementTree as ET

ATTRS = {
    "VirtualInUdp": ["Title", "Comment", "Address", "Port"],
    "VirtualInUdpCmd": ["Title", "Comment", "Address", "Check", "Signed", "Analog", "SourceValLow", "DestValLow",
                        "SourceValHigh", "DestValHigh", "DefVal", "MinVal", "MaxVal"],
    "VirtualOut": ["Title", "Comment", "Address", "CmdInit", "CloseAfterSend", "CmdSep"],
    "VirtualOutCmd": ["ID", "Title", "Comment", "CmdOnMethod", "CmdOn", "CmdOnHTTP", "CmdOnPost", "CmdOffMethod",
                      "CmdOff", "CmdOffHTTP", "CmdOffPost", "Analog", "Repeat", "RepeatRate"],
}
CHILD = {"VirtualInUdp": "VirtualInUdpCmd", "VirtualOut": "VirtualOutCmd"}
BOOLS = {"Signed", "Analog", "CloseAfterSend"}
NUMBERS = {"SourceValLow", "DestValLow", "SourceValHigh", "DestValHigh", "DefVal", "MinVal", "MaxVal", "Repeat",
           "RepeatRate"}
CHECK_RE = re.compile(r"^\\i (\S+)=\\i\\v$")
CMD_ON_RE = re.compile(r"^publish (\S+/set) (1|<v>)$")


def check_attrs(el, where, problems):
    want = ATTRS[el.tag]
    got = list(el.attrib)
    if got != want:
        problems.append(f"{where}: attributes {got}, expected {want} (LoxoneTemplateBuilder's order)")
    for name, value in el.attrib.items():
        if name in BOOLS and value not in ("true", "false"):
            problems.append(f"{where}: {name}=\"{value}\" is not true/false")
        if name in NUMBERS and not re.fullmatch(r"-?\d+(\.\d+)?", value):
            problems.append(f"{where}: {name}=\"{value}\" is not a number")


def check_udp_cmd(el, where, problems, checks):
    m = CHECK_RE.match(el.get("Check", ""))
    if not m:
        problems.append(f"{where}: Check \"{el.get('Check')}\" is not '\\i <topic>=\\i\\v'")
        return
    if m.group(1) != el.get("Comment"):
        problems.append(f"{where}: Check topic {m.group(1)} differs from the Comment {el.get('Comment')}")
    checks.append(m.group(1))


def check_out_cmd(el, where, problems, index):
    if el.get("ID") != str(index):
        problems.append(f"{where}: ID=\"{el.get('ID')}\", expected {index}")
    for method in ("CmdOnMethod", "CmdOffMethod"):
        if el.get(method) != "GET":
            problems.append(f"{where}: {method} is not GET")
    m = CMD_ON_RE.match(el.get("CmdOn", ""))
    if not m:
        problems.append(f"{where}: CmdOn \"{el.get('CmdOn')}\" is not 'publish <topic>/set 1|<v>'")
        return
    analog = el.get("Analog") == "true"
    if analog != (m.group(2) == "<v>"):
        problems.append(f"{where}: Analog={el.get('Analog')} but CmdOn sends {m.group(2)}")
    want_off = "" if analog else f"publish {m.group(1)} 0"
    if el.get("CmdOff") != want_off:
        problems.append(f"{where}: CmdOff \"{el.get('CmdOff')}\", expected \"{want_off}\"")


def check_topics(checks, listed, problems):
    have = set(checks)
    for t in listed:
        if t not in have and not any(c.startswith(t + "/") for c in have):
            problems.append(f"topic {t} (V2 list) has no VirtualInUdpCmd")
    for c in have:
        if c not in listed and c.rsplit("/", 1)[0] not in listed:
            problems.append(f"VirtualInUdpCmd for {c}, which the daemon does not publish")


def check(path, topics_file=None):
    problems = []
    raw = open(path, "rb").read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return [f"{path}: not UTF-8 ({e})"]
    if not text.startswith('<?xml version="1.0" encoding="utf-8"?>\r\n'):
        problems.append(f"{path}:1: missing the XML declaration line with CRLF")
    for n, line in enumerate(text.split("\n")[:-1], 1):
        if not line.endswith("\r"):
            problems.append(f"{path}:{n}: line does not end with CRLF")
            break
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as e:
        return problems + [f"{path}: not well-formed XML: {e}"]
    if root.tag not in CHILD:
        return problems + [f"{path}: root element {root.tag}, expected VirtualInUdp or VirtualOut"]
    check_attrs(root, f"{path}: {root.tag}", problems)
    if root.tag == "VirtualInUdp" and not re.fullmatch(r"\d+", root.get("Port", "")) or \
            root.tag == "VirtualInUdp" and not 1 <= int(root.get("Port") or 0) <= 65535:
        problems.append(f"{path}: Port \"{root.get('Port')}\" is not 1..65535")
    if root.tag == "VirtualOut" and not re.fullmatch(r"/dev/udp/[^/\s]+/\d{1,5}", root.get("Address", "")):
        problems.append(f"{path}: Address \"{root.get('Address')}\" is not /dev/udp/<host>/<port>")
    titles, checks = set(), []
    for i, el in enumerate(root, 1):
        where = f"{path}: {root.tag} child {i}"
        if el.tag != CHILD[root.tag]:
            problems.append(f"{where}: element {el.tag}, expected {CHILD[root.tag]}")
            continue
        check_attrs(el, where, problems)
        if not el.get("Title") or el.get("Title") in titles:
            problems.append(f"{where}: Title \"{el.get('Title')}\" empty or not unique")
        titles.add(el.get("Title"))
        if el.tag == "VirtualInUdpCmd":
            check_udp_cmd(el, where, problems, checks)
        else:
            check_out_cmd(el, where, problems, i)
    if topics_file and root.tag == "VirtualInUdp":
        listed = [l.strip() for l in open(topics_file, encoding="utf-8") if l.strip()]
        check_topics(checks, listed, problems)
    return problems


def main(argv):
    if len(argv) not in (2, 4) or (len(argv) == 4 and argv[2] != "--topics"):
        print(__doc__, file=sys.stderr)
        return 64
    problems = check(argv[1], argv[3] if len(argv) == 4 else None)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
