#!/usr/bin/env python3
"""listen.py PORT [BANNER]: accept TCP connections on PORT and greet each with BANNER."""
import socket
import sys

port = int(sys.argv[1])
banner = (sys.argv[2] if len(sys.argv) > 2 else f"hello from port {port}") + "\n"
server = socket.create_server(("", port))
print(f"listening on port {port}", flush=True)
while True:
    conn, peer = server.accept()
    with conn:
        conn.sendall(banner.encode())
