#!/usr/bin/env python3
"""A fake Loxone Cloud DNS on 127.0.0.1 for `loxcan dns` tests. Usage: fake_cloud_dns.py PORT LOG

  /504F00000001  302 -> http://203.0.113.7:8080/
  /504F00000002  302 -> https://203-0-113-8.504f00000002.dyndns.loxonecloud.com:4443/
  /504F00000003  307 -> https://198.51.100.9/
  /504F0000BAD0  200 with an HTML body (no redirect)
  /504F0000BAD1  302 with Location '::garbage::'
  /504F0000BAD2  not HTTP at all (binary garbage, then close)
  /504F0000BAD3  302 without a Location header
  /504F0000DEAD  never answers (hangs 60 s)
  anything else  404
Every request path is appended to LOG. The redirect targets are documentation addresses
(RFC 5737) and are never contacted: loxcan must not follow the redirect.
"""
import http.server
import sys
import time

REDIRECTS = {
    "/504F00000001": (302, "http://203.0.113.7:8080/"),
    "/504F00000002": (302, "https://203-0-113-8.504f00000002.dyndns.loxonecloud.com:4443/"),
    "/504F00000003": (307, "https://198.51.100.9/"),
    "/504F0000BAD1": (302, "::garbage::"),
    "/504F0000BAD3": (302, None),
}


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(sys.argv[2], "a", encoding="utf-8") as f:
            f.write(self.path + "\n")
        if self.path in REDIRECTS:
            status, loc = REDIRECTS[self.path]
            self.send_response(status)
            if loc is not None:
                self.send_header("Location", loc)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/504F0000BAD0":
            body = b"<html><body>Miniserver not reachable</body></html>"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path == "/504F0000BAD2":
            self.wfile.write(b"\x00\x01\x02garbage\xff\r\n\r\n")
            self.close_connection = True
        elif self.path == "/504F0000DEAD":
            time.sleep(60)
        else:
            self.send_error(404, "unknown serial")

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer.daemon_threads = True
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
