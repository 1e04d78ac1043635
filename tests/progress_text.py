"""What the command line's progress text must be: parts in order, plain lines for a log or a pipe."""

from __future__ import annotations


def assert_in_order(text: str, *parts: str) -> None:
    """Each of ``parts`` is in ``text``, each after the one before."""
    at = 0
    for part in parts:
        found = text.find(part, at)
        assert found >= 0, f"{part!r} not after position {at} of:\n{text}"
        at = found + len(part)


def assert_plain_lines(text: str) -> None:
    """Progress for a log or a pipe: whole lines, no carriage-return redraws, no escape codes."""
    assert "\r" not in text and "\x1b" not in text and text.endswith("\n")
