"""Outputs of the Article 30 record: each reads a :class:`catalog.record.Record`, never the store
(the catalogue JSON, which is the catalogue itself rather than the record, reads a session)."""

from exports.workbook import write_workbook

__all__ = ["write_workbook"]
