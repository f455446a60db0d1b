"""The package says what it offers, and stays out of the application."""

import pathlib

import simulator


def test_all_names_exist_and_are_sorted() -> None:
    for name in simulator.__all__:
        assert getattr(simulator, name) is not None, name
    assert simulator.__all__ == sorted(simulator.__all__, key=lambda n: (not n.isupper(), n))


def test_no_module_imports_the_application_or_the_gateway() -> None:
    for source in pathlib.Path(simulator.__file__).parent.glob("*.py"):
        text = source.read_text()
        assert "from app" not in text, source.name
        assert "import app" not in text, source.name
        assert "ocpp_gateway" not in text, source.name
