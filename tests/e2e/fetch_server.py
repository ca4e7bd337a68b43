#!/usr/bin/env python3
"""A local HTTP server for tests/e2e/fetch_weights.t.sh, built on Python's
http.server: serves ROOT on 127.0.0.1 at a free port (written to PORT_FILE
once listening), honours "Range: bytes=N-" (206 Partial Content), and logs
every GET as "path<TAB>range" lines to LOG_FILE. Requests under a path
starting with DROP_PREFIX are cut the first time each file is asked for:
the headers announce the whole file, half the body is sent, and the
connection is closed (an interrupted download).

  python3 tests/e2e/fetch_server.py ROOT PORT_FILE LOG_FILE [DROP_PREFIX]
"""
import http.server
import os
import re
import sys

ROOT, PORT_FILE, LOG_FILE = sys.argv[1], sys.argv[2], sys.argv[3]
DROP_PREFIX = sys.argv[4] if len(sys.argv) > 4 else None
dropped = set()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: the log file is the record
        pass

    def do_GET(self):
        rng = self.headers.get("Range", "")
        with open(LOG_FILE, "a") as log:
            log.write(f"{self.path}\t{rng}\n")
        path = os.path.realpath(os.path.join(ROOT, self.path.lstrip("/")))
        if not path.startswith(os.path.realpath(ROOT) + os.sep) or not os.path.isfile(path):
            self.send_error(404)
            return
        with open(path, "rb") as f:
            data = f.read()
        start = 0
        m = re.fullmatch(r"bytes=(\d+)-", rng)
        if m:
            start = int(m.group(1))
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        if DROP_PREFIX and self.path.startswith(DROP_PREFIX) and self.path not in dropped:
            dropped.add(self.path)
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.wfile.write(body)


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
with open(PORT_FILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(PORT_FILE + ".tmp", PORT_FILE)
server.serve_forever()
