"""The retrain side that lives in classifier/: feedback samples, the gate, versioned models,
and a real retrain job in its own process."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from classifier.feedback import HOLDOUT_PERCENT, Feedback, is_holdout, load_feedback, oversample
from classifier.mnist_format import renormalise
from classifier.model_store import ModelStore, StoreError
from classifier.photo_crops import photo_crops
from classifier.retrain import MNIST_TOLERANCE, PHOTO_TOLERANCE, gate
from classifier.serving import MODEL_FILE, Classifier


def make_feedback_db(path: Path, x: np.ndarray, y: np.ndarray) -> Path:
    """The minimal contract the bot's storage keeps: samples(id, image, label)."""
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE samples (id INTEGER PRIMARY KEY, image BLOB NOT NULL, label INTEGER NOT NULL)"
        )
        db.executemany(
            "INSERT INTO samples (id, image, label) VALUES (?, ?, ?)",
            [(i + 1, x[i].tobytes(), int(y[i])) for i in range(len(y))],
        )
    return path


def test_feedback_loads_and_splits_by_id(
    tmp_path: Path, mnist_test_digits: tuple[np.ndarray, np.ndarray]
) -> None:
    x, y = mnist_test_digits
    db = make_feedback_db(tmp_path / "bot.sqlite3", x[:400], y[:400])
    feedback = load_feedback(db)
    assert len(feedback) == 400 and np.array_equal(feedback.x[0], x[0]) and feedback.y[5] == y[5]
    train, holdout = feedback.split()
    assert len(train) + len(holdout) == 400
    assert abs(len(holdout) / 400 - HOLDOUT_PERCENT / 100) < 0.06
    # A sample's side never depends on which other samples exist.
    assert np.array_equal(is_holdout(feedback.ids[:50]), is_holdout(feedback.ids)[:50])


def test_feedback_is_oversampled_to_its_share() -> None:
    feedback = Feedback(np.arange(200), np.zeros((200, 28, 28), np.uint8), np.zeros(200, np.uint8))
    x, _ = oversample(feedback, mnist_count=55000, share=0.15)
    assert 0.12 < len(x) / (len(x) + 55000) < 0.18


@pytest.fixture(scope="module")
def weak_model(tmp_path_factory: pytest.TempPathFactory, mnist_subset_path: Path) -> Path:
    """A deliberately undertrained model: one epoch on 600 digits."""
    pytest.importorskip("tensorflow")
    from classifier.train import TrainConfig, train

    out = tmp_path_factory.mktemp("weak")
    train(TrainConfig(out=out, data=str(mnist_subset_path), epochs=1, limit=600, test_limit=100, verbose=0))
    return out


def test_gate_refuses_a_worse_model_and_says_why(
    weak_model: Path, shipped_model_dir: Path, mnist_test_digits: tuple[np.ndarray, np.ndarray]
) -> None:
    x, y = mnist_test_digits
    empty = Feedback(np.zeros(0, np.int64), np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8))
    digits = renormalise(x[:1000])
    worse = gate(Classifier(weak_model), Classifier(shipped_model_dir), digits, y[:1000], empty)
    assert not worse.passed
    assert any("MNIST test accuracy fell" in r for r in worse.reasons)
    assert worse.new["mnist"] is not None and worse.serving["mnist"] is not None
    assert worse.new["mnist"] < worse.serving["mnist"] - MNIST_TOLERANCE
    better = gate(Classifier(shipped_model_dir), Classifier(weak_model), digits, y[:1000], empty)
    assert better.passed


def test_gate_also_needs_the_users_samples(
    weak_model: Path, shipped_model_dir: Path, mnist_test_digits: tuple[np.ndarray, np.ndarray]
) -> None:
    x, y = mnist_test_digits
    digits = renormalise(x[:1000])
    weak, strong = Classifier(weak_model), Classifier(shipped_model_dir)
    # User samples labelled the way the weak model reads them, where the two models differ.
    weak_says = weak.predict(digits).argmax(1)
    differ = np.flatnonzero(weak_says != strong.predict(digits).argmax(1))[:40]
    assert len(differ) >= 5
    holdout = Feedback(differ.astype(np.int64), digits[differ], weak_says[differ].astype(np.uint8))
    verdict = gate(strong, weak, digits, y[:1000], holdout)
    assert not verdict.passed
    assert any("held-out user samples fell" in r for r in verdict.reasons)


def test_gate_also_reads_digits_from_photos(
    weak_model: Path, shipped_model_dir: Path, mnist_test_digits: tuple[np.ndarray, np.ndarray]
) -> None:
    x, y = mnist_test_digits
    crops, labels = photo_crops(x, y, per_style=2, seed=1, workers=1)
    assert len(labels) >= 30 and crops.shape[1:] == (28, 28)
    weak, strong = Classifier(weak_model), Classifier(shipped_model_dir)
    empty = Feedback(np.zeros(0, np.int64), np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8))
    digits = renormalise(x[:1000])
    verdict = gate(strong, weak, digits, y[:1000], empty, (crops, labels))
    assert verdict.passed and verdict.new["photos_n"] == verdict.serving["photos_n"] == len(labels)
    assert verdict.new["photos"] is not None and verdict.serving["photos"] is not None
    assert verdict.new["photos"] > verdict.serving["photos"] + PHOTO_TOLERANCE
    # Photos labelled the way the weak model reads them: the strong one now reads them worse.
    weak_says = weak.predict(crops).argmax(1).astype(labels.dtype)
    verdict = gate(strong, weak, digits, y[:1000], empty, (crops, weak_says))
    assert not verdict.passed
    assert [r for r in verdict.reasons if "digits read from photos fell" in r]
    assert not any("MNIST test accuracy fell" in r for r in verdict.reasons)
    assert "no held-out user samples yet: judged on MNIST and the photos alone" in verdict.reasons


