"""What hostile pictures cost the classifier's decoding and preprocessing: seconds and peak
memory per file, each measured in a fresh process (``classifier.preprocess.prepare``, the
function the bot's worker threads run).

The bot runs ``DIGITBOT_WORKERS`` of these at once and lets one user have
``DIGITBOT_MAX_IN_FLIGHT_PER_USER`` photos in flight, so a file that takes 1 GB or 20 s here
takes that per worker. Files under the pixel cap (40 megapixels) are decoded in full.

    .venv/bin/python bench/bench_hostile.py [--only NAME ...]
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

SIDE = 6300  # 39.7 megapixels: just under the decoder's 40-megapixel cap


def _save(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _page(lines: int) -> bytes:
    page = np.full((960, 1280), 245, np.uint8)
    scale, thick = {4: (2.0, 4), 8: (1.5, 3), 12: (1.1, 2)}[lines]
    text = "Lorem ipsum 0123456789 dolor sit amet consec"
    for i in range(lines):
        y = 60 + i * (900 // lines)
        cv2.putText(page, text, (20, y), cv2.FONT_HERSHEY_SIMPLEX, scale, 20, thick)
    return _save(Image.fromarray(page), "JPEG", quality=90)


CASES: dict[str, Callable[[], bytes]] = {
    "JPEG 40 MP": lambda: _save(Image.new("RGB", (SIDE, SIDE), "white"), "JPEG"),
    "PNG grey 40 MP": lambda: _save(Image.new("L", (SIDE, SIDE), 255), "PNG"),
    "PNG RGB 40 MP": lambda: _save(Image.new("RGB", (SIDE, SIDE), "white"), "PNG"),
    "PNG RGBA 40 MP (transparent)": lambda: _save(Image.new("RGBA", (SIDE, SIDE)), "PNG"),
    "PNG 16-bit 40 MP": lambda: _save(Image.fromarray(np.full((SIDE, SIDE), 60000, np.uint16)), "PNG"),
    "TIFF float 40 MP": lambda: _save(
        Image.fromarray(np.ones((SIDE, SIDE), np.float32)), "TIFF", compression="tiff_deflate"
    ),
    "WebP 40 MP": lambda: _save(Image.new("RGB", (SIDE, SIDE), "white"), "WEBP", quality=10),
    "GIF 40 MP": lambda: _save(Image.new("L", (SIDE, SIDE), 255), "GIF"),
    "printed page, 4 lines": lambda: _page(4),
    "printed page, 8 lines": lambda: _page(8),
    "printed page, 12 lines": lambda: _page(12),
}

CHILD = """
import json, sys, time
sys.path.insert(0, {root!r})
from classifier.preprocess import prepare
from classifier.imageio import ImageError
data = open({path!r}, "rb").read()
def kb(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0
open("/proc/self/clear_refs", "w").write("5")  # reset the peak (VmHWM)
base = kb("VmRSS")
started = time.process_time()
try:
    digits = len(prepare(data).digits)
except ImageError as exc:
    digits = str(exc)
print(json.dumps({{"cpu": time.process_time() - started, "peak_mb": (kb("VmHWM") - base) / 1024,
                  "digits": digits}}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", nargs="*", help="names (or parts of names) of the cases to run")
    args = parser.parse_args()
    work = Path("/tmp") / "digitbot-bench-hostile"
    work.mkdir(exist_ok=True)
    print(f"{'file':<30} {'bytes':>9} {'CPU s':>7} {'peak MB':>8}  result")
    for name, make in CASES.items():
        if args.only and not any(part.lower() in name.lower() for part in args.only):
            continue
        data = make()
        path = work / "input.bin"
        path.write_bytes(data)
        code = CHILD.format(root=str(ROOT), path=str(path))
        try:
            done = subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, timeout=180, check=True
            )
            result = json.loads(done.stdout.strip().splitlines()[-1])
            digits = result["digits"]
            outcome = digits if isinstance(digits, str) else f"{digits} digits"
            print(f"{name:<30} {len(data):>9} {result['cpu']:>7.2f} {result['peak_mb']:>8.0f}  {outcome}")
        except subprocess.TimeoutExpired:
            print(f"{name:<30} {len(data):>9}  over 180 s")
        except subprocess.CalledProcessError as exc:
            print(f"{name:<30} {len(data):>9}  failed: {exc.stderr.strip().splitlines()[-1:]}")
    path = work / "input.bin"
    path.unlink(missing_ok=True)
    work.rmdir()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
