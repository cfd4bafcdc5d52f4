#!/usr/bin/env python3
"""lb-stand-in: a TCP load balancer on the VIP, as HAProxy in TCP mode is with the rendered
haproxy.cfg: every apiserver (ADDRESS:6443) is health-checked with an HTTPS GET /healthz every
second; it enters rotation after 2 good checks in a row and leaves it after 2 failed ones (inter 1s
rise 2 fall 2). Backends start out of rotation, as HAProxy's are once their first checks failed
(the load balancer is up long before any apiserver). Every connection is accepted and forwarded to
a backend in rotation, round robin; with none in rotation it is closed at once, which a client sees
as an EOF during the TLS handshake -- exactly what HAProxy does in the seconds after `kubeadm init`.
Usage: lb-stand-in.py LISTEN_ADDRESS PORT BACKEND..."""
import asyncio
import itertools
import ssl
import sys

listen, port, backends = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
turn = itertools.count()
in_rotation = {backend: False for backend in backends}
RISE, FALL, INTER = 2, 2, 1.0
CHECK_TLS = ssl.create_default_context()
CHECK_TLS.check_hostname = False
CHECK_TLS.verify_mode = ssl.CERT_NONE  # haproxy.cfg: check-ssl verify none


async def healthy(backend):
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(backend, 6443, ssl=CHECK_TLS), 1)
        try:
            writer.write(b"GET /healthz HTTP/1.0\r\nHost: " + backend.encode() + b"\r\n\r\n")
            status = await asyncio.wait_for(reader.readline(), 1)
            return status.split(b" ")[1:2] == [b"200"]
        finally:
            writer.close()
    except (OSError, asyncio.TimeoutError, ssl.SSLError, IndexError):
        return False


async def check(backend):
    good = bad = 0
    while True:
        if await healthy(backend):
            good, bad = good + 1, 0
            if good >= RISE and not in_rotation[backend]:
                in_rotation[backend] = True
                print(f"{backend} UP", flush=True)
        else:
            good, bad = 0, bad + 1
            if bad >= FALL and in_rotation[backend]:
                in_rotation[backend] = False
                print(f"{backend} DOWN", flush=True)
        await asyncio.sleep(INTER)


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def handle(client_reader, client_writer):
    start = next(turn)
    for i in range(len(backends)):
        backend = backends[(start + i) % len(backends)]
        if not in_rotation[backend]:
            continue
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(backend, 6443), 1)
        except (OSError, asyncio.TimeoutError):
            continue
        await asyncio.gather(pipe(client_reader, writer), pipe(reader, client_writer))
        return
    client_writer.close()


async def main():
    # Kept referenced: the event loop holds tasks only weakly. They run until the process is killed.
    checks = [asyncio.create_task(check(backend)) for backend in backends]
    server = await asyncio.start_server(handle, listen, port)
    async with server:
        await server.serve_forever()


asyncio.run(main())
