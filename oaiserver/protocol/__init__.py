"""The OAI-PMH 2.0 core: arguments, verbs, errors, tokens and the XML envelope (no Flask)."""
