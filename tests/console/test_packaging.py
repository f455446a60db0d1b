"""Every template, script, style and licence of the console ships in the distribution: each file under
app/console/templates and app/console/static is matched by the package data globs of pyproject.toml."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app"


def test_every_console_asset_is_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]["app"]
    shipped = {path for pattern in globs for path in APP.glob(pattern)}
    assets = {
        path
        for folder in ("templates", "static")
        for path in (APP / "console" / folder).rglob("*")
        if path.is_file()
    }
    assert len(assets) > 15
    assert assets - shipped == set()
