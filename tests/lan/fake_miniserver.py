#!/usr/bin/env python3
"""A fake Loxone Miniserver for the discovery end-to-end test (run inside the sandbox only).

Answers the UDP discovery probe (any datagram on UDP 7070 -> a LoxLIVE line to <sender>:7071),
SSDP (M-SEARCH for upnp:rootdevice/ssdp:all -> unicast answer; or, with --ssdp notify, a NOTIFY
ssdp:alive every 0.3 s instead) and serves /upnp.xml over HTTP on --ip:--http-port. Every
request is appended to --log. Creates --ready once all sockets are bound.
"""
import argparse
import http.server
import socket
import struct
import threading
import time

GROUP = "239.255.255.250"


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--ip", required=True)
    p.add_argument("--serial", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--http-port", type=int, default=8080)
    p.add_argument("--firmware", default="14.5.9.1")
    p.add_argument("--prog", default="2024-03-01 12:34:56")
    p.add_argument("--type", default="2")
    p.add_argument("--hwid", default="A0002")
    p.add_argument("--ipv6", default=",0c112233:10020217/O")
    p.add_argument("--udn", default="uuid:aabbccdd-eeff-0011-2233-445566778899")
    p.add_argument("--ssdp", choices=["answer", "notify", "off"], default="answer")
    p.add_argument("--udp", choices=["on", "off"], default="on")
    p.add_argument("--log", required=True)
    p.add_argument("--ready", required=True)
    return p.parse_args()


ARGS = parse_args()
LOG_LOCK = threading.Lock()


def log(line):
    with LOG_LOCK, open(ARGS.log, "a", encoding="utf-8") as f:
        f.write(line + "\n")


def loxlive():
    a = ARGS
    return (f"LoxLIVE: {a.name} {a.ip}:{a.http_port} {a.serial} {a.firmware} Prog:{a.prog} "
            f"Type:{a.type} HwId:{a.hwid} IPv6:{a.ipv6}").encode()


def location():
    return f"http://{ARGS.ip}:{ARGS.http_port}/upnp.xml"


def ssdp_headers():
    return (f"SERVER:Loxone Miniserver {ARGS.name} UPnP/1.0\r\n"
            f"LOCATION:{location()}\r\n")


def upnp_xml():
    a = ARGS
    hexname = a.name.encode().hex().upper()
    return f"""<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0">
  <specVersion><major>1</major><minor>0</minor></specVersion>
  <device>
    <deviceType>urn:schemas-upnp-org:device:HVAC_System:1</deviceType>
    <friendlyName>Loxone Miniserver</friendlyName>
    <manufacturer>Loxone Electronics GmbH</manufacturer>
    <modelDescription>Loxone Electronics home control (Loxone Miniserver: *{hexname} {a.ip}:{a.http_port} {a.serial} {a.firmware} IPv6:{a.ipv6})</modelDescription>
    <modelName>Loxone Miniserver</modelName>
    <modelNumber>2</modelNumber>
    <serialNumber>{a.serial}</serialNumber>
    <UDN>{a.udn}</UDN>
    <presentationURL>http://{a.ip}:{a.http_port}/index.html</presentationURL>
  </device>
</root>
""".encode()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        log(f"http {self.client_address[0]} {self.path}")
        if self.path != "/upnp.xml":
            self.send_error(404)
            return
        body = upnp_xml()
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def udp_loop(sock):
    while True:
        data, (src, _) = sock.recvfrom(2048)
        log(f"probe {src} {data.hex()}")
        sock.sendto(loxlive(), (src, 7071))


def ssdp_socket():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("", 1900))
    mreq = struct.pack("4s4s", socket.inet_aton(GROUP), socket.inet_aton(ARGS.ip))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(ARGS.ip))
    return s


def ssdp_answer_loop(sock):
    while True:
        data, src = sock.recvfrom(4096)
        text = data.decode(errors="replace")
        if not text.startswith("M-SEARCH"):
            continue
        log(f"msearch {src[0]}")
        if "upnp:rootdevice" in text or "ssdp:all" in text:
            reply = ("HTTP/1.1 200 OK\r\nCACHE-CONTROL:max-age=3600\r\nST:upnp:rootdevice\r\n"
                     f"USN:{ARGS.udn}::upnp:rootdevice\r\nEXT:\r\n" + ssdp_headers() + "\r\n")
            sock.sendto(reply.encode(), src)


def ssdp_notify_loop(sock):
    notify = ("NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nCACHE-CONTROL: max-age=3600\r\n"
              f"NT: upnp:rootdevice\r\nNTS: ssdp:alive\r\nUSN: {ARGS.udn}::upnp:rootdevice\r\n"
              + ssdp_headers() + "\r\n").encode()
    while True:
        sock.sendto(notify, (GROUP, 1900))
        time.sleep(0.3)


def main():
    threads = []
    httpd = http.server.ThreadingHTTPServer((ARGS.ip, ARGS.http_port), Handler)
    threads.append(threading.Thread(target=httpd.serve_forever, daemon=True))
    if ARGS.udp == "on":
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("", 7070))
        threads.append(threading.Thread(target=udp_loop, args=(u,), daemon=True))
    if ARGS.ssdp != "off":
        s = ssdp_socket()
        loop = ssdp_answer_loop if ARGS.ssdp == "answer" else ssdp_notify_loop
        threads.append(threading.Thread(target=loop, args=(s,), daemon=True))
    for t in threads:
        t.start()
    open(ARGS.ready, "w").close()
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
