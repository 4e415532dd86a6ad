#!/usr/bin/env python3
"""Draws the demo image shipped with the project (model/src/main/resources/dev/alexnet/model/demo.png):
a 320x256 sunset over the sea, procedurally, so the project owns it outright. Standard library only."""
import math, struct, sys, zlib

W, H = 320, 256
def pixel(x, y):
    horizon = 150
    if y < horizon:                               # sky: orange to violet
        t = y / horizon
        r, g, b = 250 - 90 * t, 170 - 120 * t, 90 + 60 * t
    else:                                         # sea: dark blue with ripples
        t = (y - horizon) / (H - horizon)
        ripple = 12 * math.sin(x / 7.0 + y * 0.9) * (1 - t)
        r, g, b = 30 + ripple, 60 + 30 * (1 - t) + ripple, 110 + 40 * (1 - t)
    dx, dy = x - 160, y - 120                     # the sun, half set
    d = math.hypot(dx, dy)
    if d < 38 and y < horizon:
        r, g, b = 255, 220 - d, 120
    elif y >= horizon and abs(dx) < 40 - (y - horizon) * 0.3 and (y // 3) % 2 == 0:
        r, g, b = min(255, r + 120), min(255, g + 90), b + 10   # its reflection
    return bytes(max(0, min(255, int(c))) for c in (r, g, b))

rows = b"".join(b"\x00" + b"".join(pixel(x, y) for x in range(W)) for y in range(H))
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", W, H, 8, 2, 0, 0, 0)) \
      + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")
open(sys.argv[1] if len(sys.argv) > 1 else "demo.png", "wb").write(png)
