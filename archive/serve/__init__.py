"""Serving the archive with Datasette, read-only, with chanarchive's metadata and canned queries.

Holds: the Datasette app and the plugin hook that guards every connection
(:mod:`.app`), and what Datasette shows about an archive: descriptions,
search, facets, canned queries (:mod:`.metadata`).

May import: :mod:`archive.query` (the SQL guard), :mod:`archive.store`
(its read-only connection), and Datasette. Writes nothing.
"""
