"""Signals that land in a finalizer.

The CLI turns SIGINT, SIGTERM and SIGHUP into an exception raised where the program is. When
that is inside a finalizer (a temporary file of XlsxWriter's closed by the garbage collector),
Python cannot raise it there: it prints "Exception ignored in ..." with a traceback and goes
on, as if no signal had come. ``kept()`` keeps such an exception instead, silently, and
``raise_lost()`` raises it at the next safe point (before a workbook is renamed into place,
and when the command ends), so the signal still stops the program and every cleanup runs.
"""
from __future__ import annotations

import contextlib
import sys

_LOST: list[BaseException] = []


def raise_lost() -> None:
    """Raise the signal's exception a finalizer swallowed, if any."""
    if _LOST:
        raise _LOST.pop()


@contextlib.contextmanager
def kept():
    previous = sys.unraisablehook

    def hook(unraisable):
        if isinstance(unraisable.exc_value, KeyboardInterrupt):
            _LOST.append(unraisable.exc_value)
        else:
            previous(unraisable)

    sys.unraisablehook = hook
    try:
        yield
        raise_lost()
    finally:
        sys.unraisablehook = previous
        _LOST.clear()
