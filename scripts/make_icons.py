"""Draw the app icons (a plain flag on a calm background) as PNGs, with no image library.

Run once after changing the design: python scripts/make_icons.py
Writes web/icons/icon-192.png, icon-512.png and maskable-512.png.
"""
import struct
import zlib
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "web" / "icons"
BACKGROUND = (47, 72, 88)      # slate blue, the theme colour
POLE = (236, 233, 226)         # off-white
FLAG = (214, 96, 77)           # muted red
SAMPLES = 4                    # 4x4 samples per pixel: smooth edges without a library


def png(width, height, rows):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + bytes(row) for row in rows)
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b""))


def shape_at(x, y, scale, rounded):
    """Colour at (x, y) in a 0..1 square, or None outside the rounded background."""
    if rounded:
        r = 0.18
        cx, cy = min(max(x, r), 1 - r), min(max(y, r), 1 - r)
        if (x - cx) ** 2 + (y - cy) ** 2 > r * r:
            return None
    # Centre the drawing and shrink it by `scale` (maskable icons keep a safe zone).
    u, v = 0.5 + (x - 0.5) / scale, 0.5 + (y - 0.5) / scale
    if 0.30 <= u <= 0.36 and 0.18 <= v <= 0.84:
        return POLE
    if 0.36 < u <= 0.74 and 0.20 <= v <= 0.52:
        # A swallow-tail notch on the fly side.
        notch = 0.74 - u < 0.10 and abs(v - 0.36) < (0.10 - (0.74 - u)) * 1.2
        if not notch:
            return FLAG
    return BACKGROUND


def draw(size, scale, rounded):
    rows = []
    for py in range(size):
        row = []
        for px in range(size):
            acc, covered = [0.0, 0.0, 0.0], 0
            for sy in range(SAMPLES):
                for sx in range(SAMPLES):
                    colour = shape_at((px + (sx + 0.5) / SAMPLES) / size,
                                      (py + (sy + 0.5) / SAMPLES) / size, scale, rounded)
                    if colour is None:  # outside the rounded square: transparent
                        continue
                    covered += 1
                    for i in range(3):
                        acc[i] += colour[i]
            if covered:
                row.extend(round(c / covered) for c in acc)
            else:
                row.extend((0, 0, 0))
            row.append(round(255 * covered / SAMPLES ** 2))
        rows.append(row)
    return png(size, size, rows)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "icon-192.png").write_bytes(draw(192, 1.0, rounded=True))
    (OUT / "icon-512.png").write_bytes(draw(512, 1.0, rounded=True))
    # Maskable: full bleed, the flag inside the central 80% safe zone.
    (OUT / "maskable-512.png").write_bytes(draw(512, 0.72, rounded=False))


if __name__ == "__main__":
    main()
