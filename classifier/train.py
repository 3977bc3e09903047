"""The trainer: MNIST in, a served model out.

Reads top to bottom: seed, data, augmentation, network, fit, test accuracy,
export, then every file written atomically into ``--out``.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from classifier.augment import augment, continental_ones
from classifier.data import Mnist, load_mnist
from classifier.feedback import empty, load_feedback, oversample
from classifier.files import publish, staging_dir
from classifier.mnist_format import renormalise, to_model_input
from classifier.report import accuracy_report, confusion_matrix, plot_confusion, plot_curves
from classifier.serving import KERAS_FILE, METADATA_FILE, MODEL_FILE, Classifier

CONFUSION_FILE = "confusion.png"
CURVES_FILE = "training_curves.png"
# LiteRT and Keras must agree this closely on the same digits, or the export is broken.
EXPORT_TOLERANCE = 1e-4


@dataclass
class TrainConfig:
    out: Path
    data: str | None = None
    epochs: int = 20
    seed: int = 1
    batch_size: int = 128
    learning_rate: float = 2e-3
    validation: int = 5000  # held out from the training split, never trained on
    limit: int | None = None  # train on the first N training digits only (quick runs, tests)
    test_limit: int | None = None  # evaluate on the first N test digits only
    augment: bool = True
    feedback: Path | None = None  # the bot's SQLite database: users' confirmed/corrected digits
    feedback_share: float = 0.15  # about this share of each epoch comes from feedback samples
    # Share of the training 1s also trained on with a continental flag (``continental_ones``).
    flagged_ones: float = 0.4
    photos: int = 0  # photos per style rendered from training digits and read back (``photo_crops``)
    start_from: Path | None = None  # a model folder whose weights training starts from (fine-tuning)
    progress_file: Path | None = None  # one JSON line per epoch, for the bot's /retrain message
    version: str = field(default_factory=lambda: _utc_now().strftime("%Y%m%d-%H%M%S"))
    verbose: int = 1


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class AugmentedEpochs:
    """Keras PyDataset of freshly augmented digits each epoch.

    Each epoch's data depends only on (seed, epoch), so runs are reproducible; the next
    epoch is augmented in a background thread while the current one trains.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, batch_size: int, seed: int, enabled: bool) -> None:
        import keras

        class _Dataset(keras.utils.PyDataset):  # type: ignore[misc]
            def __len__(inner) -> int:
                return -(-len(x) // batch_size)

            def __getitem__(inner, index: int) -> tuple[np.ndarray, np.ndarray]:
                xs, ys = self._current()
                part = slice(index * batch_size, (index + 1) * batch_size)
                return to_model_input(xs[part]), ys[part]

            def on_epoch_begin(inner) -> None:
                self._begin_epoch()

        self._x, self._y, self._seed, self._enabled = x, y, seed, enabled
        self._pool = ThreadPoolExecutor(max_workers=1)
        self._epoch = -1
        self._peeked = False
        self._ready: dict[int, Future[tuple[np.ndarray, np.ndarray]]] = {}
        self._data: tuple[np.ndarray, np.ndarray] | None = None
        self.dataset = _Dataset()

    def _make(self, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng([self._seed, epoch])
        order = rng.permutation(len(self._x))
        xs = self._x[order]
        xs = augment(xs, rng) if self._enabled else renormalise(xs)
        return xs, self._y[order]

    def _schedule(self, epoch: int) -> None:
        if epoch not in self._ready:
            self._ready[epoch] = self._pool.submit(self._make, epoch)

    def _current(self) -> tuple[np.ndarray, np.ndarray]:
        if self._data is None:  # Keras peeks at a batch before the first epoch begins
            self._advance()
            self._peeked = True
        assert self._data is not None
        return self._data

    def _begin_epoch(self) -> None:
        if self._peeked:  # the first epoch's data was made for the peek: train on it
            self._peeked = False
        else:
            self._advance()

    def _advance(self) -> None:
        self._epoch += 1
        self._schedule(self._epoch)
        self._data = self._ready.pop(self._epoch).result()
        self._schedule(self._epoch + 1)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def progress_callback(path: Path) -> Any:
    import keras

    class _ProgressFile(keras.callbacks.Callback):  # type: ignore[misc]
        """Appends ``{"epoch", "epochs", "val_accuracy", "elapsed", "eta_seconds"}`` per epoch."""

        def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
            elapsed = time.perf_counter() - self.started
            epochs = int(self.params.get("epochs") or epoch + 1)
            line = {
                "epoch": epoch + 1,
                "epochs": epochs,
                "val_accuracy": round(float((logs or {}).get("val_accuracy", 0.0)), 4),
                "elapsed": round(elapsed, 1),
                "eta_seconds": round(elapsed / (epoch + 1) * (epochs - epoch - 1), 1),
            }
            with open(path, "a") as handle:
                handle.write(json.dumps(line) + "\n")

    return _ProgressFile()


def split_validation(y: np.ndarray, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, validation): a seeded, class-balanced hold-out of ``size`` digits."""
    rng = np.random.default_rng([seed, 7919])
    held: list[np.ndarray] = []
    for digit in range(10):
        members = np.flatnonzero(y == digit)
        take = round(size * len(members) / len(y))
        held.append(rng.choice(members, size=min(take, len(members)), replace=False))
    validation = np.sort(np.concatenate(held))
    train = np.setdiff1d(np.arange(len(y)), validation)
    return train, validation


def train(cfg: TrainConfig, callbacks: Sequence[Any] = (), mnist: Mnist | None = None) -> dict[str, Any]:
    """Train, evaluate and write the model files; returns the metadata written.

    ``mnist``: the data set already loaded from ``cfg.data`` (a caller that also needs it
    saves loading and hashing it twice)."""
    import keras
    import tensorflow as tf

    from classifier.export import to_tflite
    from classifier.model import build_model

    started = time.perf_counter()
    keras.utils.set_random_seed(cfg.seed)
    tf.config.experimental.enable_op_determinism()

    # --- data -----------------------------------------------------------------
    mnist = mnist if mnist is not None else load_mnist(cfg.data)
    x_all, y_all = mnist.x_train, mnist.y_train
    if cfg.limit:
        x_all, y_all = x_all[: cfg.limit], y_all[: cfg.limit]
    validation_size = min(cfg.validation, len(y_all) // 5)
    train_idx, val_idx = split_validation(y_all, validation_size, cfg.seed)
    x_train, y_train = x_all[train_idx], y_all[train_idx]
    x_val, y_val = renormalise(x_all[val_idx]), y_all[val_idx]
    x_test, y_test = mnist.x_test, mnist.y_test
    if cfg.test_limit:
        x_test, y_test = x_test[: cfg.test_limit], y_test[: cfg.test_limit]
    x_test = renormalise(x_test)
    print(f"data: {mnist.source} - train {len(y_train)}, validation {len(y_val)}, test {len(y_test)}")
    flagged_x, flagged_y = continental_ones(
        x_train, y_train, cfg.flagged_ones, np.random.default_rng([cfg.seed, 11])
    )
    x_train, y_train = np.concatenate([x_train, flagged_x]), np.concatenate([y_train, flagged_y])
    print(f"flagged ones: {len(flagged_y)} training 1s copied with a continental flag")
    feedback = load_feedback(cfg.feedback) if cfg.feedback else empty()
    feedback_train, feedback_holdout = feedback.split()
    if len(feedback_train):
        extra_x, extra_y = oversample(feedback_train, len(y_train), cfg.feedback_share)
        x_train, y_train = np.concatenate([x_train, extra_x]), np.concatenate([y_train, extra_y])
        print(
            f"feedback: {len(feedback_train)} samples x {len(extra_y) // len(feedback_train)} "
            f"copies in training, {len(feedback_holdout)} held out for the gate"
        )

    photo_count = 0
    if cfg.photos:
        from classifier.photo_crops import photo_crops

        crops_x, crops_y = photo_crops(x_train, y_train, cfg.photos, cfg.seed)
        x_train, y_train = np.concatenate([x_train, crops_x]), np.concatenate([y_train, crops_y])
        photo_count = len(crops_y)

    # --- network --------------------------------------------------------------
    epochs_data = AugmentedEpochs(x_train, y_train, cfg.batch_size, cfg.seed, cfg.augment)
    steps = len(epochs_data.dataset) * cfg.epochs
    warmup = min(len(epochs_data.dataset), steps // 4)
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=cfg.learning_rate / 10,
        decay_steps=max(1, steps - warmup),
        warmup_target=cfg.learning_rate,
        warmup_steps=warmup,
        alpha=0.01,
    )
    model = build_model()
    start_sha256 = None
    if cfg.start_from:
        start = cfg.start_from / KERAS_FILE if cfg.start_from.is_dir() else cfg.start_from
        model.set_weights(keras.models.load_model(start, compile=False).get_weights())
        start_sha256 = hashlib.sha256(start.read_bytes()).hexdigest()  # which model, not just where
        print(f"starting from the weights of {start}")
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )

    # --- fit ------------------------------------------------------------------
    try:
        history = model.fit(
            epochs_data.dataset,
            epochs=cfg.epochs,
            validation_data=(to_model_input(x_val), y_val),
            callbacks=[*callbacks, *([progress_callback(cfg.progress_file)] if cfg.progress_file else [])],
            verbose=cfg.verbose,
        )
    finally:
        epochs_data.close()
    fit_seconds = time.perf_counter() - started

    # --- test accuracy --------------------------------------------------------
    probabilities = model.predict(to_model_input(x_test), batch_size=512, verbose=0)
    predicted = probabilities.argmax(axis=1)
    test = accuracy_report(y_test, predicted)
    matrix = confusion_matrix(y_test, predicted)
    print(f"test accuracy: {test['accuracy']:.4f} on {test['n']} digits")
    per_class = test["per_class"]
    assert isinstance(per_class, dict)
    print("per class: " + "  ".join(f"{d}: {a:.4f}" for d, a in per_class.items()))

    feedback_accuracy = None
    if len(feedback_holdout):
        feedback_probs = model.predict(to_model_input(feedback_holdout.x), verbose=0)
        feedback_accuracy = round(float((feedback_probs.argmax(1) == feedback_holdout.y).mean()), 4)

    # --- export and write -----------------------------------------------------
    tflite = to_tflite(model)
    summary = io.StringIO()
    model.summary(print_fn=lambda line, *args, **kw: summary.write(line + "\n"))
    metadata: dict[str, Any] = {
        "version": cfg.version,
        "created_at": _utc_now().isoformat(timespec="seconds"),
        "data": {
            "source": mnist.source,
            "sha256": mnist.sha256,
            "train": len(y_train),
            "photo_crops": photo_count,
            "flagged_ones": len(flagged_y),
            "validation": len(y_val),
            "test": len(y_test),
        },
        "accuracy": test["accuracy"],
        "per_class": test["per_class"],
        "n": test["n"],
        "validation_accuracy": round(float(history.history["val_accuracy"][-1]), 4),
        "feedback": {
            "train": len(feedback_train),
            "holdout": len(feedback_holdout),
            "holdout_accuracy": feedback_accuracy,
        },
        "started_from_sha256": start_sha256,
        "training_seconds": round(fit_seconds, 1),
        "seconds_per_epoch": round(fit_seconds / cfg.epochs, 1),
        "config": {
            k: (str(v) if isinstance(v, Path) else v)
            for k, v in asdict(cfg).items()
            if k not in ("out", "verbose")
        },
        "parameters": int(model.count_params()),
        "architecture": summary.getvalue(),
        "history": {k: [round(float(v), 5) for v in vals] for k, vals in history.history.items()},
    }
    with staging_dir(cfg.out) as stage:
        # A fresh, uncompiled copy: the file holds the weights, not Adam's state (3x smaller).
        clean = build_model()
        clean.set_weights(model.get_weights())
        clean.save(stage / KERAS_FILE)
        (stage / MODEL_FILE).write_bytes(tflite)
        served = Classifier(stage / MODEL_FILE).predict(x_test[:256])
        gap = float(np.abs(served - probabilities[:256]).max())
        if gap > EXPORT_TOLERANCE:
            raise RuntimeError(f"TFLite export disagrees with Keras by {gap:.2e}")
        metadata["export_max_abs_difference"] = gap
        plot_confusion(matrix, stage / CONFUSION_FILE, f"MNIST test, accuracy {test['accuracy']:.2%}")
        plot_curves(history.history, stage / CURVES_FILE)
        # Hashes tie the metadata to exactly these files.
        metadata["files"] = {
            name: hashlib.sha256((stage / name).read_bytes()).hexdigest()
            for name in (KERAS_FILE, MODEL_FILE, CONFUSION_FILE, CURVES_FILE)
        }
        (stage / METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n")
        # The metadata goes last: a reader that sees it sees the files it describes.
        for name in (KERAS_FILE, MODEL_FILE, CONFUSION_FILE, CURVES_FILE, METADATA_FILE):
            publish(stage / name, cfg.out / name)
    print(
        f"wrote {cfg.out}/{{{MODEL_FILE},{KERAS_FILE},{METADATA_FILE}}} "
        f"in {time.perf_counter() - started:.0f} s"
    )
    return metadata
