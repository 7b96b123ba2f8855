"""Persistence: the schema, the workspace and its migrations and backups, the stores the
use cases talk to, and rooms for importing (importing/), the demo (demo/) and what is only
read (read_models/)."""
