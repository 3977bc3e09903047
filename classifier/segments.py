"""Digits that touch: where a part as wide as several digits may be cut, and which cuts the
model's answers support.

Handwriting often runs digits into each other (a 3's tail into the next 3, a 2's base into a
1). Such digits are one connected part, or parts so close that they are grouped as one broken
digit, and read as a single digit. A part at least ``WIDE`` times as wide as tall is offered
cut at the columns where its ink is thinnest (``spans``): every run of pieces between cuts
becomes a candidate digit, the whole part among them; each cut bends along the gap between
the digits (``cut_paths``). Which reading holds is left to the
model (``best_split``): the pieces, when it is fairly sure of each and reads them better than
the whole; the answer is "not sure" unless it is sure of each.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Parts at least this wide for their height may hold several digits (by their box, 23% of
# MNIST's test digits are, 15% of the committed subset's, mostly 0s, 2s and 5s, whose pieces
# the model turns down; 7% at 1.1). With cuts through up to three strokes (CUT_INK), against
# 1.1 and two strokes: on the dev and calibration splits (1,175 images each, 400 of them
# numbers whose digits touch or nearly) 19 and 15 more read, 1 and 0 fewer, and 6 and 1
# fewer answered confidently wrong.
WIDE = 1.0
MAX_CUTS = 5  # the thinnest columns tried as cuts, at most
MAX_DIGITS = 8  # more digits than this are a page of writing, not a number: none is cut
# No cut closer than ``END_MARGIN`` of the height to either end of the part, and no candidate
# digit narrower than ``NARROWEST`` of it. A 1 touching either end of a number is narrower
# still, but cutting closer loses more than it finds (touching numbers, 200 each, dev and
# calibration, against 136 and 163 read): 0.1 and 0.1, 138 and 158; 0.07 and 0.1, 138 and
# 158; 0.13 and 0.12, 136 and 158; 0.2 and 0.1, 137 and 159; 0.1 and 0.15, unchanged.
END_MARGIN = 0.2
NARROWEST = 0.15  # a candidate digit is at least this wide for the part's height ...
WIDEST = 1.3  # ... and at most this wide,
# ... and at least this share of its height tall: the curl that starts a 2, cut off, reads as
# a 1 (a wide 2 read as "12": on the report split, one number of 300), and so does the tail
# that ends a looped 2 (2s read as "21", sure: 0.5 let that through). Against 0.5: on the
# dev and calibration splits (3,300 images each) 2 more read on each and none fewer, on the
# touching and near-touching numbers (400 each) 1 and 0 more; 0.7 lost 1 and 3 of those.
SHORTEST = 0.6
CUT_INK = 3.0  # a column cut holds at most this many strokes' worth of ink (digits that overlap)
MINIMUM_WINDOW = 0.08  # ... and no more than the columns this share of the height either side
# A cut bends around the ink (``cut_paths``) at most this share of the part's height either
# side of its column, each step sideways costing this share of crossing an ink pixel. On the
# dev and calibration splits, against straight cuts: 5 more read on each, 1 and 0 fewer
# (a reach of 0.25-0.5 and a step of 0.1-0.3 gave 4-5 more; a step of 0.6, 1-3).
CUT_REACH = 0.35
SIDESTEP = 0.3
# A piece is read only when the model's calibrated confidence in it is at least
# ``LIKELY_PIECE``; one read below ``SURE_PIECE`` makes the answer "not sure", since where to
# cut is a guess too (``reader.Reading.guessed_pieces``): more than a digit needs
# (``reader.UNSURE_BELOW``, 0.91). Session 13 read pieces at 0.98 or more only (against 0.95:
# 4 fewer of 400 touching dev numbers read, 1 fewer confidently wrong answer; in a behaviour
# test's photo, a 4's stem cut from its arm was read as a "1" at 0.97). Reading those down to
# 0.85 as well, flagged, read 9 more dev numbers and 10 more calibration ones, none fewer
# (0.8: 9 more and 1 fewer, 11 more; 0.9: 4 and 6 more; below 0.8, no more right).
SURE_PIECE = 0.98
LIKELY_PIECE = 0.85
# MNIST never shows two digits in one frame, so the model may read digits that touch, whole,
# as surely as their pieces (a touching "44" as a 4 at 0.998, its pieces at 1.0 and 0.993).
# Pieces that each look like a digit of their own (``Segment.apart``: at least ``APART_HEIGHT``
# of the part's height, cut off across at most ``APART_STROKES`` stroke either side, a
# ligature) stand against the whole when read at least ``APART_MARGIN`` times as well, the
# answer then "not sure" when they read no better (``reader._read_parts``). Half
# of a single digit is rarely both: a 9's loop is shorter than the 9, a wide 0 is cut across
# two strokes. By the margin alone (0.97 or 0.985), a 9 was read as a sure "01" and a 6 as
# "60"; with pieces 0.75 of the height, the 6 of a "66" as "10"; with any strokes crossed, a
# 5 as "53" and "2352" as "23552". Touching numbers (200 each):
# dev 130 -> 136, calibration 160 -> 163; nothing else changed on either split (3,300 each).
# A review's wide 0s open at the top, cut across their bottom stroke, were read "67" (sure,
# before the answer was made "not sure"): 8 of 450 variants of two such 0s, none of 2,700
# other wide single digits.
APART_MARGIN = 0.975
APART_HEIGHT = 0.8
APART_STROKES = 1


@dataclass(frozen=True)
class Segment:
    """A candidate digit cut from part ``part`` (its row): the part's pieces ``start`` up to
    ``stop``, of the ``pieces`` its cuts make (0 is its left end, ``pieces`` its right end)."""

    part: int
    start: int
    stop: int
    pieces: int
    apart: bool = False  # a piece that looks like a digit of its own (``APART_HEIGHT``, ``APART_STROKES``)

    @property
    def whole(self) -> bool:
        return self.start == 0 and self.stop == self.pieces


def cut_columns(mask: np.ndarray, stroke: float) -> list[int]:
    """Columns of a part's mask (h, w) where it may be cut between two digits: the thinnest
    local minima of its ink per column, at most ``CUT_INK`` strokes thick, away from its ends,
    one in the middle of each flat stretch of them (a ligature of even thickness, a blank gap)
    and no two closer than the narrowest digit."""
    h, w = mask.shape
    ink = mask.sum(axis=0).astype(np.float32)
    margin = max(2, round(END_MARGIN * h))
    if w < 2 * margin + 1:
        return []
    window = max(1, round(MINIMUM_WINDOW * h))
    minima = [
        c
        for c in range(margin, w - margin)
        if ink[c] <= CUT_INK * stroke and ink[c] == ink[max(0, c - window) : c + window + 1].min()
    ]
    # Neighbouring columns of one ink level are one stretch: a cut in its middle.
    stretches: list[list[int]] = []
    for c in minima:
        if stretches and c == stretches[-1][-1] + 1 and ink[c] == ink[stretches[-1][-1]]:
            stretches[-1].append(c)
        else:
            stretches.append([c])
    candidates = sorted((float(ink[run[0]]), run[len(run) // 2]) for run in stretches)
    chosen: list[int] = []
    for _, c in candidates:
        if len(chosen) < MAX_CUTS and all(abs(c - other) >= NARROWEST * h for other in chosen):
            chosen.append(c)
    return sorted(chosen)


def cut_paths(mask: np.ndarray, columns: Sequence[int]) -> list[np.ndarray]:
    """Where the cut near each of ``columns`` crosses each row of a part's mask (h, w): the
    path from top to bottom through the least ink, one column sideways a row at most and
    within ``CUT_REACH`` of its column. Digits that lean into each other leave a slanted
    gap, which a straight cut would slice a piece of one of them off across.

    All cuts are traced at once, row by row: a row's work is a few array operations, whose
    fixed cost would otherwise be paid once per cut."""
    h, w = mask.shape
    if not columns:
        return []
    # A cut's own column is always crossable, so each has a path of finite cost.
    assert all(1 <= c < w for c in columns), (columns, w)
    reach = max(1, round(CUT_REACH * h))
    offsets = np.arange(-reach, reach + 1)
    xs = np.asarray(columns, np.intp)[:, None] + offsets  # (cuts, window): each cut's columns
    # Ink crossed, and a fiftieth of a pixel for each column away: of equal paths, the
    # straightest. Columns outside the part (or its first) are never crossed: they cost
    # infinitely much, as do the pads either side of each window.
    cost = np.full((h, len(columns), offsets.size + 2), np.inf, np.float32)
    away = np.float32(0.02) * np.abs(offsets).astype(np.float32)
    cost[:, :, 1:-1] = np.where((xs >= 1) & (xs < w), mask[:, np.clip(xs, 0, w - 1)] + away, np.inf)
    total = cost  # the least cost of a path from the top row to each pixel, in place
    step = np.float32(SIDESTEP)
    for y in range(1, h):
        above = total[y - 1]
        best = np.minimum(above[:, :-2], above[:, 2:])
        best += step
        np.minimum(best, above[:, 1:-1], out=best)
        total[y, :, 1:-1] += best
    # Back up from the cheapest end through whichever neighbour above led there: straight on
    # when that ties, else the left one. In plain Python (a few hundred steps), on the sums
    # as float32 gave them, so that ties stay ties.
    paths = []
    for i, end in enumerate(np.argmin(total[-1], axis=1).tolist()):
        straight, sideways = total[:, i], total[:, i] + step
        x, path = end, [end]
        for y in range(h - 1, 0, -1):
            least, where = straight.item(y - 1, x), x
            if sideways.item(y - 1, x - 1) < least:
                least, where = sideways.item(y - 1, x - 1), x - 1
            if sideways.item(y - 1, x + 1) < least:
                where = x + 1
            x = where
            path.append(x)
        paths.append(xs[i, np.asarray(path[::-1]) - 1])
    return paths


def strokes_crossed(mask: np.ndarray, path: np.ndarray) -> int:
    """How many strokes of a part's mask (h, w) a cut crosses (``cut_paths``: its column in
    each row): the runs of ink along it."""
    ink = mask[np.arange(mask.shape[0]), path] > 0
    return int(ink[0]) + int(np.count_nonzero(ink[1:] & ~ink[:-1]))


def spans(mask: np.ndarray, stroke: float) -> tuple[list[int], list[tuple[int, int]]]:
    """The cut columns (with the part's ends) of a part that may hold several digits, and
    every run of pieces between two of them as wide as a digit can be (``NARROWEST`` to
    ``WIDEST``; as indices into the columns), the whole part first. No cuts: the part is
    read as it is."""
    h, w = mask.shape
    if w < WIDE * h:
        return [], []
    edges = [0, *cut_columns(mask, stroke), w]
    if len(edges) == 2:
        return [], []
    last = len(edges) - 1
    runs = [(0, last)]
    for i in range(last):
        for j in range(i + 1, last + 1):
            if (i, j) != (0, last) and NARROWEST * h <= edges[j] - edges[i] <= WIDEST * h:
                runs.append((i, j))
    if len(runs) == 1:
        return [], []
    return edges, runs


def best_split(segments: list[Segment], confidence: list[float], least: float = LIKELY_PIECE) -> list[int]:
    """Of a part's candidate digits (``segments``, the whole part first, and the model's
    calibrated ``confidence`` in each), the indices of the run of them from the part's left
    end to its right end that the model reads best (the highest product of confidences),
    each piece read at least ``least``: the whole part unless its pieces read better, or
    pieces that each look like a digit of their own nearly as well (``APART_MARGIN``)."""
    score, chosen = _best_run(segments, confidence, least)
    if chosen != [0]:
        return chosen
    apart = _best_run(segments, confidence, least, only_apart=True)
    if apart[1] and apart[0] >= score + math.log(APART_MARGIN):
        return apart[1]
    return chosen


def _best_run(
    segments: list[Segment], confidence: list[float], least: float, only_apart: bool = False
) -> tuple[float, list[int]]:
    """``best_split``'s run and the log of its confidences' product; ``only_apart``: of the
    pieces that stand apart only (``Segment.apart``; no such run: an empty one)."""
    pieces = segments[0].pieces
    best: list[tuple[float, list[int]] | None] = [None] * (pieces + 1)
    best[0] = (0.0, [])
    for stop in range(1, pieces + 1):
        for k, segment in enumerate(segments):
            before = best[segment.start]
            if segment.stop != stop or before is None or (only_apart and not segment.apart):
                continue
            if not segment.whole and confidence[k] < least:
                continue
            score = before[0] + math.log(max(confidence[k], 1e-9))
            current = best[stop]
            if current is None or score > current[0]:
                best[stop] = (score, [*before[1], k])
    final = best[pieces]
    assert final is not None or only_apart  # the whole part always reaches the end
    return final if final is not None else (-math.inf, [])
