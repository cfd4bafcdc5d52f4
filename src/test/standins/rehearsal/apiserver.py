#!/usr/bin/python3
"""Rehearsal stand-in for kube-apiserver (installed on the stand-in cards by the kubeadm stand-in
package; kubeadm init and control-plane join start it). Over TLS with a serving certificate from the
cluster CA, it answers /readyz, /healthz and /livez (healthy only while it reaches etcd, as the real
apiserver's etcd check), and keeps what the first-boot scripts write and read: Node objects, labels,
annotations, bootstrap tokens, applied manifests. Like the real apiserver it keeps them in the
cluster's etcd (one key, updated by compare-and-swap through etcd's JSON gateway, with the
apiserver-etcd-client certificate), so every control plane's apiserver answers the same; the last
state it saw is also written to /var/lib/apiserver-stand-in/state.json for the test to read back.
Writes need a client certificate that the cluster CA signed (as with the real apiserver's x509
authenticator): admin.conf's (O system:masters), a kubelet's, or a node's join certificate
(O system:bootstrappers:kubeadm:default-node-token), which may only register its own node.
Usage: apiserver.py ADDRESS PORT CERT KEY CA ETCD_URL ETCD_CA ETCD_CERT ETCD_KEY"""
import base64
import http.server
import json
import os
import ssl
import sys
import threading
import time
import urllib.request

STATE = "/var/lib/apiserver-stand-in/state.json"
STATE_KEY = base64.b64encode(b"/registry/apiserver-stand-in/state").decode()
LOCK = threading.Lock()
EMPTY = {"nodes": {}, "tokens": [], "applied": []}


class EtcdDown(Exception):
    pass


def etcd(path, body):
    request = urllib.request.Request(ETCD_URL + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, context=ETCD_CONTEXT, timeout=10) as response:
            return json.load(response)
    except OSError as e:
        raise EtcdDown(str(e)) from e


# When etcd last answered (the health endpoints' etcd check, kept by a thread so that HAProxy's checks
# every second from each control plane get their answer at once, as from the real apiserver).
ETCD_HEALTHY_AT = [-100.0]


def watch_etcd():
    while True:
        try:
            etcd("/v3/kv/range", {"key": STATE_KEY, "count_only": True})
            ETCD_HEALTHY_AT[0] = time.monotonic()
        except EtcdDown:
            pass
        time.sleep(1)


def load():
    """The state as etcd holds it, and its revision (0: never written)."""
    kvs = etcd("/v3/kv/range", {"key": STATE_KEY}).get("kvs") or []
    if not kvs:
        return json.loads(json.dumps(EMPTY)), 0
    state = json.loads(base64.b64decode(kvs[0]["value"]))
    keep(state)
    return state, int(kvs[0].get("mod_revision", 0))


def keep(state):
    os.makedirs(os.path.dirname(STATE), exist_ok=True)
    with open(STATE + ".tmp", "w") as f:
        json.dump(state, f, indent=1, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(STATE + ".tmp", STATE)


def update(change):
    """Applies change(state) (which returns the reply, or None to write nothing) by compare-and-swap."""
    with LOCK:
        for _ in range(50):
            state, revision = load()
            result = change(state)
            if result is None or result[0] >= 400:
                return result
            value = base64.b64encode(json.dumps(state, sort_keys=True).encode()).decode()
            txn = {"compare": [{"key": STATE_KEY, "target": "MOD", "result": "EQUAL", "mod_revision": str(revision)}],
                   "success": [{"request_put": {"key": STATE_KEY, "value": value}}]}
            if etcd("/v3/kv/txn", txn).get("succeeded"):
                keep(state)
                return result
        raise EtcdDown("the state kept changing under this apiserver")


ADMINS = {"system:masters", "kubeadm:cluster-admins"}


def subject(cert):
    names = {}
    for rdn in (cert or {}).get("subject", ()):
        for key, value in rdn:
            names.setdefault(key, []).append(value)
    return names.get("commonName", [""])[0], names.get("organizationName", [])


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        self.request.settimeout(30)
        self.request.do_handshake()
        super().setup()

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
        try:
            if path in ("/readyz", "/healthz", "/livez"):
                if time.monotonic() - ETCD_HEALTHY_AT[0] > 5:
                    raise EtcdDown("no answer from etcd for 5 s")
                return self.reply(200, b"ok")
            cn, groups = self.user()
            if not cn:
                return self.reply(403, {"kind": "Status", "code": 403, "message": "anonymous"})
            state, _ = load()
        except EtcdDown as e:
            return self.reply(500, {"kind": "Status", "code": 500, "message": "etcd: %s" % e})
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

    def write(self, change):
        """Runs change(state) -> (code, body) in an etcd compare-and-swap and replies."""
        try:
            code, body = update(change)
        except EtcdDown as e:
            code, body = 500, {"kind": "Status", "code": 500, "message": "etcd: %s" % e}
        return self.reply(code, body)

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
        body = self.body()

        def change(state):
            node = state["nodes"].get(name) or {"metadata": {"name": name, "labels": {}}}
            node["metadata"]["labels"].update(body.get("labels", {}))
            node["metadata"].setdefault("annotations", {}).update(body.get("annotations", {}))
            node.setdefault("registeredBy", cn)
            node["lastWrittenBy"] = cn
            state["nodes"][name] = node
            return 200, node
        return self.write(change)

    def do_PATCH(self):
        path = self.path.split("?")[0]
        if self.refused():
            return None
        body = self.body()

        def change(state):
            node = state["nodes"].get(path.rsplit("/", 1)[1])
            if not path.startswith("/api/v1/nodes/") or node is None:
                return 404, {"kind": "Status", "code": 404}
            node["metadata"]["labels"].update(body.get("labels", {}))
            return 200, node
        return self.write(change)

    def do_POST(self):
        path = self.path.split("?")[0]
        if self.refused():
            return None
        body = self.body()

        def change(state):
            if path == "/stand-in/tokens":
                state["tokens"].append(body["id"])
            elif path == "/stand-in/applied":
                state["applied"].extend(body["objects"])
            else:
                return 404, {"kind": "Status", "code": 404}
            return 201, {}
        return self.write(change)

    def do_DELETE(self):
        path = self.path.split("?")[0]
        if self.refused():
            return None

        def change(state):
            token = path.rsplit("/", 1)[1]
            if not path.startswith("/stand-in/tokens/") or token not in state["tokens"]:
                return 404, {"kind": "Status", "code": 404}
            state["tokens"].remove(token)
            return 200, {}
        return self.write(change)

    def log_message(self, fmt, *args):
        sys.stderr.write("apiserver-stand-in: %s %s\n" % (self.address_string(), fmt % args))


address, port, cert, key, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
ETCD_URL = sys.argv[6]
ETCD_CONTEXT = ssl.create_default_context(cafile=sys.argv[7])
ETCD_CONTEXT.check_hostname = False  # etcd's serving certificate names addresses; checked by the etcd CA
ETCD_CONTEXT.load_cert_chain(sys.argv[8], sys.argv[9])
server = http.server.ThreadingHTTPServer((address, port), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
context.load_verify_locations(ca)
context.verify_mode = ssl.CERT_OPTIONAL
# The TLS handshake in each request's thread, not in the accepting one (one slow client must not
# hold up the others).
server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
threading.Thread(target=watch_etcd, daemon=True).start()
print("apiserver-stand-in: serving on %s:%d, state in etcd at %s" % (address, port, ETCD_URL), flush=True)
server.serve_forever()
