"""Everything the bot says, and the buttons under its answers (pure functions, no I/O)."""

from __future__ import annotations

import math

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from classifier.reader import UNSURE_BELOW, DigitResult, Reading

# Image formats the bot reads from files, by MIME type and by file name extension.
IMAGE_TYPES = {
    "image/jpeg": "JPEG",
    "image/pjpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WebP",
    "image/bmp": "BMP",
    "image/x-bmp": "BMP",
    "image/x-ms-bmp": "BMP",
    "image/tiff": "TIFF",
    "image/gif": "GIF",
}
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".jpe", ".png", ".webp", ".bmp", ".dib", ".tif", ".tiff", ".gif")
FORMATS = "JPEG, PNG, WebP, BMP, TIFF or GIF"

START = (
    "Hi! I read handwritten digits. Send me a photo of a digit or a number and I'll tell you what it says."
)
HELP = (
    "I read handwritten digits from photos.\n"
    "\n"
    "Send a photo of one digit or a number written on paper: I reply with what I read and how "
    "sure I am. You can also send the picture as a file (" + FORMATS + ").\n"
    "\n"
    "For a good photo: dark pen on plain light paper, digits large and in one row, good light, "
    "no shadows.\n"
    "\n"
    'Tap "What I saw" under an answer to see the digits the model was given. To make that button '
    "work I keep each answer (a small grey copy of the photo and the digits found) for {days} days."
)

SEEN_BUTTON = "🔍 What I saw"
SEEN_PREFIX = "saw"  # callback data: "saw:<answer id>"

RATE_LIMITED = (
    "You're sending photos faster than I can read them (at most {limit} a minute). "
    "Please wait {seconds} seconds, then send the ones I didn't answer again."
)
BUSY = "I'm very busy right now: please send this photo again in a minute."
TOO_LARGE_FILE = (
    "This file is too large for me ({size}; Telegram lets bots download at most 20 MB). "
    "Please send a smaller picture."
)
DOWNLOAD_FAILED = "I couldn't download your picture from Telegram. Please send it again."
TRY_AGAIN = "Sorry, something went wrong while reading this. Please try again."
ANSWER_GONE = "I no longer have what I saw for this answer. Send the photo again."
SEEN_CAPTION = "What I saw: the boxes I found, and below, each digit as the model was given it (28x28)."

TEXT_HINT = "Send me a photo of handwritten digits and I'll read them. /help shows how."
HINTS = {
    "command": "I don't know that command. /help shows what I can do.",
    "sticker": "Nice sticker! But I only read photos of handwritten digits. /help shows how.",
    "video": "I can't read videos: send a photo of the digits instead.",
    "animation": "I can't read animations: send a photo of the digits instead.",
    "video_note": "I can't read videos: send a photo of the digits instead.",
    "voice": "I can't listen to voice messages: send a photo of handwritten digits instead.",
    "audio": "I can't listen to audio: send a photo of handwritten digits instead.",
    "document": "I only read pictures (" + FORMATS + "), not this kind of file. Send a photo instead.",
}


def percent(p: float) -> str:
    """0.99196 -> '99.1%': rounded down, so a 0.99996 is never shown as a certain 100.0%."""
    return f"{math.floor(max(0.0, min(1.0, p)) * 1000 + 1e-6) / 10:.1f}%"


def _alternatives(digit: DigitResult) -> str:
    others = [(d, p) for d, p in digit.top if d != digit.digit]
    shown = [f"{d} ({percent(p)})" for d, p in others if p >= 0.005] or [
        f"{d} ({percent(p)})" for d, p in others[:1]
    ]
    return " or ".join(shown)


def format_reading(reading: Reading) -> str:
    """The answer to a photo. It starts with the digits read, then the confidence."""
    if reading.error:
        return f"Sorry, I couldn't read this picture: {reading.error}. Send a photo ({FORMATS})."
    if not reading.digits:
        hint = (reading.hint or "I could not find any digits").rstrip(".")
        return (
            f"No digits found: {hint}. Try a closer photo of dark digits on plain light paper, in good light."
        )
    head = f"{reading.number} ({percent(reading.confidence)})"
    if len(reading.digits) == 1:
        digit = reading.digits[0]
        if reading.unsure:
            return f"{head}, but I'm not sure: it could also be {_alternatives(digit)}."
        return head
    parts = []
    for digit in reading.digits:
        part = f"{digit.digit} {percent(digit.confidence)}"
        if digit.confidence < UNSURE_BELOW:
            part += f" (maybe {_alternatives(digit)})"
        parts.append(part)
    note = ", but I'm not sure of every digit" if reading.unsure else ""
    return f"{head}{note}\nEach digit: " + " · ".join(parts)


def answer_keyboard(answer_id: int) -> InlineKeyboardMarkup:
    """The buttons under an answer."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(SEEN_BUTTON, callback_data=f"{SEEN_PREFIX}:{answer_id}")]]
    )


def parse_callback(data: str | None, prefix: str) -> int | None:
    """``"<prefix>:<id>"`` -> id; None for anything else (old, foreign or forged data)."""
    if not data:
        return None
    head, _, tail = data.partition(":")
    if head != prefix or not tail.isdigit() or len(tail) > 18:
        return None
    return int(tail)


def megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB"
