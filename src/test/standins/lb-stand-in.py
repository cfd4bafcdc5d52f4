#!/usr/bin/env python3
"""lb-stand-in: a TCP load balancer on the VIP, as HAProxy in TCP mode would be: it accepts every
connection and forwards it to the first apiserver (ADDRESS:6443) that accepts one, round robin;
with no backend up it closes the connection.
Usage: lb-stand-in.py LISTEN_ADDRESS PORT BACKEND..."""
import asyncio
import itertools
import sys

listen, port, backends = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
turn = itertools.count()


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
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(backend, 6443), 1)
        except (OSError, asyncio.TimeoutError):
            continue
        await asyncio.gather(pipe(client_reader, writer), pipe(reader, client_writer))
        return
    client_writer.close()


async def main():
    server = await asyncio.start_server(handle, listen, port)
    async with server:
        await server.serve_forever()


asyncio.run(main())
