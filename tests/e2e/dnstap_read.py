#!/usr/bin/env python3
"""tests/e2e/dnstap_read.py FILE... - read Frame Streams files written by
fstrm_capture and print each dnstap message as one JSON object a line.

A decoder of its own, independent of doppel's encoder: it reads the Frame
Streams file format (a START control frame, length-prefixed data frames,
a STOP control frame) and the protobuf wire format field by field, and
names the dnstap schema's fields (Dnstap, Message, Policy) it knows.
Unknown fields are an error: the test wants exactly what was sent.
"""
import ipaddress
import json
import struct
import sys


def varint(b, i):
    v = shift = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return v, i


def fields(b):
    """(number, wire type, value) of each field of a protobuf message."""
    i, out = 0, []
    while i < len(b):
        key, i = varint(b, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(b, i)
        elif wt == 2:
            n, i = varint(b, i)
            v = b[i:i + n]
            if len(v) != n:
                raise ValueError("truncated field %d" % num)
            i += n
        elif wt == 5:
            v = struct.unpack("<I", b[i:i + 4])[0]
            i += 4
        elif wt == 1:
            v = struct.unpack("<Q", b[i:i + 8])[0]
            i += 8
        else:
            raise ValueError("wire type %d" % wt)
        out.append((num, wt, v))
    return out


def dname(b, i=0):
    """A wire-format name (compression followed) -> (text, next index)."""
    labels, jumped, end = [], False, None
    for _ in range(128):
        n = b[i]
        if n == 0:
            i += 1
            break
        if n & 0xC0 == 0xC0:
            if not jumped:
                end = i + 2
            jumped = True
            i = ((n & 0x3F) << 8) | b[i + 1]
            continue
        labels.append(b[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    return ".".join(labels) + ".", (end if jumped else i)


def dns(b):
    """Header counts, rcode and the question of a DNS message."""
    ident, flags, qd, an, ns, ar = struct.unpack(">HHHHHH", b[:12])
    out = {"rcode": flags & 0xF, "qr": bool(flags & 0x8000),
           "an": an, "ns": ns, "ar": ar}
    if qd:
        name, i = dname(b, 12)
        qtype, qclass = struct.unpack(">HH", b[i:i + 4])
        out.update(qname=name, qtype=qtype, qclass=qclass)
    return out


MESSAGE = {1: "type", 2: "socket_family", 3: "socket_protocol",
           4: "query_address", 5: "response_address", 6: "query_port",
           7: "response_port", 8: "query_time_sec", 9: "query_time_nsec",
           10: "query_message", 11: "query_zone", 12: "response_time_sec",
           13: "response_time_nsec", 14: "response_message", 15: "policy"}
POLICY = {1: "type", 2: "rule", 3: "action", 4: "match", 5: "value"}
DNSTAP = {1: "identity", 2: "version", 3: "extra", 14: "message", 15: "type"}


def named(b, names, what):
    d = {}
    for num, _, v in fields(b):
        if num not in names:
            raise ValueError("%s: unknown field %d" % (what, num))
        d[names[num]] = v
    return d


def decode(payload):
    top = named(payload, DNSTAP, "Dnstap")
    msg = named(top["message"], MESSAGE, "Message")
    pol = named(msg["policy"], POLICY, "Policy") if "policy" in msg else {}
    rec = {"identity": top.get("identity", b"").decode(),
           "version": top.get("version", b"").decode(),
           "dnstap_type": top["type"], "message_type": msg["type"]}
    for k in ("socket_family", "socket_protocol", "query_port",
              "query_time_sec", "query_time_nsec", "response_time_sec",
              "response_time_nsec"):
        if k in msg:
            rec[k] = msg[k]
    if "query_address" in msg:
        rec["query_address"] = str(ipaddress.ip_address(
            bytes(msg["query_address"])))
    if "query_message" in msg:
        rec["query"] = dns(msg["query_message"])
    if "response_message" in msg:
        rec["response"] = dns(msg["response_message"])
    if pol:
        p = {"type": pol.get("type", b"").decode(),
             "rule": pol.get("rule", b"").decode(),
             "action": pol.get("action"), "match": pol.get("match")}
        v = pol.get("value", b"")
        if p["match"] == 3 and len(v) in (4, 16):
            p["value"] = str(ipaddress.ip_address(bytes(v)))
        elif v:
            p["value"] = dname(v)[0]
        rec["policy"] = p
    return rec


def frames(data):
    """Data frames of a Frame Streams file; checks its control frames."""
    i, started, stopped = 0, False, False
    while i + 4 <= len(data):
        n = struct.unpack(">I", data[i:i + 4])[0]
        i += 4
        if n == 0:
            clen = struct.unpack(">I", data[i:i + 4])[0]
            ctype = struct.unpack(">I", data[i + 4:i + 8])[0]
            body = data[i + 8:i + 4 + clen]
            i += 4 + clen
            if ctype == 2:
                if b"protobuf:dnstap.Dnstap" not in body:
                    raise ValueError("START without the dnstap type")
                started = True
            elif ctype == 3:
                stopped = True
            continue
        if not started:
            raise ValueError("data before START")
        yield data[i:i + n]
        i += n
    if i != len(data):
        raise ValueError("%d trailing octets" % (len(data) - i))
    if not stopped:
        sys.stderr.write("note: no STOP frame (collector killed)\n")


def main():
    for path in sys.argv[1:]:
        with open(path, "rb") as f:
            data = f.read()
        for payload in frames(data):
            print(json.dumps(decode(payload), sort_keys=True))


if __name__ == "__main__":
    main()