PHOTO_CROPS_FOREVER = """
import os, sys
from classifier import synth
from classifier.photo_crops import photo_crops
if __name__ == "__main__":
    x, y = synth.load_test_digits()
    photo_crops(x, y, 500, 1, 1)
"""


def test_photo_crop_workers_die_with_the_process_that_started_them(tmp_path: Path) -> None:
    # A /retrain cancelled while its gate renders photos: SIGKILL to the job must not leave
    # a worker rendering on (it would finish its chunk, then wait for work forever).
    script = tmp_path / "crops.py"
    script.write_text(PHOTO_CROPS_FOREVER)
    parent = subprocess.Popen([sys.executable, str(script)], cwd=Path(__file__).resolve().parents[2])
    children: list[int] = []
    try:
        # Killed as soon as the worker exists: before or after it asked to die with us.
        for _ in range(300):
            listed = Path(f"/proc/{parent.pid}/task/{parent.pid}/children").read_text().split()
            children = [int(pid) for pid in listed]
            if any("spawn_main" in Path(f"/proc/{pid}/cmdline").read_text() for pid in children):
                break
            time.sleep(0.05)
        assert children, "no worker was started"
    finally:
        parent.kill()
        parent.wait()
    for _ in range(100):
        if not any(Path(f"/proc/{pid}").exists() and _alive(pid) for pid in children):
            break
        time.sleep(0.1)
    assert not any(Path(f"/proc/{pid}").exists() and _alive(pid) for pid in children)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def test_model_store_publishes_rolls_back_and_survives_leftovers(
    tmp_path: Path, shipped_model_dir: Path
) -> None:
    store = ModelStore(tmp_path / "models", base=shipped_model_dir)
    assert store.current() is None and store.current_dir() == shipped_model_dir
    with pytest.raises(StoreError, match="nothing to roll back"):
        store.rollback()
    store.publish(shipped_model_dir, "v2")
    store.publish(shipped_model_dir, "v3")
    assert store.current() == "v3" and (store.current_dir() / MODEL_FILE).is_file()
    assert store.list_versions() == ["v2", "v3"]
    with pytest.raises(StoreError, match="exists"):
        store.publish(shipped_model_dir, "v3")
    with pytest.raises(StoreError, match="bad version"):
        store.publish(shipped_model_dir, "../escape")
    assert store.rollback() == "v2" and store.current() == "v2"
    assert store.rollback() is None and store.current_dir() == shipped_model_dir
    # A crash mid-publish leaves an .incoming folder: not served, cleaned up on the next start.
    (store.versions / ".incoming-v4").mkdir()
    assert store.clean_up() == [".incoming-v4"] and store.list_versions() == ["v2", "v3"]
    # A pointer to a version that vanished falls back to the base model rather than failing.
    (store.root / "state.json").write_text(json.dumps({"current": "gone", "history": ["gone"]}))
    assert store.current_dir() == shipped_model_dir


def test_a_real_retrain_job_runs_in_its_own_process(
    tmp_path: Path,
    mnist_subset_path: Path,
    shipped_model_dir: Path,
    mnist_test_digits: tuple[np.ndarray, np.ndarray],
) -> None:
    pytest.importorskip("tensorflow")
    x, y = mnist_test_digits
    db = make_feedback_db(tmp_path / "bot.sqlite3", renormalise(x[1500:1700]), y[1500:1700])
    job = tmp_path / "job"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "classifier.retrain",
            "--job",
            str(job),
            "--serving",
            str(shipped_model_dir),
            "--feedback",
            str(db),
            "--data",
            str(mnist_subset_path),
            "--epochs",
            "2",
            "--limit",
            "1000",
            "--test-limit",
            "500",
            "--version",
            "test-1",
            "--nice",
            "0",
            "--threads",
            "2",
            "--gate-photos",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    progress = [json.loads(line) for line in (job / "progress.jsonl").read_text().splitlines()]
    assert [p["epoch"] for p in progress] == [1, 2] and progress[-1]["epochs"] == 2
    result = json.loads((job / "result.json").read_text())
    # A 2-epoch model on 1,000 digits cannot match the shipped one: the gate must refuse it.
    assert result["status"] == "failed" and result["version"] == "test-1"
    assert result["new"]["mnist"] < result["serving"]["mnist"]
    assert result["new"]["feedback_n"] == result["serving"]["feedback_n"] > 0
    # Digits read from one photo of each style rendered from the 500 test digits gated on.
    assert result["new"]["photos_n"] == result["serving"]["photos_n"] >= 15
    assert result["serving"]["photos"] > 0.8
    assert result["feedback_samples"]["train"] + result["feedback_samples"]["holdout"] == 200
    assert (job / "model" / MODEL_FILE).is_file()
