"""The desktop app's connection to a server: ChatClient and its pure helpers."""

from multichat.desktop.client.chat_client import ChatClient, State

__all__ = ["ChatClient", "State"]
