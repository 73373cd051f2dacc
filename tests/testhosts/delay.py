"""Link latency for a test host where the kernel has no ``sch_netem``.

``Lab.add_latency`` uses ``tc netem``; some kernels (this project's 2-core
Firecracker machines: ``tc qdisc add ... netem`` answers "Specified qdisc
kind is unknown", and neither ``fq`` nor ``etf`` exist for EDT delays) have
no qdisc that delays. Then a small relay in the hub namespace does it: the
host's bridge port is taken off the bridge, a new veth pair plugs a
relay-side end into it, and this program copies every Ethernet frame
between the host's veth and that end, each direction after its own fixed
delay (frames keep their order). Packets whose checksum the sender left to
offload (``TP_STATUS_CSUMNOTREADY``) are completed first: UDP over IPv4
gets "no checksum" (0), TCP a computed one. Frames above the MTU (TCP
segmentation offload) are dropped and counted: the mesh is UDP (wireguard-go
sends MTU-sized datagrams), so only TCP on the underlay would notice.

    python3 delay.py HOST_IF RELAY_IF DELAY_TO_HOST_MS DELAY_FROM_HOST_MS
"""

from __future__ import annotations

import select
import socket
import struct
import subprocess
import sys
import time
from collections import deque
from pathlib import Path

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_AUXDATA = 8
PACKET_OUTGOING = 4
TP_STATUS_CSUMNOTREADY = 8
AUXDATA = struct.Struct("IIIHHHH")


def _sum16(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def complete_checksum(frame: bytes) -> bytes:
    """The L4 checksum a CHECKSUM_PARTIAL IPv4 frame still lacks."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00":
        return frame
    ihl = (frame[14] & 0x0F) * 4
    proto, l4 = frame[23], 14 + ihl
    total_len = struct.unpack("!H", frame[16:18])[0]
    segment = bytearray(frame[l4:14 + total_len])
    if proto == 17 and len(segment) >= 8:
        segment[6:8] = b"\0\0"  # UDP over IPv4: "no checksum" is valid
    elif proto == 6 and len(segment) >= 20:
        segment[16:18] = b"\0\0"
        pseudo = frame[26:34] + struct.pack("!BBH", 0, 6, len(segment))
        segment[16:18] = struct.pack("!H", (~_sum16(pseudo + bytes(segment))) & 0xFFFF)
    else:
        return frame
    return frame[:l4] + bytes(segment) + frame[14 + total_len:]


def _open(ifname: str) -> socket.socket:
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    sock.bind((ifname, 0))
    sock.setblocking(False)
    return sock


MAX_LIFETIME_S = 1800  # a forgotten relay stops by itself (the lab's teardown ends it first)


def relay(host_if: str, relay_if: str, to_host_s: float, from_host_s: float) -> None:
    host_sock, relay_sock = _open(host_if), _open(relay_if)
    deadline = time.monotonic() + MAX_LIFETIME_S
    # source socket -> (destination socket, delay, queue of (due, frame))
    lanes = {host_sock: (relay_sock, from_host_s, deque()), relay_sock: (host_sock, to_host_s, deque())}
    dropped = 0
    print("ready", flush=True)
    while time.monotonic() < deadline:
        now = time.monotonic()
        dues = [q[0][0] for _, _, q in lanes.values() if q]
        timeout = max(0.0, min(dues) - now) if dues else 1.0
        readable, _, _ = select.select(list(lanes), [], [], timeout)
        for sock in readable:
            out, delay, queue = lanes[sock]
            for _ in range(256):
                try:
                    frame, ancdata, _, address = sock.recvmsg(65535, socket.CMSG_SPACE(AUXDATA.size))
                except BlockingIOError:
                    break
                if address[2] == PACKET_OUTGOING:
                    continue  # our own send on this interface
                for level, kind, data in ancdata:
                    if level == SOL_PACKET and kind == PACKET_AUXDATA and AUXDATA.unpack(data[:AUXDATA.size])[0] & TP_STATUS_CSUMNOTREADY:
                        frame = complete_checksum(frame)
                queue.append((time.monotonic() + delay, frame))
        now = time.monotonic()
        for out, _, queue in lanes.values():
            while queue and queue[0][0] <= now:
                _, frame = queue.popleft()
                try:
                    out.send(frame)
                except OSError:
                    dropped += 1  # above the MTU (offloaded TCP segment) or the queue full


def _hub(lab, *cmd: str) -> None:
    subprocess.run(["ip", "-n", lab.hub, *cmd], check=True, capture_output=True, timeout=10)


def delay_host_link(lab, host, to_host_ms: float, from_host_ms: float) -> subprocess.Popen:
    """Put the relay between ``host`` and the bridge (both directions delayed).
    The returned process runs in the hub namespace: the lab's teardown ends it;
    the caller waits for it."""
    relay_end, bridge_end = f"d{host.hub_veth}"[:13] + "r", f"d{host.hub_veth}"[:13] + "b"
    _hub(lab, "link", "set", host.hub_veth, "nomaster")
    _hub(lab, "link", "add", bridge_end, "type", "veth", "peer", "name", relay_end)
    _hub(lab, "link", "set", bridge_end, "master", "br0", "up")
    for ifname in (relay_end, host.hub_veth):
        _hub(lab, "link", "set", ifname, "promisc", "on", "up")
    proc = subprocess.Popen(["ip", "netns", "exec", lab.hub, sys.executable, str(Path(__file__).resolve()),
                             host.hub_veth, relay_end, str(to_host_ms), str(from_host_ms)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    if proc.stdout.readline().strip() != "ready":
        proc.kill()
        proc.wait()
        raise RuntimeError(f"the delay relay for {host.name} did not start")
    return proc


def netem_available(lab) -> bool:
    probe = subprocess.run(["ip", "netns", "exec", lab.hub, "tc", "qdisc", "add", "dev", "lo", "root", "netem",
                            "delay", "1ms"], capture_output=True, text=True, timeout=10)
    if probe.returncode == 0:
        subprocess.run(["ip", "netns", "exec", lab.hub, "tc", "qdisc", "del", "dev", "lo", "root"], capture_output=True, timeout=10)
    return probe.returncode == 0


if __name__ == "__main__":
    relay(sys.argv[1], sys.argv[2], float(sys.argv[3]) / 1000, float(sys.argv[4]) / 1000)
