"""Offline copies and sync (issue 17): a room of storage's own. What changes a workspace
records, how change sets travel (to the team database, through a shared folder) and how a
local copy is taken."""
