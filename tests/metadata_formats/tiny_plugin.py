"""A pytest plugin that registers the tiny format for a whole run, as a real registration would.

    python -m pytest -p tests.metadata_formats.tiny_plugin tests/protocol/test_list_records.py

The tests that loop over ``FORMATS`` then run for ``tiny`` too (test_plugin.py does this).
"""
from __future__ import annotations

from metadata_formats import FORMATS
from tests.helpers.crosswalk_helpers import EXTRA_SCHEMAS
from tests.metadata_formats import tiny_format

FORMATS[tiny_format.FORMAT.prefix] = tiny_format.FORMAT
EXTRA_SCHEMAS[tiny_format.NAMESPACE] = tiny_format.xsd_path()
