"""The HTTP edge: the Flask view, the fast WSGI route and request limits."""
