"""Storage: the SQLite file, its schema, connections and read queries."""
