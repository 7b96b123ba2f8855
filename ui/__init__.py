"""The PySide6 desktop interface: windows, dialogs and table models over storage queries."""
