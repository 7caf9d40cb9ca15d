"""The library's environment variables: one module reads them all, each when it is used (xai_lib/settings.py)."""

import re
from pathlib import Path

import pytest

from xai_lib import settings
from xai_lib.cache import cache_dir
from xai_lib.models import shipped
from xai_lib.runtime import pin_threads

LIBRARY = Path(__file__).resolve().parents[1] / "xai_lib"


def test_only_the_settings_module_reads_the_librarys_variables():
    readers, named = [], set()
    for path in LIBRARY.rglob("*.py"):
        text = path.read_text()
        named |= set(re.findall(r"XAI_LIB_[A-Z_]+", text))
        if path.name != "settings.py" and re.search(r"(environ|getenv)\S*\(\s*[\"']XAI_LIB_", text):
            readers.append(path.name)
        if path.name != "settings.py" and re.search(r"environ\[[\"']XAI_LIB_", text):
            readers.append(path.name)
    assert readers == []
    assert named == set(settings.VARIABLES)  # every variable the library names is documented there, and no other


def test_a_variable_is_read_when_it_is_used(monkeypatch, tmp_path):
    monkeypatch.setenv("XAI_LIB_CACHE", str(tmp_path / "a"))
    assert cache_dir() == (tmp_path / "a").resolve()
    monkeypatch.setenv("XAI_LIB_CACHE", str(tmp_path / "b"))
    assert cache_dir() == (tmp_path / "b").resolve()
    monkeypatch.setenv("XAI_LIB_SHIPPED_MODELS", "off")
    assert shipped.enabled() is False
    monkeypatch.setenv("XAI_LIB_SHIPPED_MODELS", " Yes ")
    assert shipped.enabled() is True
    monkeypatch.delenv("XAI_LIB_SHIPPED_MODELS")
    assert shipped.enabled() is True  # the default


@pytest.mark.parametrize(
    ("name", "value", "call"),
    [
        ("XAI_LIB_SHIPPED_MODELS", "maybe", shipped.enabled),
        ("XAI_LIB_THREADS", "two", pin_threads),
        ("XAI_LIB_THREADS", "0", pin_threads),
    ],
)
def test_a_bad_value_names_its_variable(monkeypatch, name, value, call):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=f"^{name}: expected"):
        call()


def test_an_unknown_name_is_refused():
    with pytest.raises(KeyError, match="XAI_LIB_THRADS"):
        settings.raw("XAI_LIB_THRADS")
