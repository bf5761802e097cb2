"""Draw the app icons (PNG 192 and 512, plain and maskable) from the logo's shapes.

Run from the repository root: python scripts/make_icons.py; the PNGs are committed.
"""
from pathlib import Path

from PIL import Image, ImageDraw

BRAND = (11, 110, 79, 255)  # #0b6e4f, the theme colour
WHITE = (255, 255, 255, 255)
CHECK = [(120, 300), (210, 380), (390, 160)]  # the tick of icons/icon.svg (512 x 512)
OUT = Path(__file__).resolve().parent.parent / "secgo" / "static" / "icons"
SUPER = 4  # draw large, then shrink: smooth edges


def draw(size: int, maskable: bool) -> Image.Image:
    """One icon: a rounded square (plain) or a full square with the tick in the safe zone."""
    big = size * SUPER
    unit = big / 512
    img = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    pen = ImageDraw.Draw(img)
    if maskable:
        pen.rectangle((0, 0, big, big), fill=BRAND)
        scale, shift = 0.8, 512 * 0.1  # inside the 80 % circle launchers keep
    else:
        pen.rounded_rectangle((0, 0, big - 1, big - 1), radius=96 * unit, fill=BRAND)
        scale, shift = 1.0, 0.0
    points = [((x * scale + shift) * unit, (y * scale + shift) * unit) for x, y in CHECK]
    width = round(56 * scale * unit)
    pen.line(points, fill=WHITE, width=width, joint="curve")
    for x, y in (points[0], points[-1]):  # round caps
        r = width / 2
        pen.ellipse((x - r, y - r, x + r, y + r), fill=WHITE)
    return img.resize((size, size), Image.Resampling.LANCZOS)


def snap(icon: Image.Image) -> Image.Image:
    """Palette entries within a few steps of the brand green or white become exactly those
    (the octree quantizer drops low bits); nearly opaque becomes opaque."""
    palette = icon.getpalette(rawmode="RGBA")
    for i in range(0, len(palette), 4):
        entry = palette[i:i + 4]
        for exact in (BRAND, WHITE):
            if entry[3] >= 250 and all(abs(a - b) <= 3 for a, b in zip(entry[:3], exact[:3], strict=True)):
                palette[i:i + 4] = exact
    icon.putpalette(palette, rawmode="RGBA")
    return icon


def main() -> None:
    """Write icon-192.png, icon-512.png, maskable-192.png and maskable-512.png."""
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        for maskable, name in ((False, "icon"), (True, "maskable")):
            # Two colours and their anti-aliased edges: a 32-colour palette (with alpha) looks
            # the same and weighs a third of full RGBA, which counts against the app shell.
            icon = snap(draw(size, maskable).quantize(32, method=Image.Quantize.FASTOCTREE))
            icon.save(OUT / f"{name}-{size}.png", optimize=True)


if __name__ == "__main__":
    main()
