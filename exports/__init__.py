"""The one export pipeline: every CSV and XLSX download (screening log, audit trail, funnel, EAC
log) is streamed by `download`, with the same formula neutralising and cell conversion.

A bottom layer: it imports Django but no app of the project, so every app may use it.
"""

from .pipeline import (
    ExportFormat,
    ExportTrace,
    csv_cell,
    csv_chunks,
    download,
    export_format,
    neutralise,
    write_xlsx,
    xlsx_cell,
    xlsx_chunks,
)

__all__ = [
    "ExportFormat",
    "ExportTrace",
    "csv_cell",
    "csv_chunks",
    "download",
    "export_format",
    "neutralise",
    "write_xlsx",
    "xlsx_cell",
    "xlsx_chunks",
]
