#!/usr/bin/env python3
"""A small TCP proxy for bench/e2e-crash.py: python3 e2e_proxy.py LISTEN_PORT TARGET_PORT (127.0.0.1 both).

Prints "proxying <port>" once it listens. Killing it (SIGKILL) cuts every connection through it at once: the
kernel closes its sockets, so both ends see the network path go away, as when a load balancer or link dies.
"""
import asyncio
import sys


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            writer.close()
        except OSError:
            pass


async def handle(client_reader, client_writer, target):
    try:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target)
    except OSError:
        client_writer.transport.abort()  # nothing behind us: refuse the way a dead backend does
        return
    await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))


async def main():
    listen, target = int(sys.argv[1]), int(sys.argv[2])
    server = await asyncio.start_server(lambda r, w: handle(r, w, target), "127.0.0.1", listen, reuse_address=True)
    print(f"proxying {listen}", flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
