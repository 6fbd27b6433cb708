"""The documentation keeps up with the code: every configuration key is documented."""
from __future__ import annotations

import pytest

from tests.helpers.oai import REPO


def config_keys() -> list[str]:
    from oaiserver import config

    return [name for name in vars(config) if name.isupper()]


@pytest.mark.parametrize("doc", ["README.md", "docs/admin.md"])
def test_every_config_key_is_documented(doc):
    """Each key of oaiserver/config.py appears in the README's and the admin guide's tables."""
    text = (REPO / doc).read_text(encoding="utf-8")
    missing = [key for key in config_keys() if f"`{key}`" not in text]
    assert not missing, f"{doc} does not document {missing}"


def test_readme_opens_with_the_two_commands():
    """The README's first two commands are the ones CI and a new user run."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0].strip() for b in readme.split("```sh\n")[1:3]]
    assert blocks[0] == "pip install -e . && oaiserver serve"
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert blocks[1] in ci


def test_every_metadata_format_is_documented():
    """Each registered format has its row (prefix, schema, namespace) in the harvesting guide."""
    from metadata_formats import FORMATS

    text = (REPO / "docs" / "harvesting.md").read_text(encoding="utf-8")
    missing = [prefix for prefix, fmt in FORMATS.items()
               if f"| `{prefix}` | `{fmt.schema}` | `{fmt.namespace}` |" not in text]
    assert not missing, f"docs/harvesting.md has no row for {missing}"
