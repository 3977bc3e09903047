"""What grouping parts into digits costs: a page of print (hundreds of parts) must not cost
~n³ checks, and the faster grouping must give exactly what merging the first matching pair
over and over gives. Checks are counted, never timed."""

from __future__ import annotations

import random

import cv2
import numpy as np
import pytest

from classifier import photo_layout
from classifier.photo_layout import Part, find_digits, group_parts


def _restarting_group_parts(parts: list[Part]) -> list[Part]:
    """The reference: merge the first pair that belongs together, start over, until none does
    (the old implementation, O(n³) checks)."""
    groups = sorted(parts, key=lambda p: -p.area)
    merged = True
    while merged:
        merged = False
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                if photo_layout._belong_together(groups[i], groups[j]):
                    groups[i] = groups[i].union(groups[j])
                    del groups[j]
                    merged = True
                    break
            if merged:
                break
    return groups


def _key(groups: list[Part]) -> list[tuple[int, int, int, int, int, tuple[int, ...]]]:
    return [(g.x, g.y, g.w, g.h, g.area, tuple(g.labels)) for g in groups]


def _copy(parts: list[Part]) -> list[Part]:
    return [Part(p.x, p.y, p.w, p.h, p.area, list(p.labels)) for p in parts]


def _random_parts(rng: random.Random, n: int, spread: int) -> list[Part]:
    parts = []
    for i in range(n):
        w, h = rng.randint(1, 40), rng.randint(1, 60)
        area = rng.randint(1, 50) if rng.random() < 0.2 else rng.randint(1, w * h)
        parts.append(Part(rng.randint(0, spread), rng.randint(0, spread // 2), w, h, area, [i + 1]))
    if rng.random() < 0.3:  # equal areas: the order of a pair matters to _belong_together
        for p in parts:
            p.area = rng.choice([10, 20])
    return parts


def _printed_page(lines: int = 12, size: tuple[int, int] = (1280, 960)) -> np.ndarray:
    """The ink mask of a page of print: ~40 letters a line, most of them one part."""
    mask = np.zeros((size[1], size[0]), np.uint8)
    scale, thick = {4: (2.0, 4), 8: (1.5, 3), 12: (1.1, 2)}[lines]
    for i in range(lines):
        y = 60 + i * (900 // lines)
        text = "Lorem ipsum 0123456789 dolor sit amet consec"
        cv2.putText(mask, text, (20, y), cv2.FONT_HERSHEY_SIMPLEX, scale, 255, thick)
    return mask


class _Counting:
    """Counts the calls of ``_belong_together``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        real = photo_layout._belong_together

        def counted(a: Part, b: Part) -> bool:
            self.calls += 1
            return real(a, b)

        monkeypatch.setattr(photo_layout, "_belong_together", counted)


def test_grouping_gives_what_merging_the_first_matching_pair_again_and_again_gives() -> None:
    rng = random.Random(0)
    merged = 0
    for _ in range(600):
        parts = _random_parts(rng, rng.choice([2, 3, 5, 8, 15, 30, 60]), rng.choice([20, 50, 100, 300]))
        expected = _key(_restarting_group_parts(_copy(parts)))
        assert _key(group_parts(_copy(parts))) == expected
        merged += len(expected) < len(parts)
    assert merged > 300  # the cases did merge, often into chains


def _anything_may_belong(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.ones(np.broadcast_shapes(a.shape, b.shape)[:-1], bool)


def test_the_same_merges_whatever_the_rule_says(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bookkeeping (which groups are looked at again after a merge) is right for any rule,
    not only for the geometric one: here a pseudo-random one, which makes long chains."""
    import hashlib

    def arbitrary(a: Part, b: Part) -> bool:
        digest = hashlib.blake2b(repr((a.labels, b.labels)).encode(), digest_size=4).digest()
        return int.from_bytes(digest) < 0.1 * 2**32

    monkeypatch.setattr(photo_layout, "_belong_together", arbitrary)
    monkeypatch.setattr(photo_layout, "_may_belong", _anything_may_belong)
    rng = random.Random(1)
    for _ in range(200):
        parts = [Part(0, 0, 5, 5, rng.randint(1, 4), [i + 1]) for i in range(rng.choice([3, 10, 25, 50]))]
        assert _key(group_parts(_copy(parts))) == _key(_restarting_group_parts(_copy(parts)))


def test_pairs_skipped_as_too_far_apart_never_belong_together() -> None:
    rng = random.Random(2)
    together = 0
    for _ in range(20_000):
        a, b = _random_parts(rng, 2, rng.choice([10, 40, 120]))
        if photo_layout._belong_together(a, b):
            together += 1
            boxes = np.array([photo_layout._box(a), photo_layout._box(b)], np.int64)
            assert photo_layout._may_belong(boxes[0], boxes[1]), (a, b)
            assert photo_layout._may_belong(boxes[:, None], boxes[None]).all()  # and both ways
    assert together > 1000


def _parts_of(mask: np.ndarray) -> list[Part]:
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    parts = []
    for i in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[i])
        parts.append(Part(x, y, w, h, area, [i]))
    return parts


def test_a_page_of_print_is_grouped_as_before() -> None:
    parts = _parts_of(_printed_page(4))  # 148 parts: the reference takes ~126,000 checks
    expected = _key(_restarting_group_parts(_copy(parts)))
    assert _key(group_parts(_copy(parts))) == expected
    assert len(expected) < len(parts)  # the dots of the i's went to their stems


def test_a_page_of_print_is_grouped_with_a_bounded_number_of_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    parts = _parts_of(_printed_page(12))
    assert 400 <= len(parts) <= photo_layout.MAX_PARTS
    counting = _Counting(monkeypatch)
    groups = group_parts(_copy(parts))
    # Restarting after each merge took 3.0 million checks (9 s) on these 432 parts; every
    # pair once would be ~93,000; only the pairs close enough to be looked at: under one a part.
    assert counting.calls < 3 * len(parts)
    assert sorted(label for g in groups for label in g.labels) == [p.labels[0] for p in parts]
    assert len(parts) - 60 <= len(groups) < len(parts)


def test_find_digits_on_a_page_of_print_checks_few_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    counting = _Counting(monkeypatch)
    layout = find_digits(_printed_page(12))
    assert len(layout.digits) + len(layout.rejected) >= 300
    assert counting.calls < 5_000


def test_more_parts_than_a_number_has_are_not_grouped(monkeypatch: pytest.MonkeyPatch) -> None:
    counting = _Counting(monkeypatch)
    n = photo_layout.MAX_PARTS + 1
    parts = [Part(3 * (i % 100), 3 * (i // 100), 2, 2, 4 + i % 3, [i + 1]) for i in range(n)]
    groups = group_parts(parts)
    assert len(groups) == n and counting.calls == 0
    assert [g.area for g in groups] == sorted((p.area for p in parts), reverse=True)


def test_grouping_stops_after_its_budget_of_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parts all close to each other (a texture) where every pair must be looked at."""
    monkeypatch.setattr(photo_layout, "MAX_CHECKS", 2_000)
    counting = _Counting(monkeypatch)
    # Boxes of one size, each shifted a pixel from the last: every pair overlaps, and none
    # belongs together (side by side at full height): all 9,730 pairs would be looked at.
    parts = [Part(i, 0, 50, 50, 100, [i + 1]) for i in range(140)]
    groups = group_parts(parts)
    assert len(groups) == len(parts)
    assert 2_000 <= counting.calls <= 2_000 + 2 * len(parts)
