"""Screenshots that hold up: a visible banner in every PNG, checked before the file is kept.

The banner names the AWS account, the region, the UTC time and the URL or source, in black on yellow
across the top, so a picture pasted anywhere still says what it shows. Three ways in:
- `capture`: a browser page (console or evidence page). The banner is added to the page's DOM and
  checked there (text, position, nothing covering it) and then in the captured pixels.
- `save_image`: a PNG from elsewhere (a CloudWatch chart). The banner is burned in above it.
- `stamp_unrecorded`: the worker's catch-all for a PNG a tool wrote without either; it burns the banner
  in itself, naming the tool as the source.
`capture` and `save_image` run in the tool's process (through `ctx`) and note the banner for the manifest.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from workers.evidence_notes import append_note

BANNER_ID = "auditbot-evidence-banner"
BANNER_COLOUR = (255, 215, 0)
TEXT_COLOUR = (0, 0, 0)
FONT_SIZE = 14
PADDING = 8
MAX_PAGE_HEIGHT = 6000  # taller full-page images are too large to read or attach
COLOUR_TOLERANCE = 6

INJECT_SCRIPT = """
const old = document.getElementById(arguments[0]);
if (old) { old.remove(); }
const banner = document.createElement('div');
banner.id = arguments[0];
banner.textContent = arguments[1];
banner.style.cssText = 'position:fixed;top:0;left:0;right:0;z-index:2147483647;padding:8px 12px;margin:0;'
  + 'background:#ffd700;color:#000;font:bold 14px monospace;border-bottom:2px solid #000;'
  + 'visibility:visible;opacity:1;display:block;white-space:normal;word-break:break-all;';
document.documentElement.appendChild(banner);
document.body.style.paddingTop = banner.offsetHeight + 'px';
"""
CHECK_SCRIPT = """
const banner = document.getElementById(arguments[0]);
if (!banner) { return null; }
const box = banner.getBoundingClientRect();
const style = getComputedStyle(banner);
const hit = document.elementFromPoint(box.left + 2, box.top + 2);
return {text: banner.textContent, top: box.top, left: box.left, width: box.width, height: box.height,
        viewport: window.innerWidth, shown: style.visibility === 'visible' && style.display !== 'none'
        && Number(style.opacity) === 1, on_top: hit !== null && banner.contains(hit)};
"""
PAGE_HEIGHT_SCRIPT = ("return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)"
                      " + window.outerHeight - window.innerHeight;")


class BannerMissing(RuntimeError):
    """The banner is not where it must be; no screenshot is kept without it."""


def banner_text(account: str, region: str, when: datetime, source: str) -> str:
    return f"AWS account {account} | region {region} | {utc(when)} | {source}"


def utc(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def capture(driver: Any, path: Path, *, account: str, region: str, source: str) -> dict[str, str]:
    """Screenshot the browser's whole page (up to `MAX_PAGE_HEIGHT`) with the banner, checked twice."""
    captured_at = datetime.now(UTC)
    text = banner_text(account, region, captured_at, source)
    driver.execute_script(INJECT_SCRIPT, BANNER_ID, text)
    width = driver.get_window_size()["width"]
    height = min(max(int(driver.execute_script(PAGE_HEIGHT_SCRIPT)), 200), MAX_PAGE_HEIGHT)
    driver.set_window_size(width, height)
    check_dom(driver.execute_script(CHECK_SCRIPT, BANNER_ID), text)
    png = driver.get_screenshot_as_png()
    if not has_banner(png):
        raise BannerMissing("the captured image does not show the evidence banner at its top; no screenshot kept")
    path.write_bytes(png)
    append_note(path.parent, "screenshot", path.name, banner=text, source=source, captured_at=utc(captured_at),
                checked="dom+pixels")
    return {"file": path.name, "banner": text, "captured_at": utc(captured_at)}


def check_dom(seen: dict[str, Any] | None, text: str) -> None:
    """The banner element as the page reports it: our text, at the very top, full width, visible, uncovered."""
    if not seen:
        raise BannerMissing("the page has no evidence banner element")
    problems = [
        "its text differs" if seen["text"] != text else "",
        "it is not at the top of the page" if seen["top"] != 0 or seen["left"] != 0 else "",
        "it is not full width" if seen["width"] < 0.95 * seen["viewport"] else "",
        "it has no height" if seen["height"] < FONT_SIZE else "",
        "it is hidden" if not seen["shown"] else "",
        "something covers it" if not seen["on_top"] else "",
    ]
    found = [p for p in problems if p]
    if found:
        raise BannerMissing("the evidence banner is not shown properly: " + ", ".join(found))


def save_image(png: bytes, path: Path, *, account: str, region: str, source: str) -> Path:
    """Write `png` with the banner burned in above it, and note it for the manifest."""
    captured_at = datetime.now(UTC)
    text = banner_text(account, region, captured_at, source)
    path.write_bytes(burn_banner(png, text))
    append_note(path.parent, "screenshot", path.name, banner=text, source=source, captured_at=utc(captured_at),
                checked="burned in")
    return path


def stamp_unrecorded(path: Path, text: str) -> None:
    """The worker's catch-all: burn the banner into a PNG that arrived without one on record."""
    path.write_bytes(burn_banner(path.read_bytes(), text))


def burn_banner(png: bytes, text: str) -> bytes:
    """A new PNG: the banner strip (text wrapped to the width) on top, the original image below it."""
    with Image.open(io.BytesIO(png)) as original:
        image = original.convert("RGBA")
    font = ImageFont.load_default(size=FONT_SIZE)
    width = max(image.width, 400)
    lines = _wrap(text, font, width - 2 * PADDING)
    line_height = FONT_SIZE + 4
    strip = 2 * PADDING + line_height * len(lines) + 2
    out = Image.new("RGB", (width, strip + image.height), "white")
    draw = ImageDraw.Draw(out)
    draw.rectangle((0, 0, width, strip - 3), fill=BANNER_COLOUR)
    draw.rectangle((0, strip - 2, width, strip - 1), fill=TEXT_COLOUR)
    for index, line in enumerate(lines):
        draw.text((PADDING, PADDING + index * line_height), line, fill=TEXT_COLOUR, font=font)
    out.paste(image, (0, strip), image)
    buffer = io.BytesIO()
    out.save(buffer, format="PNG")
    return buffer.getvalue()


def _wrap(text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, room: float) -> list[str]:
    """Greedy wrapping by measured width; a word wider than a line (a long URL) is broken anywhere."""
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        candidate = f"{line} {word}" if line else word
        if font.getlength(candidate) <= room:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = word
        while font.getlength(line) > room:
            cut = max(n for n in range(1, len(line) + 1) if font.getlength(line[:n]) <= room or n == 1)
            lines.append(line[:cut])
            line = line[cut:]
    return [*lines, line]


def has_banner(png: bytes) -> bool:
    """The banner colour at the top-left corner and the top centre (both in its padding, not under text)."""
    try:
        with Image.open(io.BytesIO(png)) as image:
            rgb = image.convert("RGB")
            return all(_close(rgb.getpixel(point)) for point in ((2, 2), (rgb.width // 2, 2)))
    except OSError:
        return False


def _close(pixel: Any) -> bool:
    return all(abs(int(a) - b) <= COLOUR_TOLERANCE for a, b in zip(pixel, BANNER_COLOUR, strict=True))
