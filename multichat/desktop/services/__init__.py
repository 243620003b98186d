"""Services of the desktop app that are neither widgets nor the chat connection."""
