"""How long work reports progress and learns that the user cancelled it."""

from __future__ import annotations

from collections.abc import Callable

#: progress(done, total): total may be None when it is not known.
Progress = Callable[[int, int | None], None]
#: cancel() → True when the user asked to stop.
Cancel = Callable[[], bool]
