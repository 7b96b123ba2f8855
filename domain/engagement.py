"""Engagement: what an account did towards marketing (an event attended, a webinar, a
content download, an email reply, a form fill, a campaign response), imported from files.
It is used to rank the call queue and, with its campaign and source, in the closed loop."""

from __future__ import annotations

import enum


class EngagementKind(enum.StrEnum):
    EVENT = "event attended"
    WEBINAR = "webinar"
    CONTENT = "content download"
    EMAIL_REPLY = "email reply"
    FORM = "form fill"
    CAMPAIGN = "campaign response"

    @property
    def label(self) -> str:
        return self.value.capitalize()
