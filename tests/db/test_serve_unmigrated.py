"""`smartcharge serve` on a database that is not migrated says in one line what to run and exits 1, without a
traceback and without creating anything; once `smartcharge db upgrade` has run, it starts."""

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, inspect

from app.db.engine import is_sqlite, sync_url
from app.db.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]
ENTRY_POINT = "from app.cli import main; main()"  # what the `smartcharge` script runs


def smartcharge(database_url: str, *args: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "SMARTCHARGE_DATABASE_URL": database_url,
        "SMARTCHARGE_ADMIN_TOKEN": "sc_test_admin_token_0123456789",
        "SMARTCHARGE_API_HOST": "127.0.0.1",
        "SMARTCHARGE_OCPP_HOST": "127.0.0.1",
        "SMARTCHARGE_OCPP_PORT": "0",
    }
    return subprocess.Popen(
        [sys.executable, "-c", ENTRY_POINT, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_serve_on_a_database_never_migrated_says_what_to_run(database_url: str) -> None:
    process = smartcharge(database_url, "serve", "--port", "0")
    try:
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 1, stderr
    assert "Traceback" not in stderr
    assert stderr.count("\n") == 1, stderr
    assert stderr.startswith("error: ")
    assert "run `smartcharge db upgrade` first" in stderr
    if is_sqlite(database_url):
        assert "there is no database at" in stderr
        assert not Path(database_url.removeprefix("sqlite:///")).exists()
    else:
        assert "has never been migrated" in stderr
        engine = create_engine(sync_url(database_url))
        try:
            assert inspect(engine).get_table_names() == []
        finally:
            engine.dispose()


def test_serve_on_an_empty_sqlite_file_says_what_to_run(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    process = smartcharge(f"sqlite:///{path}", "serve", "--port", "0")
    try:
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 1, stderr
    assert stderr.splitlines() == [
        f"error: the database at sqlite:///{path} has never been migrated: run `smartcharge db upgrade` first"
    ]


def test_serve_starts_once_migrated(database_url: str) -> None:
    upgrade(database_url)
    process = smartcharge(database_url, "serve", "--port", "0")
    try:
        assert process.stderr is not None
        lines = []
        for line in process.stderr:  # ends when the process does: a failed start ends the loop
            lines.append(line)
            if "Application startup complete" in line:
                break
        assert any("Application startup complete" in line for line in lines), "".join(lines)
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_serve_on_a_database_behind_the_code_says_what_to_run(database_url: str) -> None:
    upgrade(database_url, "0001")
    process = smartcharge(database_url, "serve", "--port", "0")
    try:
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 1, stderr
    assert "Traceback" not in stderr
    assert "behind this code: run `smartcharge db upgrade` first" in stderr
