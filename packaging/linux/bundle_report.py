"""What the last build bundled, largest first, and which system libraries it needs.

    build/venv/bin/python packaging/linux/bundle_report.py [--top N] [--depends]

Reads PyInstaller's table of contents (build/pyinstaller/multichat/PKG-00.toc).
``--depends`` runs ldd on every bundled shared library and maps each library
the bundle does not carry to its Debian package (dpkg -S): the source of the
Depends line in packaging/linux/build_deb.py. Libraries no installed package
provides are listed as missing (Qt plugins for desktops this machine lacks).
"""

from __future__ import annotations

import argparse
import ast
import re
import subprocess
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TOC = REPO / "build" / "pyinstaller" / "multichat" / "PKG-00.toc"


def bundled() -> list[tuple[str, Path, str]]:
    text = TOC.read_text()
    toc = ast.literal_eval(text)
    return [(name, Path(source), kind) for name, source, kind in toc[2]
            if kind in ("BINARY", "EXTENSION", "DATA") and source]


def report_sizes(top: int) -> None:
    groups: dict[str, int] = defaultdict(int)
    entries = []
    for name, source, _kind in bundled():
        size = source.stat().st_size if source.is_file() else 0
        entries.append((size, name))
        top_dir = "/".join(name.split("/")[:3]) if name.startswith("PySide6/Qt/") else (
            name.split("/")[0])
        groups[top_dir] += size
    total = sum(size for size, _ in entries)
    print(f"{len(entries)} files, {total / 2**20:.1f} MiB before compression")
    for size, name in sorted(entries, reverse=True)[:top]:
        print(f"{size / 2**20:8.2f} MiB  {name}")
    print("by folder:")
    for group, size in sorted(groups.items(), key=lambda item: -item[1])[:top]:
        print(f"{size / 2**20:8.2f} MiB  {group}")


def report_depends() -> None:
    names = {Path(name).name for name, _source, _kind in bundled()}
    needed: dict[str, set[str]] = defaultdict(set)
    for name, source, kind in bundled():
        if kind == "DATA" or ".so" not in source.name:
            continue
        output = subprocess.run(["ldd", str(source)], capture_output=True, text=True,
                                check=False).stdout
        for line in output.splitlines():
            match = re.match(r"\s*(\S+) => (\S+)", line)
            if match and match.group(1) not in names:
                needed[match.group(1)].add(name)
    packages: dict[str, set[str]] = defaultdict(set)
    for library in sorted(needed):
        found = subprocess.run(["dpkg", "-S", f"*/{library}"], capture_output=True,
                               text=True, check=False).stdout
        package = found.split(":")[0] if found else "MISSING"
        packages[package].add(library)
    for package, libraries in sorted(packages.items()):
        print(f"{package}: {', '.join(sorted(libraries))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--depends", action="store_true")
    args = parser.parse_args()
    report_sizes(args.top)
    if args.depends:
        report_depends()


if __name__ == "__main__":
    main()
