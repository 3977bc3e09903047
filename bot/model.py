"""The serving model, held behind one object so it can be replaced while the bot runs.

Every batch of photos takes ``ModelHolder.current`` once and uses that model for the whole
batch, so a swap happens between two batches: no request ever sees half of each model.
A retrain (or a rollback) loads the new model off the event loop with ``load_model`` and
then calls ``swap``; requests already being classified finish on the old one.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classifier.reader import DigitReader
from classifier.serving import Classifier

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadedModel:
    reader: DigitReader
    version: str
    path: Path
    metadata: dict[str, Any] = field(default_factory=dict)  # what training wrote (metadata.json)


def load_model(path: str | os.PathLike[str]) -> LoadedModel:
    """Load a model folder or ``.tflite`` file (blocking: run it in an executor)."""
    classifier = Classifier(path)
    return LoadedModel(
        reader=DigitReader(classifier),
        version=classifier.version,
        path=classifier.path,
        metadata=classifier.metadata,
    )


class ModelHolder:
    """The one place the bot finds its model. Only touched from the event loop thread."""

    def __init__(self, model: LoadedModel) -> None:
        self._current = model

    @property
    def current(self) -> LoadedModel:
        return self._current

    def swap(self, model: LoadedModel) -> LoadedModel:
        """Serve ``model`` from the next batch on; returns the model it replaced."""
        old, self._current = self._current, model
        log.info("serving model %s (%s), was %s", model.version, model.path, old.version)
        return old
