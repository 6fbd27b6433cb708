"""`python -m oaiserver.checker BASE_URL`: the checker without loading the server's app."""
from __future__ import annotations

from oaiserver.checker.command import check_command

if __name__ == "__main__":
    check_command()
