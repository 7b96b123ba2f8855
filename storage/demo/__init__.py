"""The demo workspace: varied companies, people, a small team and their dossiers, by seed."""
