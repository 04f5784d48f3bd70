"""Notifications: telling people what a scheduled crawl changed (``sources add ... --notify URL``).

Holds: a source's targets, checked, masked, set and read (:mod:`.targets`);
the message telling one target of the changes (:mod:`.messages`); and
sending them after each scheduled crawl, with the watermark that makes
sure nothing is lost or sent twice (:mod:`.delivery`).

May import: :mod:`archive.errors`, :mod:`archive.query.changes`, :mod:`archive.query.search`,
:mod:`archive.store`, :mod:`archive.times`.
"""
