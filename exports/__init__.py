"""Outputs of the Article 30 record: each reads a :class:`catalog.record.Record`, never the store."""

from exports.workbook import write_workbook

__all__ = ["write_workbook"]
