"""Digits as a notebook shows them: ``imshow`` of an MNIST digit, saved as a figure."""

from __future__ import annotations

import io

import numpy as np
from matplotlib.figure import Figure


def notebook_plot(digit: np.ndarray, cmap: str, axes: bool = True) -> bytes:
    """A 640x480 PNG of ``plt.imshow(digit, cmap=cmap)``: the digit's 28x28 pixels as a
    square of blocks, inside a white figure, with axes and numbered ticks unless ``axes`` is
    False. (``gray`` shows it white on black, ``viridis``, matplotlib's default, yellow on
    purple.)"""
    figure = Figure(figsize=(6.4, 4.8), dpi=100)
    ax = figure.subplots()
    ax.imshow(digit, cmap=cmap)
    if not axes:
        ax.axis("off")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
