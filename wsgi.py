"""WSGI entry point: `gunicorn wsgi:app`."""
from oaiserver import create_app

app = create_app()
