"""HL7 v2.5.1 ORU^R01 messages into readings (README § 4, 5, 6, 8, 10), with hl7apy.

hl7apy parses each segment (fields, repetitions, components and subcomponents) with the separators
that the message's MSH declares. Segments are cut here, because hl7apy's message parser accepts only
CR between segments and the contract also accepts LF and CR LF. The structure of the message (which
OBX belongs to which OBR and PID) is simply the order of the segments, as § 8 states, so messages
are not parsed into hl7apy's groups: that would refuse messages that § 8 reads.
"""

from __future__ import annotations

import codecs
import re
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.exceptions import HL7apyException
from hl7apy.parser import get_message_info, parse_segment

from .reading import (
    HL7V2,
    NO_VALUE,
    FileReading,
    Identifier,
    Reading,
    Refused,
    SentValue,
    Stamp,
    decode,
    unescape,
)

_ENVELOPE = frozenset({"FHS", "BHS", "BTS", "FTS"})
_SEGMENT_END = re.compile(r"\r\n|\r|\n")
_DECIMAL = re.compile(r"[+-]?\d+(\.\d*)?")  # an optional sign, digits, an optional point (§ 6.1)
_RANGE = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)\s*-\s*(\d+\.?\d*|\.\d+)\s*")
_UPPER = re.compile(r"\s*<=?\s*(\d+\.?\d*|\.\d+)\s*")
_CODED = frozenset({"CE", "CWE", "CNE"})
_TEXT = frozenset({"ST", "TX", "FT"})
_VERSION = "2.5.1"  # MSH-12 is not read: every message is read with the 2.5.1 structures


def _index(name: str | None) -> int:
    """The position in an hl7apy element's name (CE_4: 4); 1 for a primitive; 0 for parts beyond
    the data type's last component, which hl7apy leaves unnamed and nothing reads."""
    if name is None:
        return 0
    match = re.search(r"_(\d+)$", name)
    return int(match.group(1)) if match else 1


class _Element:
    """Positional access to an hl7apy element: components of a field, subcomponents of a component."""

    __slots__ = ("_parts",)

    def __init__(self, element: Any) -> None:
        self._parts: dict[int, Any] = {}
        if element is not None:
            for child in element.children:
                self._parts.setdefault(_index(child.name), child)

    def text(self, position: int) -> str:
        part = self._parts.get(position)
        return part.to_er7() if part is not None else ""

    def part(self, position: int) -> _Element:
        return _Element(self._parts.get(position))


class _Segment:
    """One parsed segment: its fields by position, each a list of repetitions."""

    def __init__(self, text: str, separators: dict[str, str]) -> None:
        parsed = parse_segment(
            text, version=_VERSION, encoding_chars=separators, validation_level=VALIDATION_LEVEL.TOLERANT
        )
        self.fields: dict[int, list[Any]] = {}
        for child in parsed.children:
            self.fields.setdefault(_index(child.name), []).append(child)

    def repetitions(self, position: int) -> list[Any]:
        return self.fields.get(position, [])

    def raw(self, position: int) -> str:
        reps = self.fields.get(position)
        return reps[0].to_er7() if reps else ""

    def field(self, position: int) -> _Element:
        reps = self.fields.get(position)
        return _Element(reps[0] if reps else None)


class Hl7Reader:
    def __init__(self, text: str) -> None:
        self.segments = [s for s in _SEGMENT_END.split(text) if s.strip()]
        self.ignored: Counter[str] = Counter()

    def check(self) -> None:
        """Refuse the whole file for what § 8 refuses, before any row is given."""
        seen_msh = False
        for number, segment in enumerate(self.segments, start=1):
            name = segment[:3]
            if name == "MSH":
                seen_msh = True
                try:
                    get_message_info(segment)
                    if len(segment) < 8:
                        raise ValueError
                except (HL7apyException, ValueError, IndexError):
                    raise Refused(
                        f"segment {number}: an MSH segment too short to declare its separators", HL7V2
                    ) from None
            elif not seen_msh and name not in _ENVELOPE:
                raise Refused(f"segment {number}: {name!r} before the first MSH segment", HL7V2)
        if not seen_msh:
            raise Refused("no MSH segment", HL7V2)

    def readings(self) -> Iterator[Reading]:
        message: _Message | None = None
        for segment in self.segments:
            name = segment[:3]
            if name == "MSH":
                message = _Message(segment)
                if not message.is_oru:
                    self.ignored[message.kind] += 1
            elif message is None or not message.is_oru or name in _ENVELOPE:
                continue
            elif name == "PID":
                message.read_pid(segment)
            elif name == "OBR":
                message.read_obr(segment)
            elif name == "OBX":
                yield message.read_obx(segment)


