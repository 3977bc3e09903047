"""Everything the bot says, and the buttons under its answers (pure functions, no I/O)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from classifier.feedback import HOLDOUT_PERCENT
from classifier.reader import UNSURE_BELOW, DigitResult, Reading

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.feedback import SampleCounts
    from bot.model import LoadedModel
    from bot.retraining import Job, JobRecord, Outcome

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
    "image/heic": "HEIC",
    "image/heif": "HEIF",
}
IMAGE_EXTENSIONS = (
    ".jpg", ".jpeg", ".jpe", ".png", ".webp", ".bmp", ".dib", ".tif", ".tiff", ".gif", ".heic", ".heif"
)  # fmt: skip
FORMATS = "JPEG, PNG, HEIC, WebP, BMP, TIFF or GIF"
# Only the main row of writing is read (the one with the most ink).
OTHER_LINES = (
    "There is more writing, on another line or farther along this one, which I did not read:"
    " send each number in its own photo."
)
PIECES_LEFT_OUT = (
    "I'm not sure I have every digit: I left out marks beside them, which may be a digit broken"
    " apart (glare or a faint stroke), digits written farther apart (as in a form's boxes) or"
    " writing that is not a number."
)


START = (
    "Hi! I read handwritten digits. Send me a photo of a digit or a number and I'll tell you what it says."
)
HELP = (
    "Send a photo of one digit or a number written on paper: I reply with what I read and how "
    "sure I am. You can also send the picture as a file (" + FORMATS + "), or a digit drawn in a "
    "paint program: the saved picture, or a screenshot.\n"
    "\n"
    "For a good photo: dark pen on plain light paper, digits large and in one row, good light, "
    "no shadows.\n"
    "\n"
    'Tap "Right" or "Wrong" under an answer (or reply to it with the right number) to teach me: '
    "I then keep the 28x28 digits I saw, what they really are, what I guessed, and your user and "
    "chat ids, until you send /forget, to train better models.\n"
    "\n"
    'Tap "What I saw" to see the digits the model was given: for that I keep each answer (a small '
    "grey copy of the photo and the digits found) for {days} days."
)

SEEN_BUTTON = "🔍 What I saw"
SEEN_PREFIX = "saw"  # callback data: "saw:<answer id>"

# Feedback buttons. Callback data: "<prefix>:<answer id>", the keypad "fix:<answer id>:<digit>".
RIGHT = "ok"
WRONG = "no"
DIGIT = "fix"
BACK = "back"
RIGHT_BUTTON = "✅ Right"
WRONG_BUTTON = "❌ Wrong"
BACK_BUTTON = "↩ Back"
REPLY_BUTTON = "✍️ Reply to this message with the right number"
RECORDED_BUTTON = "✔ Recorded: {labels} (tap to change)"
THANKS_RIGHT = "Thanks! Recorded: {labels} is right."
THANKS_CORRECTED = "Thanks! Recorded: it is {labels}."
ALREADY_RECORDED = "Already recorded: {labels}."
WHICH_DIGIT = "Which digit is it?"
REPLY_WITH_NUMBER = "Reply to my answer with the right number (for example 421) and I'll learn from it."
NOT_YOUR_PHOTO = "Only the person who sent this photo can tell me whether I read it right."
FEEDBACK_GONE = "I no longer have this answer, so I can't learn from it. Send the photo again."
NOTHING_TO_LEARN = "I found no digits in that photo, so there is nothing to correct."
CORRECTION_HOW = "To correct my answer, reply to it with just the right digits, for example 421."
COUNT_MISMATCH = (
    "I found {found} in that photo but you wrote {written}, so I can't tell which is which. "
    "A photo with the digits further apart would help me."
)
CORRECTION_THANKS = "Thanks! Recorded {labels} ({corrected})."
FORGOTTEN = (
    "Done: I deleted {samples} and {answers} of yours. "
    "A model already trained on them keeps what it learned; no future training will use them."
)

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
    # A blob beside the digits that the model could not place may have been one of them.
    left_out = " I left out a filled shape beside it that I could not read." if reading.dropped else ""
    if reading.left_out:
        left_out += f" {PIECES_LEFT_OUT}"
    if reading.other_lines:
        left_out += f" {OTHER_LINES}"
    if len(reading.digits) == 1:
        digit = reading.digits[0]
        if digit.confidence < UNSURE_BELOW:
            return f"{head}, but I'm not sure: it could also be {_alternatives(digit)}.{left_out}"
        return f"{head}.{left_out}" if left_out else head
    parts = []
    for digit in reading.digits:
        part = f"{digit.digit} {percent(digit.confidence)}"
        if digit.confidence < UNSURE_BELOW:
            part += f" (maybe {_alternatives(digit)})"
        parts.append(part)
    if reading.guessed_pieces:
        note = ", but some of the digits touch and I'm not sure where I parted them"
    elif any(d.confidence < UNSURE_BELOW for d in reading.digits):
        note = ", but I'm not sure of every digit"
    else:
        note = ""
    return f"{head}{note}\nEach digit: " + " · ".join(parts) + (f"\n{left_out.strip()}" if left_out else "")


def answer_keyboard(answer_id: int, digits: int = 0) -> InlineKeyboardMarkup:
    """The buttons under a new answer: "Right"/"Wrong" when it has digits to learn from,
    and "What I saw"."""
    rows = [_right_wrong(answer_id)] if digits else []
    return InlineKeyboardMarkup([*rows, _seen_row(answer_id)])


def recorded_keyboard(answer_id: int, labels: str) -> InlineKeyboardMarkup:
    """After feedback: what was recorded (tap to change it) and "What I saw"."""
    change = InlineKeyboardButton(RECORDED_BUTTON.format(labels=labels), callback_data=f"{WRONG}:{answer_id}")
    return InlineKeyboardMarkup([[change], _seen_row(answer_id)])


def keypad_keyboard(answer_id: int) -> InlineKeyboardMarkup:
    """ "Wrong" on a single digit: which digit is it?"""
    digits = [InlineKeyboardButton(str(d), callback_data=f"{DIGIT}:{answer_id}:{d}") for d in range(10)]
    back = InlineKeyboardButton(BACK_BUTTON, callback_data=f"{BACK}:{answer_id}")
    return InlineKeyboardMarkup([digits[:5], digits[5:], [back], _seen_row(answer_id)])


def number_hint_keyboard(answer_id: int) -> InlineKeyboardMarkup:
    """ "Wrong" on a number: the right one comes as a text reply."""
    hint = InlineKeyboardButton(REPLY_BUTTON, callback_data=f"{WRONG}:{answer_id}")
    back = InlineKeyboardButton(BACK_BUTTON, callback_data=f"{BACK}:{answer_id}")
    return InlineKeyboardMarkup([[hint], [back], _seen_row(answer_id)])


def _right_wrong(answer_id: int) -> list[InlineKeyboardButton]:
    return [
        InlineKeyboardButton(RIGHT_BUTTON, callback_data=f"{RIGHT}:{answer_id}"),
        InlineKeyboardButton(WRONG_BUTTON, callback_data=f"{WRONG}:{answer_id}"),
    ]


def _seen_row(answer_id: int) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(SEEN_BUTTON, callback_data=f"{SEEN_PREFIX}:{answer_id}")]


def parse_callback(data: str | None, prefix: str) -> int | None:
    """``"<prefix>:<id>"`` -> id; None for anything else (old, foreign or forged data)."""
    if not data:
        return None
    head, _, tail = data.partition(":")
    if head != prefix or not _is_id(tail):
        return None
    return int(tail)


@dataclass(frozen=True)
class FeedbackTap:
    action: str  # RIGHT, WRONG, DIGIT or BACK
    answer_id: int
    digit: int | None = None  # DIGIT only


def parse_feedback(data: str | None) -> FeedbackTap | None:
    """A feedback button's data; None for anything else (old, foreign or forged data)."""
    parts = (data or "").split(":")
    if len(parts) == 2 and parts[0] in (RIGHT, WRONG, BACK) and _is_id(parts[1]):
        return FeedbackTap(parts[0], int(parts[1]))
    if len(parts) == 3 and parts[0] == DIGIT and _is_id(parts[1]) and parts[2] in _DIGITS:
        return FeedbackTap(DIGIT, int(parts[1]), int(parts[2]))
    return None


