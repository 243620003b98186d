"""Qt item models the windows show: rooms, one room's messages, one room's members."""

from multichat.desktop.models.members import MemberListModel, MemberRole
from multichat.desktop.models.messages import MessageListModel, MessageRole
from multichat.desktop.models.rooms import RoomListModel, RoomRole

__all__ = [
    "MemberListModel",
    "MemberRole",
    "MessageListModel",
    "MessageRole",
    "RoomListModel",
    "RoomRole",
]
