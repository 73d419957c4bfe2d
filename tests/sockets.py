"""What a process really listens on, read from /proc (Linux only)."""

import os
import socket
import struct


def listening_addresses(pid):
    """The (ip, port) of every TCP socket `pid` listens on, IPv4 and IPv6."""
    inodes = _socket_inodes(pid)
    found = []
    for table, family in (("tcp", socket.AF_INET), ("tcp6", socket.AF_INET6)):
        with open(f"/proc/{pid}/net/{table}") as stream:
            next(stream)
            for line in stream:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state == "0A" and inode in inodes:
                    found.append(_decode(local, family))
    return found


def _socket_inodes(pid):
    """The inode numbers of the sockets `pid` holds open."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _decode(local, family):
    """Turn /proc's hex `ADDR:PORT` into an (ip, port) pair."""
    addr, port = local.split(":")
    raw = bytes.fromhex(addr)
    # /proc prints each 32-bit word of the address in host byte order.
    words = [raw[i:i + 4] for i in range(0, len(raw), 4)]
    packed = b"".join(struct.pack("=I", struct.unpack(">I", w)[0]) for w in words)
    return socket.inet_ntop(family, packed), int(port, 16)
