"""``vigie hash`` and ``vigie lists import`` (contract: docs/api.md).

A command-line adapter, beside ``core_commands``: it reads files and writes the store's list
tables, which ``detect/media/`` (hashing and matching only, no SQL) must not do itself.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from vigie.detect.media.hashing import MediaHashes
    from vigie.detect.media.lists import ParsedList

lists_app = typer.Typer(no_args_is_help=True, help="Hash lists of known imagery.")


def hash_lines(name: str, hashes: MediaHashes) -> list[str]:
    """The output lines of ``vigie hash`` for one file."""
    lines = []
    if hashes.pdq is not None:
        for pdq in [hashes.pdq, *hashes.frames]:
            lines.append(f"{name} pdq {pdq.hex} {pdq.quality}")
    for frame in hashes.vpdq or []:
        lines.append(f"{name} vpdq {frame.frame} {frame.hex} {frame.quality} {frame.seconds:.3f}")
    lines.append(f"{name} md5 {hashes.md5}")
    lines.append(f"{name} sha256 {hashes.sha256}")
    return lines


def hash_command(
    files: Annotated[list[Path], typer.Argument(help="image or video files")],
) -> None:
    """Print the PDQ, MD5 and SHA-256 (vPDQ for videos) of each file."""
    from vigie.detect.media.hashing import HashingError, hash_bytes

    failed = False
    for path in files:
        try:
            lines = hash_lines(str(path), hash_bytes(path.read_bytes(), path.name))
        except HashingError as exc:
            lines, failed = [f"{path} error {_one_line(str(exc))}"], True
        except OSError as exc:
            lines, failed = [f"{path} error {_one_line(exc.strerror or str(exc))}"], True
        for line in lines:
            typer.echo(line)
    if failed:
        raise typer.Exit(1)


def _one_line(text: str) -> str:
    return " ".join(text.split()) or "unreadable"


def _engine() -> Any:
    from vigie.settings import get_settings
    from vigie.store.engine import make_engine

    return make_engine(get_settings().database_url)


def _ready_engine() -> Any:
    """The settings' database, with the list tables: a database without them is brought up to
    date by the migrations (as ``vigie db upgrade`` would), so Alembic stays in charge."""
    from sqlalchemy import inspect

    from vigie.settings import get_settings
    from vigie.store import hashlists as repo
    from vigie.store.tables import Base

    engine = _engine()
    if inspect(engine).has_table("hash_list_changes"):
        return engine
    try:
        from vigie.store.migrate import upgrade
    except ImportError:  # pragma: no cover - before the migrations exist
        Base.metadata.create_all(engine, tables=repo.HASHLIST_TABLES)
        return engine
    upgrade(get_settings().database_url)
    return engine


def import_command(
    file: Annotated[Path, typer.Argument(help="hash list (CSV, ThreatExchange/HMA file)")],
    fmt: Annotated[str, typer.Option("--format", help="auto, csv, te or jsonl")] = "auto",
    list_name: Annotated[
        str | None,
        typer.Option("--list", help="list for files without a list column (default: file name)"),
    ] = None,
    label: Annotated[str, typer.Option(help="label for files without one")] = "known_imagery",
    source: Annotated[str | None, typer.Option(help="where the list comes from")] = None,
    threshold: Annotated[int, typer.Option(help="PDQ match distance (0..31)", min=0, max=31)] = 31,
    action: Annotated[str, typer.Option(help="action on match: block, hold, warn")] = "block",
) -> None:
    """Import a hash list; prints the hashes added and each rejected line with its reason."""
    from vigie.detect.media.lists import ListFormatError, parse_list

    with _no_cyclic_gc():
        try:
            text = file.read_text(encoding="utf-8-sig")
            parsed = parse_list(text, fmt, default_list=list_name or file.stem, default_label=label)
        except (OSError, UnicodeDecodeError, ListFormatError) as exc:
            typer.echo(f"error: {file}: {exc}", err=True)
            raise typer.Exit(2) from exc
        settings = {"source": source or file.name, "threshold": threshold, "action": action}
        added, removed = _store(parsed, settings)
    typer.echo(f"added {added}")
    if removed:
        typer.echo(f"removed {removed}")
    for line, reason in parsed.rejected:
        typer.echo(f"rejected line {line}: {reason}")


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """The cyclic garbage collector off while a list is imported: a million hashes are
    millions of small objects (entries, tuples, rows), and every few thousand allocations the
    collector walked them all again; at a million hashes parsing alone took 5.6 s of CPU with
    it and 3.3 s without. An import makes no reference cycles worth collecting."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _store(parsed: ParsedList, settings: dict[str, Any]) -> tuple[int, int]:
    """Every list of the file in one transaction: (hashes added, hashes removed)."""
    from sqlalchemy.orm import Session

    from vigie.store import hashlists as repo

    added = removed = 0
    with Session(_ready_engine()) as session, session.begin():
        for name in dict.fromkeys(e.list for e in parsed.entries):
            mine = [e for e in parsed.entries if e.list == name]
            hash_list = repo.get_or_create_list(session, name, label=mine[0].label, **settings)
            added += repo.add_entries(
                session,
                hash_list,
                [(e.hash_type, e.value, e.quality) for e in mine if e.op == "add"],
            )
            for e in mine:
                if e.op == "remove" and repo.remove_entry(session, hash_list, e.hash_type, e.value):
                    removed += 1
    return added, removed


def register(app: typer.Typer) -> None:
    app.command("hash")(hash_command)
    lists_app.command("import")(import_command)
    app.add_typer(lists_app, name="lists")
