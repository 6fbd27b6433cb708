"""OAI-PMH 2.0 protocol tests, one module per verb plus general rules (a package so that its
conftest does not shadow tests/conftest.py, which the modules import helpers from)."""
