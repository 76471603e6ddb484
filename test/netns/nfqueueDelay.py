#!/usr/bin/env python3
"""Delays every packet of one NFQUEUE by a fixed time, keeping their order.

    nfqueueDelay.py QUEUE_NUM DELAY_MS

This kernel has no netem; iptables sends the packets to delay here
(`-j NFQUEUE --queue-num QUEUE_NUM --queue-bypass`), and this program gives each one its
NF_ACCEPT verdict DELAY_MS after it arrived. Raw nfnetlink from the standard library only
(no libnetfilter_queue). Run it inside the namespace whose rule feeds the queue: queues are
per network namespace.

Prints "ready" on stdout once bound (packets queued before that pass undelayed, thanks to
--queue-bypass). Exits when stdin reaches EOF, i.e. when its parent dies or closes the pipe:
a crashed test leaves no delay process behind.
"""
import collections
import os
import select
import socket
import struct
import sys
import time

NETLINK_NETFILTER = 12
SOL_NETLINK = 270
NETLINK_NO_ENOBUFS = 5
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET = 0
NFQNL_MSG_CONFIG = 2
NFQNL_MSG_VERDICT_BATCH = 3
NFQA_PACKET_HDR = 1
NFQA_VERDICT_HDR = 2
NFQA_CFG_CMD = 1
NFQA_CFG_PARAMS = 2
NFQA_CFG_QUEUE_MAXLEN = 3
NFQNL_CFG_CMD_BIND = 1
NFQNL_COPY_META = 1
NF_ACCEPT = 1
NLM_F_REQUEST = 1
NLM_F_ACK = 4
NLMSG_ERROR = 2
NLMSG_NOOP = 1


def attr(kind, payload):
    """One netlink attribute (type and length in host order), padded to 4 bytes."""
    length = 4 + len(payload)
    return struct.pack("=HH", length, kind) + payload + b"\0" * ((4 - length % 4) % 4)


def message(kind, queue, payload, seq, flags=NLM_F_REQUEST):
    """nlmsghdr + nfgenmsg (AF_UNSPEC, NFNETLINK_V0, queue number big-endian) + attributes."""
    body = struct.pack("=BBH", socket.AF_UNSPEC, 0, socket.htons(queue)) + payload
    return struct.pack("=IHHII", 16 + len(body), (NFNL_SUBSYS_QUEUE << 8) | kind, flags, seq, 0) + body


def request(sock, kind, queue, payload, seq):
    """Sends a config message and waits for its ACK; raises OSError on a netlink error."""
    sock.send(message(kind, queue, payload, seq, NLM_F_REQUEST | NLM_F_ACK))
    while True:
        data = sock.recv(65536)
        offset = 0
        while offset + 16 <= len(data):
            length, mtype, _flags, mseq, _pid = struct.unpack_from("=IHHII", data, offset)
            if mtype == NLMSG_ERROR and mseq == seq:
                (errno,) = struct.unpack_from("=i", data, offset + 16)
                if errno != 0:
                    raise OSError(-errno, os.strerror(-errno))
                return
            offset += (length + 3) & ~3


def packet_ids(data):
    """The packet ids of the NFQNL_MSG_PACKET messages in one recv buffer, in order."""
    ids = []
    offset = 0
    while offset + 16 <= len(data):
        length, mtype, _flags, _seq, _pid = struct.unpack_from("=IHHII", data, offset)
        if length < 16:
            break
        if mtype == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
            a = offset + 20  # after nlmsghdr (16) and nfgenmsg (4)
            end = offset + length
            while a + 4 <= end:
                alen, akind = struct.unpack_from("=HH", data, a)
                if alen < 4:
                    break
                if akind & 0x7FFF == NFQA_PACKET_HDR:
                    ids.append(struct.unpack_from("!I", data, a + 4)[0])
                    break
                a += (alen + 3) & ~3
        offset += (length + 3) & ~3
    return ids


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: nfqueueDelay.py QUEUE_NUM DELAY_MS\n")
        return 2
    queue = int(sys.argv[1])
    delay = float(sys.argv[2]) / 1000.0
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 * 1024 * 1024)
    sock.setsockopt(SOL_NETLINK, NETLINK_NO_ENOBUFS, 1)
    sock.bind((0, 0))
    request(sock, NFQNL_MSG_CONFIG, queue, attr(NFQA_CFG_CMD, struct.pack("!BBH", NFQNL_CFG_CMD_BIND, 0, 0)), 1)
    params = attr(NFQA_CFG_PARAMS, struct.pack("!IB", 0, NFQNL_COPY_META))
    params += attr(NFQA_CFG_QUEUE_MAXLEN, struct.pack("!I", 65536))
    request(sock, NFQNL_MSG_CONFIG, queue, params, 2)
    sys.stdout.write("ready\n")
    sys.stdout.flush()

    # (release time, packet id), in arrival order; all share one delay, so release order is
    # arrival order and one batch verdict (every id up to N) releases a whole run of them.
    pending = collections.deque()
    stdin = sys.stdin.fileno()
    seq = 3
    while True:
        timeout = None
        if pending:
            timeout = max(0.0, pending[0][0] - time.monotonic())
        readable, _, _ = select.select([sock, stdin], [], [], timeout)
        if stdin in readable and not os.read(stdin, 4096):
            return 0
        if sock in readable:
            while True:
                try:
                    data = sock.recv(65536, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    break
                now = time.monotonic()
                for pid in packet_ids(data):
                    pending.append((now + delay, pid))
        now = time.monotonic()
        last = None
        while pending and pending[0][0] <= now:
            last = pending.popleft()[1]
        if last is not None:
            seq += 1
            verdict = attr(NFQA_VERDICT_HDR, struct.pack("!II", NF_ACCEPT, last))
            sock.send(message(NFQNL_MSG_VERDICT_BATCH, queue, verdict, seq))


if __name__ == "__main__":
    sys.exit(main())
