"""What the app remembers between runs (QSettings, the one place that opens them): the last
workspace, where each window was and how big, each user's last view (My day or the
accounts list), columns of the accounts list and the channel they logged last, the
territory rules, the shared folder each workspace syncs through. Who worked last is in
storage.remembered, which the command line reads too."""

from __future__ import annotations

import json
from urllib.parse import quote

from PySide6.QtCore import QByteArray, QEvent, QObject, QSettings, QSize
from PySide6.QtWidgets import QHeaderView, QStyle, QWidget

from storage import remembered


def _settings() -> QSettings:
    return QSettings("Accord", "Accord")


def remembered_user() -> str | None:
    """Who worked last; a name that an older Accord kept in QSettings moves to the file
    the command line reads."""
    name = remembered.remembered_user()
    if name is None:
        settings = _settings()
        older = settings.value("user")
        if older:
            name = str(older)
            remembered.remember_user(name)
            settings.remove("user")
    return name


def remembered_workspace() -> str | None:
    value = _settings().value("workspace")
    return str(value) if value else None


def remember_workspace(db: str) -> None:
    _settings().setValue("workspace", db)


def remembered_territories() -> dict[str, str]:
    value = _settings().value("territories")
    return json.loads(value) if isinstance(value, str) else {}


def remember_territories(rules: dict[str, str]) -> None:
    _settings().setValue("territories", json.dumps(rules))


def _geometry_key(window: QWidget) -> str:
    return f"geometry/{type(window).__name__}"


class _GeometryKeeper(QObject):
    """Writes down a window's size and place whenever it closes. It keeps nothing of its
    own: a reference back to its window would tie the two in a cycle, which leaves a closed
    dialog to Python's garbage collector (PySide hands a dialog back to Python after
    exec()), and that may run on a worker thread, where deleting Qt objects crashes."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Hide and isinstance(watched, QWidget):
            _settings().setValue(_geometry_key(watched), watched.saveGeometry())
        return False


def keep_geometry(window: QWidget, size: QSize | None = None) -> None:
    """Open ``window`` where and as big as it was when it last closed; the first time at
    ``size`` (else the size its layout asks for), made smaller to fit the screen."""
    saved = _settings().value(_geometry_key(window))
    if not (isinstance(saved, QByteArray) and window.restoreGeometry(saved)):
        # Room for the title bar, which the window manager adds around the size asked for.
        title_bar = window.style().pixelMetric(QStyle.PixelMetric.PM_TitleBarHeight)
        room = window.screen().availableGeometry().size() - QSize(0, title_bar)
        window.resize((size or window.sizeHint()).boundedTo(room))
    window.installEventFilter(_GeometryKeeper(window))


def _view_key(user_name: str) -> str:
    return f"view/{quote(user_name, safe='')}"


def remembered_view(user_name: str) -> str | None:
    """The view ``user_name`` had open last ("my day" or "accounts"), if any."""
    value = _settings().value(_view_key(user_name))
    return str(value) if value else None


def remember_view(user_name: str, view: str) -> None:
    _settings().setValue(_view_key(user_name), view)


def _columns_key(user_name: str) -> str:
    return f"account columns/{quote(user_name, safe='')}"


def restore_columns(header: QHeaderView, user_name: str) -> bool:
    """Show the accounts list's columns as ``user_name`` left them: which, in what order,
    how wide. False when this user has not changed them yet."""
    saved = _settings().value(_columns_key(user_name))
    return isinstance(saved, QByteArray) and header.restoreState(saved)


def remember_columns(header: QHeaderView, user_name: str) -> None:
    _settings().setValue(_columns_key(user_name), header.saveState())


def _channel_key(user_name: str) -> str:
    return f"log channel/{quote(user_name, safe='')}"


def remembered_channel(user_name: str) -> str | None:
    """The channel ``user_name`` logged their last interaction by (a Channel's value)."""
    value = _settings().value(_channel_key(user_name))
    return str(value) if value else None


def remember_channel(user_name: str, channel: str) -> None:
    _settings().setValue(_channel_key(user_name), channel)


def _folder_key(workspace_url: str) -> str:
    return f"sync folder/{quote(workspace_url, safe='')}"


def remembered_sync_folder(workspace_url: str) -> str | None:
    """The shared folder the workspace at ``workspace_url`` syncs through, if one was chosen."""
    value = _settings().value(_folder_key(workspace_url))
    return str(value) if value else None


def remember_sync_folder(workspace_url: str, folder: str) -> None:
    _settings().setValue(_folder_key(workspace_url), folder)
