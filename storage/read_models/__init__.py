"""What is read to be shown or written out, never written: the accounts list's count and
pages, the accounts export and the dossiers printed to PDF."""
