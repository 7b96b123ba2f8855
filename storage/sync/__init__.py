"""Offline copies and sync (issue 17): the sync engine, no Qt.

- ``tables.py``: which tables and columns sync, and how a value travels.
- ``capture.py``: database triggers that note every change of a synced table in the
  outbox, installed when a database first takes part in sync (``enable_sync``).
- ``engine.py``: ``seal`` stamps the outbox's changes, ``changes_since`` reads what a
  peer has not seen, ``apply_changes`` takes a change set in (roles checked, registers
  merged, each touched field's winner written into the tables).
- ``conflicts.py``: the conflicts and the changes kept aside, and settling a conflict.
- ``derived.py``: the caches a sync does not carry, brought up to date after it.
- ``checkout.py``: a local copy of a team workspace, a rep's part of it or the whole.
- ``team.py``: a copy's sync with the team database it was taken from.
- ``folder.py``: sync without a server, change sets as files in a shared folder.
- ``steps.py``: a sync's steps, with progress and a cancel between them.

The rules themselves (clocks, registers, deletions, history, roles) are in domain.sync.
"""
