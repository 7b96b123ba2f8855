"""What a big engagement file's reader process is given to match rows to accounts itself
(reading.Reading.matching): light, so that the process starts without SQLAlchemy or the
schema, which it loads only once the import is behind and it has time to match."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from storage.importing.reading import Chunk


@dataclass(frozen=True)
class MatchingApart:
    """Makes the reader's matcher for a SQLite workspace's file, which it reads on a
    connection of its own: the import starts the reader once it holds the write lock, so
    that what the reader finds is what the import's transaction holds (no one else writes
    meanwhile, and an import writes no account or contact)."""

    path: Path
    #: The column a row's rejection names, for each way of matching it.
    columns: dict[str, str]

    def __call__(self) -> Callable[[Chunk], None]:
        # Loaded here, in the reader process, once it has rows to match: not at its start.
        from storage.importing.matching import matching_apart

        return matching_apart(self.path, self.columns)
