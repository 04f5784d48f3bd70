"""Serving the archive with Datasette, read-only, with chanarchive's metadata and canned queries.

Holds: the Datasette app (:mod:`.app`); chanarchive's Datasette plugin
(:mod:`.plugin`: the hook that guards every connection to an archive, the
archive's own pages and their JSON, captures shown safely, search, change
lists and feeds, their templates, stylesheet and SVG charts); and what
Datasette shows about an archive: descriptions, search, facets, canned
queries (:mod:`.metadata`).

May import: :mod:`archive.query` (the SQL guard, and what the pages show),
:mod:`archive.store` (its read-only connection), :mod:`archive.extract.encoding`
(a capture's bytes read as text), :mod:`archive.export.cells` (CSV cells a
spreadsheet cannot run), :mod:`archive.export.atom` (the change feed),
:mod:`archive.errors`, :mod:`archive.times`, ``archive.__version__``, and
Datasette. Writes nothing.
"""
