"""JATS 1.3 Journal Publishing front matter."""
from metadata_formats.jats.render import FORMAT

__all__ = ["FORMAT"]