def parse_number(text: str | None) -> str | None:
    """A user's correction: the digits of ``"421"``, ``"4 2 1"`` or ``"4-2-1."``; None when
    the text holds anything but digits and separators, or no digit at all."""
    stripped = (text or "").strip().rstrip(".!")
    if not stripped or any(c not in _DIGITS and c not in " -,_" for c in stripped):
        return None
    digits = "".join(c for c in stripped if c in _DIGITS)
    return digits or None


_DIGITS = frozenset("0123456789")


def _is_id(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 18


def megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


# Admin commands, /retrain, /model -------------------------------------------------------------

NOT_ADMIN = "Sorry, /{command} is only for this bot's admins."
RETRAIN_USAGE = (
    "/retrain trains a new model on MNIST and the users' samples, and serves it if it passes the "
    "gate. /retrain status shows the last one, /retrain cancel stops a running one."
)
RETRAIN_STARTING = "🛠 Starting a retrain…"
RETRAIN_CANNOT = "Cannot retrain: {why}."
RETRAIN_NONE_RUNNING = "No retrain is running. /retrain starts one."
RETRAIN_STOPPING = "Stopping retrain #{id}…"
ROLLBACK_CANNOT = "Cannot roll back: {why}."
ROLLED_BACK = "↩ Rolled back: now serving {version} (was {old})."
BASE_MODEL = "the base model"


def plural(n: int, word: str, words: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


def accuracy(value: Any) -> str:
    """0.99163 -> '99.16%' (two decimals: the gate's tolerance is 0.1 point); '-' if unknown."""
    return f"{float(value):.2%}" if isinstance(value, (int, float)) else "-"


def duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


def utc(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%d %b %Y %H:%M UTC")


def _mnist_subset(limit: int, everything: str) -> str:
    return f"the first {limit:,}" if limit else everything


def retrain_progress(job: Job, settings: Settings, now: float) -> str:
    """The message a retrain keeps editing: the plan, then where it is (``now``: monotonic)."""
    head = (
        f"🛠 Retrain #{job.id}: {plural(job.epochs, 'epoch')} on "
        f"{_mnist_subset(settings.retrain_limit, 'all')} MNIST training digits + "
        f"{plural(job.samples, 'user sample')} ({HOLDOUT_PERCENT}% of them held out); "
        f"gated against {job.serving_version} on {_mnist_subset(settings.retrain_test_limit, 'all')} "
        f"MNIST test digits{_gate_photos(settings.retrain_gate_photos)}. Photos are answered meanwhile."
    )
    progress = job.progress
    if job.stop_reason is not None:
        status = "Stopping…"
    elif progress is None:
        # Minutes, not seconds: the text (and so the message) changes at most once a minute.
        minutes = int(time.time() - job.started_at) // 60
        so_far = f" ({minutes} min so far)" if minutes else ""
        status = f"Starting: loading TensorFlow and the data{so_far}…"
    else:
        left = progress.eta_seconds - (now - progress.read_at)
        when = "less than a minute left" if left < 60 else f"about {duration(left)} left"
        if progress.epoch >= progress.epochs:
            when = "now testing the new model against the serving one"
        status = (
            f"Epoch {progress.epoch}/{progress.epochs} done: validation accuracy "
            f"{accuracy(progress.val_accuracy)}; {when}."
        )
    return f"{head}\n{status}\n/retrain cancel stops it."


def _gate_photos(per_style: int) -> str:
    return (
        f" and the digits read from {plural(per_style, 'photo')} of each style (half as many of "
        "numbers) rendered from them"
        if per_style
        else ""
    )


def _gate_numbers(outcome: Outcome, new_label: str) -> str:
    new, old = outcome.new, outcome.serving
    lines = [
        f"MNIST test ({plural(int(new.get('mnist_n') or 0), 'digit')}): {new_label} "
        f"{accuracy(new.get('mnist'))}, serving {accuracy(old.get('mnist'))}"
    ]
    read = int(new.get("photos_n") or 0)
    if read:
        lines.append(
            f"Digits read from photos ({read:,}): {new_label} {accuracy(new.get('photos'))}, "
            f"serving {accuracy(old.get('photos'))}"
        )
    held = int(new.get("feedback_n") or 0)
    if held:
        lines.append(
            f"Held-out user samples ({held:,}): {new_label} {accuracy(new.get('feedback'))}, "
            f"serving {accuracy(old.get('feedback'))}"
        )
    else:
        lines.append("Held-out user samples: none yet")
    return "\n".join(lines)


def retrain_outcome(job: Job, outcome: Outcome) -> str:
    took = f"Took {duration(outcome.seconds)}."
    if outcome.status == "passed":
        return (
            f"✅ Retrain #{job.id} passed the gate: now serving {outcome.serving_version} "
            f"(was {job.serving_version}).\n{_gate_numbers(outcome, 'new')}\n{took}"
        )
    if outcome.status == "failed" and outcome.new:
        why = "\n".join(f"• {reason}" for reason in outcome.reasons)
        return (
            f"❌ Retrain #{job.id} did not pass the gate: still serving {outcome.serving_version}.\n"
            f"{why}\n{_gate_numbers(outcome, 'new')}\n{took}"
        )
    if outcome.status == "cancelled":
        took = duration(outcome.seconds)
        return f"⏹ Retrain #{job.id} cancelled after {took}: still serving {outcome.serving_version}."
    why = "; ".join(outcome.reasons) or "unknown"
    return f"⚠️ Retrain #{job.id} stopped: {why}. Still serving {outcome.serving_version}."


def retrain_notice(job: Job, outcome: Outcome) -> str:
    """The short message that notifies the admin (edits do not)."""
    verdict = {
        "passed": f"passed: now serving {outcome.serving_version}",
        "failed": "did not pass" if outcome.new else "stopped",
        "cancelled": "cancelled",
    }.get(outcome.status, "stopped with an error")
    return f"Retrain #{job.id} {verdict}. Details above."


def interrupted_notice(record: JobRecord, serving_version: str) -> str:
    return (
        f"⚠️ Retrain #{record.id}, started {utc(record.started_at)}, was {record.status}: "
        f"{record.reason}. Now serving {serving_version}. /retrain starts a new one."
    )


def job_summary(record: JobRecord) -> str:
    when = utc(record.finished_at or record.started_at)
    reason = f": {record.reason}" if record.reason and record.status != "passed" else ""
    return f"Last retrain: #{record.id} {record.status}, {when}{reason}"


def model_summary(model: LoadedModel, retrained: bool) -> str:
    """/model for everyone: the version, its accuracy, when and on what it was trained."""
    meta = model.metadata
    origin = "retrained by /retrain" if retrained else BASE_MODEL
    lines = [f"Serving model {model.version} ({origin})."]
    if not meta:
        return lines[0] + "\nIt came without training metadata."
    per_class = meta.get("per_class") or {}
    weakest = min(per_class.items(), key=lambda item: float(item[1]), default=None)
    tested = plural(int(meta.get("n") or 0), "digit")
    line = f"MNIST test accuracy {accuracy(meta.get('accuracy'))} on {tested}"
    if weakest is not None:
        line += f"; weakest digit {weakest[0]}: {accuracy(weakest[1])}"
    lines.append(line + ".")
    data = meta.get("data") or {}
    feedback = meta.get("feedback") or {}
    epochs = (meta.get("config") or {}).get("epochs")
    trained = f"Trained {_when(meta.get('created_at'))}"
    if epochs:
        trained += f", {plural(int(epochs), 'epoch')}"
    trained += f", on {plural(int(data.get('train') or 0), 'MNIST training digit')}"
    train_samples, held = int(feedback.get("train") or 0), int(feedback.get("holdout") or 0)
    trained += f" + {plural(train_samples, 'user sample')}"
    if held:
        trained += f" ({held:,} more held out: {accuracy(feedback.get('holdout_accuracy'))} right)"
    lines.append(trained + ".")
    return "\n".join(lines)


def _when(iso: Any) -> str:
    try:
        return utc(datetime.fromisoformat(str(iso)).timestamp())
    except ValueError:
        return "at an unknown time"


def model_admin_lines(
    counts: SampleCounts, versions: list[str], serving: str, rollback_to: str | None, last_job: str | None
) -> str:
    """/model's extra lines for admins (``rollback_to``: None when there is nothing to roll back)."""
    lines = [
        f"Samples: {counts.total:,} stored, {counts.newer:,} of them newer than this model "
        f"(a fixed {HOLDOUT_PERCENT}% are never trained on: they test each retrain)."
    ]
    if versions:
        shown = ", ".join(f"{v} (serving)" if v == serving else v for v in versions)
        lines.append(f"Retrained versions: {shown}.")
    lines.append(f"/rollback returns to {rollback_to}." if rollback_to else "Nothing to roll back to.")
    if last_job:
        lines.append(last_job)
    return "\n".join(lines)
