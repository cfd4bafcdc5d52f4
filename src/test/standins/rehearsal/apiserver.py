#!/usr/bin/python3
"""Rehearsal stand-in for kube-apiserver (installed on the stand-in cards by the kubeadm stand-in
package; kubeadm init starts it). Over TLS with a serving certificate from the cluster CA, it answers
/readyz, /healthz and /livez, and keeps what the first-boot scripts write and read: Node objects,
labels, bootstrap tokens, applied manifests (state in /var/lib/apiserver-stand-in/state.json).
Writes need a client certificate that the cluster CA signed (as with the real apiserver's x509
authenticator): admin.conf's (O system:masters), a kubelet's, or a node's join certificate
(O system:bootstrappers:kubeadm:default-node-token), which may only register its own node.
Usage: apiserver.py ADDRESS PORT CERT KEY CA"""
import http.server
import json
import os
import ssl
import sys
import threading

STATE = "/var/lib/apiserver-stand-in/state.json"
LOCK = threading.Lock()


def load():
    try:
        with open(STATE) as f:
            return json.load(f)
    except FileNotFoundError:
        return {"nodes": {}, "tokens": [], "applied": []}


def save(state):
    os.makedirs(os.path.dirname(STATE), exist_ok=True)
    with open(STATE + ".tmp", "w") as f:
        json.dump(state, f, indent=1, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(STATE + ".tmp", STATE)


ADMINS = {"system:masters", "kubeadm:cluster-admins"}


def subject(cert):
    names = {}
    for rdn in (cert or {}).get("subject", ()):
        for key, value in rdn:
            names.setdefault(key, []).append(value)
    return names.get("commonName", [""])[0], names.get("organizationName", [])


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, code, body):
        data = json.dumps(body).encode() if not isinstance(body, bytes) else body
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def user(self):
        return subject(self.connection.getpeercert())

    def refused(self):
        """Answers 403 unless the client is an administrator; True when it did."""
        if ADMINS & set(self.user()[1]):
            return False
        self.reply(403, {"kind": "Status", "code": 403})
        return True

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def do_GET(self):
        path = self.path.split("?")[0]
        if path in ("/readyz", "/healthz", "/livez"):
            return self.reply(200, b"ok")
        cn, groups = self.user()
        if not cn:
            return self.reply(403, {"kind": "Status", "code": 403, "message": "anonymous"})
        with LOCK:
            state = load()
        if path == "/api/v1/nodes":
            return self.reply(200, {"kind": "NodeList", "items": list(state["nodes"].values())})
        if path.startswith("/api/v1/nodes/"):
            node = state["nodes"].get(path.rsplit("/", 1)[1])
            return self.reply(200, node) if node else self.reply(404, {"kind": "Status", "code": 404})
        if path == "/stand-in/tokens":
            return self.reply(200, state["tokens"])
        if path == "/stand-in/applied":
            return self.reply(200, state["applied"])
        return self.reply(404, {"kind": "Status", "code": 404})

    def do_PUT(self):
        path = self.path.split("?")[0]
        cn, groups = self.user()
        name = path.rsplit("/", 1)[1]
        if not path.startswith("/api/v1/nodes/"):
            return self.reply(404, {"kind": "Status", "code": 404})
        allowed = ADMINS & set(groups) or cn == "system:node:" + name or (
            "system:bootstrappers:kubeadm:default-node-token" in groups and cn == "piimage:join:" + name)
        if not allowed:
            return self.reply(403, {"kind": "Status", "code": 403, "message": "%s may not register %s" % (cn, name)})
        with LOCK:
            state = load()
            node = state["nodes"].get(name) or {"metadata": {"name": name, "labels": {}}}
            node["metadata"]["labels"].update(self.body().get("labels", {}))
            node["registeredBy"] = cn
            state["nodes"][name] = node
            save(state)
        return self.reply(200, node)

    def do_PATCH(self):
        path = self.path.split("?")[0]
        if self.refused():
            return None
        with LOCK:
            state = load()
            node = state["nodes"].get(path.rsplit("/", 1)[1])
            if not path.startswith("/api/v1/nodes/") or node is None:
                return self.reply(404, {"kind": "Status", "code": 404})
            node["metadata"]["labels"].update(self.body().get("labels", {}))
            save(state)
        return self.reply(200, node)

    def do_POST(self):
        path = self.path.split("?")[0]
        if self.refused():
            return None
        with LOCK:
            state = load()
            if path == "/stand-in/tokens":
                state["tokens"].append(self.body()["id"])
            elif path == "/stand-in/applied":
                state["applied"].extend(self.body()["objects"])
            else:
                return self.reply(404, {"kind": "Status", "code": 404})
            save(state)
        return self.reply(201, {})

    def do_DELETE(self):
        path = self.path.split("?")[0]
        if self.refused():
            return None
        with LOCK:
            state = load()
            token = path.rsplit("/", 1)[1]
            if not path.startswith("/stand-in/tokens/") or token not in state["tokens"]:
                return self.reply(404, {"kind": "Status", "code": 404})
            state["tokens"].remove(token)
            save(state)
        return self.reply(200, {})

    def log_message(self, fmt, *args):
        sys.stderr.write("apiserver-stand-in: %s %s\n" % (self.address_string(), fmt % args))


address, port, cert, key, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
server = http.server.ThreadingHTTPServer((address, port), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
context.load_verify_locations(ca)
context.verify_mode = ssl.CERT_OPTIONAL
server.socket = context.wrap_socket(server.socket, server_side=True)
print("apiserver-stand-in: serving on %s:%d" % (address, port), flush=True)
server.serve_forever()
