"""Opening a lab file: its size, encoding and format (labs README § 2), then the reader of that format."""

from __future__ import annotations

import codecs

from .hl7 import read_hl7
from .reading import MAX_FILE_BYTES, FileReading, Refused, read_json


def open_file(path: str, size: int) -> FileReading:
    """Identify the file at `path` and return its readings; raises Refused for a whole-file refusal."""
    if size > MAX_FILE_BYTES:
        raise Refused(f"the file is {size} bytes, more than the {MAX_FILE_BYTES} bytes accepted")
    with open(path, "rb") as handle:
        head = handle.read(4096)
    start = head[3:] if head.startswith(codecs.BOM_UTF8) else head
    first = start.lstrip(b" \t\r\n")[:3]
    if first in (b"MSH", b"FHS", b"BHS"):
        with open(path, "rb") as handle:
            return read_hl7(handle.read())
    if first[:1] == b"{":
        return read_json(path)
    if not start.strip(b" \t\r\n"):
        raise Refused("the file is empty")
    raise Refused("not a FHIR Bundle, FHIR NDJSON or HL7 v2 file")
