"""Who may import whom (docs/architecture.md, "Layers"), checked on every module's imports.

Every ``import`` and ``from ... import`` statement counts, at any depth (one
inside a function is an import all the same), resolved to the module it names.
``multichat`` itself holds only the version; anyone may import it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "multichat"

# What each part may import of Multichat, besides itself and ``multichat``. A part
# not listed here (the entry point, resources) may import anything.
MAY_IMPORT: dict[str, tuple[str, ...]] = {
    "multichat.protocol": (),
    "multichat.lan": ("multichat.protocol",),
    # The server's own layers (the first part that names a module is its part):
    # store and broker know nothing of the rules or the network; the rules know
    # nothing of the network.
    "multichat.server.store": ("multichat.protocol", "multichat.server.redact"),
    "multichat.server.broker": ("multichat.server.redact",),
    "multichat.server.chat": ("multichat.protocol", "multichat.server.store",
                              "multichat.server.broker", "multichat.server.config",
                              "multichat.server.redact"),
    "multichat.server": ("multichat.protocol", "multichat.lan"),
    # The app hosts a server in-process through ChatServer (server.net) and its
    # ServerConfig; nothing else of the server, none of its errors but ServerError.
    "multichat.desktop": ("multichat.protocol", "multichat.lan", "multichat.resources",
                          "multichat.server.net", "multichat.server.config"),
    "multichat.resources": (),
}
# ``multichat.server.net`` is its package's public face: the desktop may import the
# package itself, not the modules inside it.
EXACT = {"multichat.server.net"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str) -> bool:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) for every module of ours that ``path`` imports."""
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                full = f"{base}.{alias.name}"
                yield node.lineno, full if is_module(full) else base


def allowed(importer: str, imported: str) -> bool:
    if imported == "multichat" or not imported.startswith("multichat."):
        return True
    part = next((p for p in MAY_IMPORT if importer == p or importer.startswith(p + ".")), None)
    if part is None or imported == part or imported.startswith(part + "."):
        return True
    return any(imported == ok or (ok not in EXACT and imported.startswith(ok + "."))
               for ok in MAY_IMPORT[part])


def violations() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        importer = module_name(path)
        for line, imported in imports(path):
            if not allowed(importer, imported):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {importer} "
                             f"imports {imported}")
    return found


def test_every_module_keeps_to_its_layer() -> None:
    assert violations() == []


# The protocol is pure: what both ends share must run without an event loop, Qt or
# a database (STYLE.md, "What we take", 1).
NOT_IN_PROTOCOL = ("asyncio", "PySide6", "qasync", "peewee", "playhouse", "websockets",
                   "redis", "zeroconf")


def test_the_protocol_imports_no_loop_no_qt_no_database() -> None:
    found = [f"{path.name}:{line}: {name}"
             for path in sorted((PACKAGE / "protocol").rglob("*.py"))
             for line, name in third_party_imports(path)
             if name.split(".")[0] in NOT_IN_PROTOCOL]
    assert found == []


def third_party_imports(path: Path) -> Iterator[tuple[int, str]]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            yield node.lineno, node.module


@pytest.mark.parametrize(("importer", "imported", "ok"), [
    ("multichat.protocol.commands", "multichat.protocol.names", True),
    ("multichat.protocol.commands", "multichat.lan", False),
    ("multichat.lan.record", "multichat.protocol.names", True),
    ("multichat.lan.record", "multichat.server.config", False),
    ("multichat.server.net.server", "multichat.lan", True),
    ("multichat.server.cli.commands", "multichat.desktop.app", False),
    ("multichat.desktop.controller", "multichat.server.net", True),
    ("multichat.desktop.controller", "multichat.server.config", True),
    ("multichat.desktop.controller", "multichat.server.net.tls", False),
    ("multichat.desktop.controller", "multichat.server.store.errors", False),
    ("multichat.desktop.services.hosting", "multichat.server.chat.passwords", False),
    ("multichat.cli", "multichat.desktop.app", True),
    ("multichat.server.chat.service", "multichat.server.store.repository", True),
    ("multichat.server.chat.service", "multichat.server.net.server", False),
    ("multichat.server.store.repository", "multichat.server.chat.errors", False),
    ("multichat.server.broker.local", "multichat.server.store", False),
    ("multichat.desktop.app", "multichat.cli", False),
])
def test_the_rules_tell_an_allowed_import_from_a_forbidden_one(
    importer: str, imported: str, ok: bool
) -> None:
    assert allowed(importer, imported) is ok


def test_an_import_inside_a_function_counts() -> None:
    """The entry point imports the app inside main(): the walk sees it."""
    assert "multichat.desktop.app" in {name for _, name in imports(PACKAGE / "cli.py")}
    assert "multichat.server.cli.commands" in {name for _, name in imports(PACKAGE / "cli.py")}
