"""``vigie user add EMAIL --role ROLE`` with the password on standard input."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vigie.cli import app
from vigie.console import queries as q
from vigie.console.security import check_password
from vigie.settings import get_settings
from vigie.store.migrate import upgrade
from vigie.store.sql import SqlStore

runner = CliRunner()


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("VIGIE_DATABASE_URL", url)
    get_settings.cache_clear()
    upgrade(url)  # the migration carries the console tables
    yield url
    get_settings.cache_clear()


def test_user_add_reads_the_password_from_stdin(url: str) -> None:
    result = runner.invoke(
        app,
        ["user", "add", "Ref@Vigie.test", "--role", "referent"],
        input="a-long-enough-passphrase\n",
    )
    assert result.exit_code == 0, result.output
    store = SqlStore(url)
    with store.unit() as unit:
        user = q.user_by_email(unit.session, "ref@vigie.test")
        assert user is not None and user.role == "referent"
        assert user.password_hash.startswith("$argon2")
        assert check_password(user.password_hash, "a-long-enough-passphrase")
    store.dispose()
    again = runner.invoke(
        app,
        ["user", "add", "ref@vigie.test", "--role", "referent"],
        input="a-long-enough-passphrase\n",
    )
    assert again.exit_code != 0


@pytest.mark.parametrize(
    ("role", "password"), [("boss", "a-long-enough-passphrase"), ("moderator", "short")]
)
def test_user_add_refuses_bad_input(url: str, role: str, password: str) -> None:
    result = runner.invoke(
        app, ["user", "add", "x@vigie.test", "--role", role], input=password + "\n"
    )
    assert result.exit_code == 2
