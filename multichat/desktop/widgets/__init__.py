"""Windows and dialogs. They call ChatClient methods and show models; no frame parsing."""
