"""The seed's Room: a title and whether only staff may join."""

from __future__ import annotations

from django.db import models


class Room(models.Model):
    title = models.CharField(max_length=255)
    staff_only = models.BooleanField(default=False)

    class Meta:
        app_label = "channels_peer"

    @property
    def group_name(self) -> str:
        """The Channels group its members' channels join."""
        return f"room-{self.id}"
