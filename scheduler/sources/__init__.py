"""The scheduled sources: what is crawled, when, with which options.

Holds: the rows of the archive's ``sources`` table as objects and reading
them (:mod:`.scheduled`); schedules, ``--every`` / ``--cron`` / ``--jitter``
and their APScheduler triggers (:mod:`.schedules`); a source's options as
people write them, checked (:mod:`.specs`); files of sources, read and
written (:mod:`.files`); adding, removing, pausing and resuming sources
(:mod:`.edit`); when sources are due (:mod:`.due`); ``sources list``, each
source's health and pages of them (:mod:`.listing`); and the adaptive
interval that follows a channel's posting rate (:mod:`.adaptive`).

May import: :mod:`archive.errors`, :mod:`archive.export.cells` (CSV cells a
spreadsheet cannot run), :mod:`archive.query.search` (a keyword alert's query,
read as ``search`` reads one), :mod:`archive.source`,
:mod:`archive.store.sources` (the one writer of the table),
:mod:`archive.times`, :mod:`crawler.options`. Never another room of the
scheduler: they all build on this one.
"""
