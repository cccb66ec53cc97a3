"""Free loopback ports for the test servers, from outside the kernel's ephemeral range.

Asking the kernel for port 0 and closing the socket hands out a port from the ephemeral range
(net.ipv4.ip_local_port_range), the same range every outgoing connection on the machine takes its
local port from: between the pick and the server's own bind, any client socket may take it. CI
saw exactly that: RabbitMQ's distribution port "could not bind ... not_erlang". Ports below the
range are never given to client sockets, so a port found free there stays free unless another
server binds it on purpose; this process also never hands out the same port twice.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

HOST = "127.0.0.1"
#: Below this are well-known and registered ports that system services may listen on.
LOWEST = 20000
_EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_handed_out: set[int] = set()


def _ephemeral_start() -> int:
    try:
        return int(_EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port on 127.0.0.1 nothing listens on, below the ephemeral range, not handed out before."""
    highest = _ephemeral_start() - 1
    if highest <= LOWEST:
        raise RuntimeError(f"the ephemeral port range in {_EPHEMERAL_RANGE} starts at {highest + 1}, "
                           f"leaving no ports between {LOWEST} and it for the test servers")
    candidates = list(range(LOWEST, highest + 1))
    random.shuffle(candidates)  # two test processes seldom try the same port first
    for port in candidates:
        if port not in _handed_out and _bindable(port):
            _handed_out.add(port)
            return port
    raise RuntimeError(f"no free port on {HOST} between {LOWEST} and {highest}")
