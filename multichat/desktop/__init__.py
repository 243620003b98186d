"""The Multichat desktop app (PySide6 on qasync). Arrives with the desktop issue."""