class _Message:
    def __init__(self, msh: str) -> None:
        self.separators, _, _ = get_message_info(msh)
        header = _Segment(msh, self.separators)
        msg_type = header.field(9)
        self.kind = f"{msg_type.text(1)}^{msg_type.text(2)}"
        self.is_oru = self.kind == "ORU^R01"
        facility = header.field(4)
        self.facility = facility.text(1) or facility.text(2)
        self.control_id = header.raw(10)
        self.sent_at = header.field(7).text(1)
        self.patients: tuple[Identifier, ...] = ()
        self.order: str | None = None
        self.collected_at = ""
        self.reported_at = ""
        self.obx_count = 0

    def _unescape(self, text: str) -> str:
        return unescape(text, self.separators)

    def read_pid(self, text: str) -> None:
        identifiers = []
        for repetition in _Segment(text, self.separators).repetitions(3):
            cx = _Element(repetition)
            value = self._unescape(cx.text(1))
            authority = cx.part(4)
            hd1, hd2, hd3 = (self._unescape(authority.text(i)) for i in (1, 2, 3))
            system = (
                {"ISO": f"urn:oid:{hd2}", "UUID": f"urn:uuid:{hd2}", "URI": hd2}.get(hd3) if hd2 else None
            )
            system = system or hd1
            if value and system:
                identifiers.append(Identifier(system, value, cx.text(5) == "MR"))
        self.patients = tuple(identifiers)

    def read_obr(self, text: str) -> None:
        obr = _Segment(text, self.separators)
        self.order = None
        for position in (3, 2):
            ei = obr.field(position)
            if ei.text(1):
                self.order = f"{ei.text(1)}^{ei.text(2) or ei.text(3)}"
                break
        self.collected_at = obr.field(7).text(1)
        self.reported_at = obr.field(22).text(1)

    def read_obx(self, text: str) -> Reading:
        self.obx_count += 1
        obx = _Segment(text, self.separators)
        code = obx.field(3)
        codes: tuple[str, ...] = ()
        if code.text(3) == "LN":
            codes = (code.text(1),)
        elif code.text(6) == "LN":
            codes = (code.text(4),)
        stamps = tuple(Stamp("hl7", t) for t in (obx.field(14).text(1), self.collected_at) if t)
        order = tuple((kind, t) for kind, t in (("report", self.reported_at), ("message", self.sent_at)) if t)
        values = obx.repetitions(5)
        return Reading(
            "hl7",
            f"{self.facility}|{self.control_id}/{self.obx_count}" if self.control_id else None,
            status=obx.raw(11) or None,
            codes=tuple(c for c in codes if c),
            patients=self.patients,
            value=self.value(obx.raw(2), values, obx.field(6), obx.raw(7)),
            dates=stamps,
            order=order,
            result_base=self.order,
            sub_id=obx.raw(4),
            value_empty=not values or (len(values) == 1 and not values[0].to_er7()),
        )

    def value(self, value_type: str, values: list[Any], unit_field: _Element, range_text: str) -> SentValue:
        """The value of OBX-2, -5, -6 and -7 (§ 6)."""
        unit = self._unescape(unit_field.text(1) or unit_field.text(2)) or None
        raw = values[0].to_er7() if len(values) == 1 else ""
        if not raw:
            return SentValue("none", unit_sent=unit) if unit else NO_VALUE
        components = _Element(values[0])
        if value_type == "NM" or value_type == "SN":
            number: str | None = raw if value_type == "NM" else None
            if value_type == "SN" and components.text(1) in ("", "=") and not components.text(3):
                if not components.text(4):
                    number = components.text(2)
            if number is not None and _DECIMAL.fullmatch(number):
                uln_found, uln = _upper_limit(range_text)
                return SentValue("number", raw, unit, Decimal(number), uln_found=uln_found, uln=uln)
            return SentValue("inexact" if value_type == "SN" else "other", raw, unit)
        if value_type in _CODED:
            pairs = ((components.text(3), components.text(1)), (components.text(6), components.text(4)))
            codes = tuple((s, c) for s, c in pairs if s and c)
            return SentValue("coded", raw, unit, codes=codes, text=self._unescape(components.text(2)) or None)
        if value_type in _TEXT:
            return SentValue("text", raw, unit, text=self._unescape(raw))
        return SentValue("other", raw, unit)


def _upper_limit(text: str) -> tuple[bool, Decimal | None]:
    """OBX-7 `a-b`, `<b` or `<=b` gives b (§ 6.3)."""
    match = _RANGE.fullmatch(text) or _UPPER.fullmatch(text)
    if match is None:
        return False, None
    return True, Decimal(match.group(1))


def _declared_latin1(data: bytes) -> bool:
    """Whether the first MSH declares 8859/1 in the first repetition of MSH-18 (§ 2.1)."""
    position = data.find(b"MSH")
    if position < 0:
        return False
    segment = re.split(rb"[\r\n]", data[position:], maxsplit=1)[0]
    if len(segment) < 8:
        return False
    fields = segment.split(segment[3:4])
    repetition = segment[5:6] if len(segment) > 5 else b"~"
    return len(fields) > 17 and fields[17].split(repetition)[0] == b"8859/1"


def read_hl7(data: bytes) -> FileReading:
    if data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    if _declared_latin1(data):
        text = data.decode("latin-1")
    else:
        text = decode(data)
    reader = Hl7Reader(text)
    reader.check()
    reading = FileReading(HL7V2, iter(()), reader.ignored)
    reading.readings = reader.readings()
    return reading
