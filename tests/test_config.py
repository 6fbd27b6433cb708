"""oaiserver.config: settings declared once, read in layers, checked at start."""
from __future__ import annotations

import os

import pytest


@pytest.fixture
def make_app(tmp_path, monkeypatch):
    """create_app on a fresh instance folder, with no OAISERVER_* variable but the instance path."""
    from oaiserver import create_app

    for name in [name for name in os.environ if name.startswith("OAISERVER_")]:
        monkeypatch.delenv(name)
    instance = tmp_path / "instance"
    instance.mkdir()
    monkeypatch.setenv("OAISERVER_INSTANCE_PATH", str(instance))
    return lambda test_config=None: create_app(test_config)


def test_keys_are_declared_once():
    """No key is declared twice, and every key is an upper-case config name."""
    from oaiserver.config import SETTINGS

    keys = [setting.key for setting in SETTINGS]
    assert len(keys) == len(set(keys)) and all(key.isupper() for key in keys)


def test_layers_override_in_order(make_app, tmp_path, monkeypatch):
    """Defaults < instance/config.py < OAISERVER_* variables < test config."""
    (tmp_path / "instance" / "config.py").write_text(
        "OAI_REPOSITORY_NAME = 'file'\nOAI_PAGE_SIZE = 7\nOAI_TOKEN_TTL = 60\nOAI_RETRY_AFTER = 9\n")
    monkeypatch.setenv("OAISERVER_OAI_TOKEN_TTL", "120")
    monkeypatch.setenv("OAISERVER_OAI_RETRY_AFTER", "11")
    config = make_app({"TESTING": True, "OAI_RETRY_AFTER": 13}).config
    assert config["OAI_IDENTIFIERS_PAGE_SIZE"] == 500  # default
    assert (config["OAI_REPOSITORY_NAME"], config["OAI_PAGE_SIZE"]) == ("file", 7)
    assert config["OAI_TOKEN_TTL"] == 120
    assert config["OAI_RETRY_AFTER"] == 13


def test_each_app_gets_its_own_list_and_dict_defaults(make_app):
    """Changing one app's list or dict setting leaves the next app's defaults alone."""
    first = make_app({"TESTING": True})
    first.config["OAI_ADMIN_EMAILS"].append("changed@example.org")
    first.config["OAI_JOURNAL_IDS"]["x"] = "y"
    second = make_app({"TESTING": True})
    assert second.config["OAI_ADMIN_EMAILS"] == ["admin@localhost.localdomain"]
    assert second.config["OAI_JOURNAL_IDS"] == {}


@pytest.mark.parametrize("key, value", [
    ("OAI_PAGE_SIZE", 0), ("OAI_IDENTIFIERS_PAGE_SIZE", "many"), ("OAI_TOKEN_TTL", 0),
    # A page of one would be a one-item page (decisions.md P10).
    ("OAI_PAGE_SIZE", 1), ("OAI_IDENTIFIERS_PAGE_SIZE", 1),
    ("OAI_MAX_CONCURRENT_REQUESTS", -1), ("OAI_RETRY_AFTER", 0), ("MAX_CONTENT_LENGTH", "big"),
    ("OAI_REPOSITORY_IDENTIFIER", "localhost"), ("OAI_REPOSITORY_IDENTIFIER", None),
])
def test_bad_values_name_their_key(make_app, key, value):
    """A value a check refuses stops create_app with a ConfigError naming the key."""
    from oaiserver import ConfigError

    with pytest.raises(ConfigError, match=key):
        make_app({"TESTING": True, key: value})


def test_values_are_parsed(make_app):
    """Numbers from strings become ints, comma-separated lists become lists, None limits get ours."""
    config = make_app({"TESTING": True, "OAI_PAGE_SIZE": "25", "OAI_COMPRESSION": "gzip, ",
                       "MAX_CONTENT_LENGTH": None}).config
    assert config["OAI_PAGE_SIZE"] == 25
    assert config["OAI_COMPRESSION"] == ["gzip"]
    assert config["MAX_CONTENT_LENGTH"] == 64 * 1024


def test_adding_a_key_is_one_entry(make_app, monkeypatch):
    """A Setting appended to SETTINGS gets its default into app.config and its check at start."""
    from oaiserver import ConfigError, config

    extra = config.Setting("OAI_EXAMPLE_LIMIT", 3, "an example", config.whole_number(1))
    monkeypatch.setattr(config, "SETTINGS", (*config.SETTINGS, extra))
    assert make_app({"TESTING": True}).config["OAI_EXAMPLE_LIMIT"] == 3
    assert make_app({"TESTING": True, "OAI_EXAMPLE_LIMIT": "4"}).config["OAI_EXAMPLE_LIMIT"] == 4
    with pytest.raises(ConfigError, match="OAI_EXAMPLE_LIMIT"):
        make_app({"TESTING": True, "OAI_EXAMPLE_LIMIT": 0})
    assert "| `OAI_EXAMPLE_LIMIT` | `3` | an example |" in config.markdown_table()


def test_documented_defaults():
    """The README's default cell: "empty" with its meaning, or the value in backticks with a unit."""
    from oaiserver.config import Setting

    assert Setting("A", "", "").documented_default() == "empty"
    assert Setting("A", "", "", default_note="the URL").documented_default() == "empty: the URL"
    assert Setting("A", 60, "", default_note="a minute").documented_default() == "`60` (a minute)"
    assert Setting("A", ["x", "y"], "").documented_default() == '`["x", "y"]`'
    assert Setting("A", False, "").documented_default() == "`False`"
