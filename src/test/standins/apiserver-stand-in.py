#!/usr/bin/env python3
"""apiserver-stand-in: answers what the first-boot script asks a kube-apiserver for (GET /readyz,
/healthz, /livez: 200 ok) over TLS with a certificate signed by the cluster CA, like the real one.
Usage: apiserver-stand-in.py ADDRESS PORT CERT KEY"""
import http.server
import ssl
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.split("?")[0] in ("/readyz", "/healthz", "/livez"):
            body, code = b"ok", 200
        else:
            body, code = b'{"kind":"Status","code":403}', 403
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


address, port, cert, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
server = http.server.ThreadingHTTPServer((address, port), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
