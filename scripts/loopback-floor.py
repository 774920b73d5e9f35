#!/usr/bin/env python3
"""The machine's floor for light-traffic fan-out: what one small write to one loopback TCP
connection costs in the kernel, with no gateway involved. A broadcast to N connections needs N such
writes (one per connection) however the server is written, so N x this cost, shared over the cores,
is the least time the last subscriber can wait.

Usage: scripts/loopback-floor.py [connections (5000)] [rounds (5)]
Prints the median cost per write and per read (microseconds) and the floor for 10,000 subscribers.
"""
import resource, socket, statistics, sys, time

n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 2 * n + 100)), hard))
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(4096)
port = listener.getsockname()[1]
clients, servers = [], []
for _ in range(n):
    c = socket.create_connection(("127.0.0.1", port))
    s, _ = listener.accept()
    for sock in (c, s):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    clients.append(c)
    servers.append(s)
message = b"x" * 180  # a 128-byte push in a goim packet and frame
writes, reads = [], []
for _ in range(rounds):
    t0 = time.perf_counter()
    for s in servers:
        s.send(message)
    t1 = time.perf_counter()
    for c in clients:
        c.recv(4096)
    t2 = time.perf_counter()
    writes.append((t1 - t0) / n * 1e6)
    reads.append((t2 - t1) / n * 1e6)
for sock in clients + servers + [listener]:
    sock.close()
w, r = statistics.median(writes), statistics.median(reads)
cores = len(__import__("os").sched_getaffinity(0))
print(f"loopback write   {w:.2f} us per 180-byte write ({n} connections, median of {rounds} rounds)")
print(f"loopback read    {r:.2f} us per read")
print(f"floor            10,000 writes = {w * 10:.0f} ms of kernel time; on {cores} cores the last "
      f"subscriber waits at least {w * 10 / cores:.0f} ms, the median one {w * 5 / cores:.0f} ms (writes only)")
