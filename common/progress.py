"""Progress of long work, in words for the person waiting: local output only, never sent anywhere.

A long operation takes a :class:`Progress` (``silent`` unless the caller passes one; the command
line passes its terminal's) and says what it is doing as it does it: a fleet generated operator by
operator, each census and values round, an export read chunk by chunk. A line says how much work
is done (sites summed, rows read), never a record's values.
"""

from __future__ import annotations

import time
from typing import Protocol


class Progress(Protocol):
    """Where long work reports itself."""

    def __call__(self, message: str, *, ongoing: bool = False) -> None:
        """Say ``message``.

        Parameters
        ----------
        message : str
            One line, no newline.
        ongoing : bool
            The work is under way and the next message supersedes this one (a terminal may
            redraw it in place); otherwise the line is a result that stays.
        """


def silent(message: str, *, ongoing: bool = False) -> None:
    """The :class:`Progress` that says nothing: the default of every long operation."""


class Stage:
    """One stage of long work, timed from its creation: :meth:`update` while it runs, :meth:`done` when it ends.

    Parameters
    ----------
    progress : Progress
        Where the stage's lines go.
    name : str
        What the stage is, e.g. "round 1 census"; every line starts with it.
    """

    def __init__(self, progress: Progress, name: str) -> None:
        self._progress = progress
        self._name = name
        self._started = time.perf_counter()

    def update(self, what: str) -> None:
        """Say how far the stage is: "NAME: WHAT", superseded by the next line."""
        self._progress(f"{self._name}: {what}", ongoing=True)

    def done(self, what: str) -> None:
        """Say the stage ended: "NAME: WHAT in 4.2 s"."""
        self._progress(f"{self._name}: {what} in {time.perf_counter() - self._started:.1f} s")
