"""Create the peer's table and rooms 1..R: ``python -m bench.channels_peer.prepare ROOMS``."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.channels_peer.settings")


def main(rooms: int) -> None:
    import django

    django.setup()
    from django.db import connection

    from bench.channels_peer.models import Room

    with connection.schema_editor() as editor:
        editor.create_model(Room)
    Room.objects.bulk_create([Room(title=f"Room {n}") for n in range(1, rooms + 1)])


if __name__ == "__main__":
    main(int(sys.argv[1]))
