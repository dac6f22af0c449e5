"""Reading a hospital lab file (FHIR R4 Bundle or NDJSON, HL7 v2 ORU^R01) into format-neutral readings.

The contract is `shared/labs/README.md` (§ 2, 3, 4, 6, 8, 10); section numbers below refer to it.
Nothing here imports Django or touches the database: `mapping` turns readings into rows.

Libraries and where the reading steps around them:
- FHIR: the JSON is parsed once with numbers as decimals (digits kept as sent, `2.10` stays `2.10`).
  Observations are then read member by member, not through the strict `fhir.resources` R4B models:
  the contract reads a mistyped element as absent and lists the row (an `id` that is a number gives
  `no-id`), whereas a model refuses the whole resource, and it needs values "as written" (a
  `lastUpdated` string, the canonical JSON of `value[x]` for the SHA-256 version) that the models turn
  into Python objects. The tests check the hand-made resources against the R4B models.
- HL7 v2: `hl7apy` splits fields, repetitions and components (`parse_segment`, with the separators
  that `get_message_info` reads from MSH). Its message parser only knows CR between segments, so
  segments are cut here (CR, LF or CR LF, § 8). It only escapes on output, so the five escape
  sequences of § 8 are resolved here (`unescape`).
- NDJSON is read line by line from the open file: memory does not grow with the file. A Bundle is
  one JSON document and is parsed whole, after a size check.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

# A file larger than this is refused from its size alone, before anything is read.
MAX_FILE_BYTES = 50 * 1024 * 1024

FHIR_BUNDLE = "fhir-bundle"
FHIR_NDJSON = "fhir-ndjson"
HL7V2 = "hl7v2"

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
READABLE_BUNDLE_TYPES = frozenset({"transaction", "batch", "collection", "searchset"})


class Refused(Exception):
    """The whole file is refused (§ 2); the message says why, `format` what it was read as (or None)."""

    def __init__(self, message: str, format: str | None = None) -> None:
        super().__init__(message)
        self.format = format


@dataclass(frozen=True, slots=True)
class Identifier:
    system: str
    value: str
    mr: bool = False  # of type MR (medical record number)

    def as_json(self) -> dict[str, str]:
        return {"system": self.system, "value": self.value}


@dataclass(frozen=True, slots=True)
class Stamp:
    """A timestamp as sent, with its style: "fhir" (dateTime/instant) or "hl7" (DTM)."""

    style: str
    text: str


@dataclass(frozen=True, slots=True)
class SentValue:
    """A result's value as sent, whatever the format (§ 6).

    kind: "number" (a plain decimal), "inexact" (a comparator, range or ratio), "coded", "text",
    "other" (any other type) or "none" (no value).
    """

    kind: str
    sent: str | None = None
    unit_sent: str | None = None
    number: Decimal | None = None
    codes: tuple[tuple[str, str], ...] = ()  # (system, code) in order; HL7 systems as "SCT"/"LN"
    text: str | None = None
    # The ULN candidate (§ 6.3): found is False when no single high limit was sent.
    uln_found: bool = False
    uln: Decimal | None = None
    uln_unit: str | None = None  # None: no unit of its own (FHIR) or OBX-6's unit (HL7)

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "sent": self.sent,
            "unit_sent": self.unit_sent,
            "number": None if self.number is None else str(self.number),
            "codes": [list(c) for c in self.codes],
            "text": self.text,
            "uln_found": self.uln_found,
            "uln": None if self.uln is None else str(self.uln),
            "uln_unit": self.uln_unit,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SentValue:
        return cls(
            kind=data["kind"],
            sent=data["sent"],
            unit_sent=data["unit_sent"],
            number=None if data["number"] is None else Decimal(data["number"]),
            codes=tuple((s, c) for s, c in data["codes"]),
            text=data["text"],
            uln_found=data["uln_found"],
            uln=None if data["uln"] is None else Decimal(data["uln"]),
            uln_unit=data["uln_unit"],
        )


NO_VALUE = SentValue("none")


@dataclass(frozen=True, slots=True)
class Reading:
    """One FHIR Observation or one OBX segment, read but not yet interpreted."""

    style: str  # "fhir" or "hl7"
    source: str | None
    invalid: bool = False
    status: str | None = None
    codes: tuple[str, ...] = ()  # LOINC codes, in the order they are tried (§ 5)
    laboratory: bool = False  # FHIR category laboratory
    patients: tuple[Identifier, ...] = ()
    value: SentValue = NO_VALUE
    dates: tuple[Stamp, ...] = ()  # the first that gives a date is the collection date (§ 7)
    # What orders versions of one result (§ 10), most significant first: ("version", "3"),
    # ("updated", instant) for FHIR; ("report", OBR-22), ("message", MSH-7) for HL7.
    order: tuple[tuple[str, str], ...] = ()
    result_base: str | None = None  # FHIR "Observation/<id>"; HL7 the order number
    sub_id: str = ""  # HL7 OBX-4
    value_empty: bool = False  # HL7: OBX-5 empty (a `U` row may take the preliminary value)


@dataclass
class FileReading:
    """What one file gives: its format, then its readings in file order (a generator)."""

    format: str | None
    readings: Iterator[Reading]
    ignored: Counter[str] = field(default_factory=Counter)


# ---------------------------------------------------------------------------------------------
# Opening a file: encoding and format (§ 2)


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Refused(f"not valid UTF-8 (byte {exc.start})") from None


def _loads(text: str) -> Any:
    return json.loads(text, parse_float=Decimal)


def read_json(path: str) -> FileReading:
    with open(path, "rb") as handle:
        number, first_line = next(
            ((n, line) for n, line in enumerate(handle, start=1) if line.strip()), (1, b"")
        )
    try:
        first = _loads(decode(first_line))
    except (ValueError, RecursionError):
        first = None
    if isinstance(first, dict) and first.get("resourceType") != "Bundle":
        return _read_ndjson(path)
    # Not one object on its first line (or a Bundle): the whole file must be one Bundle.
    with open(path, "rb") as handle:
        text = decode(handle.read())
    try:
        document = _loads(text)
    except (ValueError, RecursionError) as exc:
        if isinstance(first, dict):
            raise Refused(
                f"line {number} is a Bundle: a Bundle cannot be a line of NDJSON", FHIR_NDJSON
            ) from None
        # Neither one Bundle nor NDJSON (§ 2.2): name the first line that is not an object.
        message = getattr(exc, "msg", str(exc))
        raise Refused(
            f"line {number} is not a JSON object, and the file is not one Bundle ({message})", FHIR_NDJSON
        ) from None
    if not isinstance(document, dict) or document.get("resourceType") != "Bundle":
        raise Refused("a JSON object spread over several lines that is not a Bundle", FHIR_NDJSON)
    return _read_bundle(document)


# ---------------------------------------------------------------------------------------------
# FHIR (§ 2.3, 3, 4)


def _read_bundle(bundle: dict[str, Any]) -> FileReading:
    kind = bundle.get("type")
    if kind not in READABLE_BUNDLE_TYPES:
        raise Refused(
            f"a Bundle of type {kind!r} is not read (transaction, batch, collection or searchset)",
            FHIR_BUNDLE,
        )
    entries = bundle.get("entry")
    entries = entries if isinstance(entries, list) else []
    resources: list[tuple[Any, Any]] = []
    for index, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if resource is not None and not (
            isinstance(resource, dict) and isinstance(resource.get("resourceType"), str)
        ):
            raise Refused(f"Bundle entry {index} has a resource without a resourceType", FHIR_BUNDLE)
        resources.append((entry.get("fullUrl") if isinstance(entry, dict) else None, resource))
    patients = _Patients()
    for full_url, resource in resources:
        if resource is not None and resource["resourceType"] == "Patient":
            patients.add(resource, full_url if isinstance(full_url, str) else None)
    reading = FileReading(FHIR_BUNDLE, iter(()))

    def generate() -> Iterator[Reading]:
        for _, resource in resources:
            if resource is None:
                reading.ignored["(no resource)"] += 1
            elif resource["resourceType"] == "Observation":
                yield read_observation(resource, patients)
            else:
                reading.ignored[resource["resourceType"]] += 1

    reading.readings = generate()
    return reading


def _ndjson_lines(path: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """The NDJSON objects with their line numbers, read one line at a time."""
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[3:]
            try:
                text = raw.decode("utf-8").rstrip("\n").removesuffix("\r")
            except UnicodeDecodeError:
                raise Refused(f"line {number} is not valid UTF-8", FHIR_NDJSON) from None
            if not text.strip():
                continue
            try:
                obj = _loads(text)
            except (ValueError, RecursionError):
                raise Refused(f"line {number} is not a JSON object", FHIR_NDJSON) from None
            if not isinstance(obj, dict) or not isinstance(obj.get("resourceType"), str):
                raise Refused(f"line {number} is not a JSON object with a resourceType", FHIR_NDJSON)
            if obj["resourceType"] == "Bundle":
                raise Refused(f"line {number} is a Bundle: a Bundle cannot be a line of NDJSON", FHIR_NDJSON)
            yield number, obj


def _read_ndjson(path: str) -> FileReading:
    # First pass: check every line and collect the Patients (an Observation may name a Patient
    # on a later line). Only the Patients' identifiers are kept, so memory stays bounded.
    patients = _Patients()
    for _, obj in _ndjson_lines(path):
        if obj["resourceType"] == "Patient":
            patients.add(obj, None)
    reading = FileReading(FHIR_NDJSON, iter(()))

    def generate() -> Iterator[Reading]:
        for _, obj in _ndjson_lines(path):
            if obj["resourceType"] == "Observation":
                yield read_observation(obj, patients)
            else:
                reading.ignored[obj["resourceType"]] += 1

    reading.readings = generate()
    return reading


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _number(value: Any) -> bool:
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


def _identifier(data: Any) -> Identifier | None:
    data = _obj(data)
    system, value = _str(data.get("system")), _str(data.get("value"))
    if not system or not value:
        return None
    mr = any(
        _str(c.get("system")) == IDENTIFIER_TYPE and _str(c.get("code")) == "MR"
        for c in map(_obj, _list(_obj(data.get("type")).get("coding")))
    )
    return Identifier(system, value, mr)


class _Patients:
    """The Patients of one file, by the references that reach them (§ 4, FHIR 3)."""

    def __init__(self) -> None:
        self._by_full_url: dict[str, tuple[Identifier, ...]] = {}
        self._by_id: dict[str, tuple[Identifier, ...]] = {}

    def add(self, patient: dict[str, Any], full_url: str | None) -> None:
        identifiers = tuple(i for i in map(_identifier, _list(patient.get("identifier"))) if i is not None)
        if full_url:
            self._by_full_url.setdefault(full_url, identifiers)
        patient_id = _str(patient.get("id"))
        if patient_id:
            self._by_id.setdefault(patient_id, identifiers)

    def find(self, reference: str) -> tuple[Identifier, ...]:
        if reference in self._by_full_url:
            return self._by_full_url[reference]
        match = re.search(r"(?:^|/)Patient/([^/]+)$", reference)
        if match and (reference.startswith("Patient/") or "://" in reference):
            return self._by_id.get(match.group(1), ())
        return ()


def _subject_identifiers(subject: dict[str, Any], patients: _Patients) -> tuple[Identifier, ...]:
    identifier = _identifier(subject.get("identifier"))
    if identifier is not None:
        return (identifier,)
    reference = _str(subject.get("reference"))
    if not reference:
        return ()
    if reference.startswith("Patient?identifier="):
        system, bar, value = unquote(reference.removeprefix("Patient?identifier=")).partition("|")
        return (Identifier(system, value),) if bar and system and value else ()
    return patients.find(reference)


_DIGITS = re.compile(r"\d+")
_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


def read_observation(obs: dict[str, Any], patients: _Patients) -> Reading:
    """One FHIR Observation (§ 3): invalid, or read member by member."""
    obs_id = _str(obs.get("id"))
    meta = _obj(obs.get("meta"))
    version_id = _str(meta.get("versionId"))
    last_updated = _str(meta.get("lastUpdated"))
    if last_updated is not None and not _INSTANT.fullmatch(last_updated):
        last_updated = None
    source = None
    if obs_id:
        version = version_id or last_updated or "sha256:" + _content_hash(obs)
        source = f"Observation/{obs_id}/_history/{version}"
    quantity = obs.get("valueQuantity")
    if (
        not isinstance(obs.get("status"), str)
        or not isinstance(obs.get("code"), dict)
        or ("valueQuantity" in obs and not isinstance(quantity, dict))
        or (isinstance(quantity, dict) and "value" in quantity and not _number(quantity["value"]))
    ):
        return Reading("fhir", source, invalid=True)
    order: list[tuple[str, str]] = []
    if version_id and _DIGITS.fullmatch(version_id):
        order.append(("version", version_id))
    if last_updated:
        order.append(("updated", last_updated))
    codes = tuple(
        code
        for c in map(_obj, _list(obs["code"].get("coding")))
        if _str(c.get("system")) == LOINC and (code := _str(c.get("code")))
    )
    laboratory = any(
        _str(c.get("system")) == OBSERVATION_CATEGORY and _str(c.get("code")) == "laboratory"
        for category in map(_obj, _list(obs.get("category")))
        for c in map(_obj, _list(category.get("coding")))
    )
    return Reading(
        "fhir",
        source,
        status=obs["status"],
        codes=codes,
        laboratory=laboratory,
        patients=_subject_identifiers(_obj(obs.get("subject")), patients),
        value=_fhir_value(obs),
        dates=_fhir_dates(obs),
        order=tuple(order),
        result_base=f"Observation/{obs_id}" if obs_id else None,
    )


def _fhir_unit(quantity: dict[str, Any]) -> str | None:
    code, unit = _str(quantity.get("code")), _str(quantity.get("unit"))
    if code is not None and _str(quantity.get("system")) == UCUM:
        return code
    return unit if unit is not None else code


def _fhir_value(obs: dict[str, Any]) -> SentValue:
    quantity = obs.get("valueQuantity")
    if isinstance(quantity, dict):
        number = quantity.get("value")
        comparator = _str(quantity.get("comparator"))
        unit = _fhir_unit(quantity)
        if number is None:
            return SentValue("none", unit_sent=unit)
        sent = (comparator or "") + str(number)
        if comparator:
            return SentValue("inexact", sent, unit)
        highs = [
            _obj(r.get("high"))
            for r in map(_obj, _list(obs.get("referenceRange")))
            if isinstance(r.get("high"), dict)
        ]
        uln_found, uln, uln_unit = False, None, None
        if len(highs) == 1:
            uln_found = True
            high = highs[0].get("value")
            uln = Decimal(high) if isinstance(high, int | Decimal) and not isinstance(high, bool) else None
            uln_unit = _fhir_unit(highs[0])
        return SentValue(
            "number", sent, unit, Decimal(number), uln_found=uln_found, uln=uln, uln_unit=uln_unit
        )
    if "valueString" in obs:
        text = _str(obs["valueString"])
        return SentValue("text", text, text=text) if text is not None else NO_VALUE
    concept = obs.get("valueCodeableConcept")
    if isinstance(concept, dict):
        codes = tuple(
            (system, code)
            for c in map(_obj, _list(concept.get("coding")))
            if (system := _str(c.get("system"))) and (code := _str(c.get("code")))
        )
        text = _str(concept.get("text"))
        answering = [f"{system}|{code}" for system, code in codes if _answer_code(system, code) is not None]
        shown = answering[0] if answering else f"{codes[0][0]}|{codes[0][1]}" if codes else text
        return SentValue("coded", shown, codes=codes, text=text)
    if any(key.startswith("value") and key[5:6].isupper() for key in obs):
        return SentValue("other")
    return NO_VALUE


def _fhir_dates(obs: dict[str, Any]) -> tuple[Stamp, ...]:
    for key in ("effectiveDateTime", "effectiveInstant"):
        text = _str(obs.get(key))
        if text is not None:
            return (Stamp("fhir", text),)
    start = _str(_obj(obs.get("effectivePeriod")).get("start"))
    return (Stamp("fhir", start),) if start is not None else ()


# The answer codes of § 6.2, by (system, code); HL7 writes the systems SCT and LN.
ANSWER_CODES: dict[str, str] = {
    "10828004": "positive",
    "11214006": "positive",
    "LA6576-8": "positive",
    "LA15255-5": "positive",
    "260385009": "negative",
    "131194007": "negative",
    "LA6577-6": "negative",
    "LA15256-3": "negative",
    "82334004": "indeterminate",
    "42425007": "indeterminate",
    "LA11884-6": "indeterminate",
    "LA11885-3": "indeterminate",
    "260373001": "detected",
    "LA11882-0": "detected",
    "260415000": "not_detected",
    "LA11883-8": "not_detected",
}
_SNOMED_SYSTEMS = frozenset({SNOMED, "SCT"})
_LOINC_SYSTEMS = frozenset({LOINC, "LN"})


def _answer_code(system: str, code: str) -> str | None:
    answer = ANSWER_CODES.get(code)
    if answer is None:
        return None
    wanted = _LOINC_SYSTEMS if code.startswith("LA") else _SNOMED_SYSTEMS
    return answer if system in wanted else None


def answer_from_codes(codes: tuple[tuple[str, str], ...]) -> str | None:
    for system, code in codes:
        answer = _answer_code(system, code)
        if answer is not None:
            return answer
    return None


# ---------------------------------------------------------------------------------------------
# Canonical JSON and the SHA-256 version (§ 10)


def _canonical_number(number: int | Decimal) -> str:
    if isinstance(number, int):
        return str(number)
    if number.is_zero():
        return "0"
    text = format(number.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _canonical_string(text: str) -> str:
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif char < " ":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def canonical_json(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | Decimal):
        return _canonical_number(value)
    if isinstance(value, str):
        return _canonical_string(value)
    if isinstance(value, list):
        return "[" + ",".join(canonical_json(v) for v in value) + "]"
    items = sorted(value.items())
    return "{" + ",".join(_canonical_string(k) + ":" + canonical_json(v) for k, v in items) + "}"


def _content_hash(obs: dict[str, Any]) -> str:
    content = {
        key: value
        for key, value in obs.items()
        if key in ("status", "referenceRange") or key.startswith(("value", "effective"))
    }
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()[:12]


# ---------------------------------------------------------------------------------------------
# HL7 v2 (§ 8)

_HL7_ESCAPES = {"F": "FIELD", "S": "COMPONENT", "T": "SUBCOMPONENT", "R": "REPETITION", "E": "ESCAPE"}


def unescape(text: str, separators: dict[str, str]) -> str:
    """Resolve \\F\\ \\S\\ \\T\\ \\R\\ \\E\\ (with the message's escape character); others stay."""
    escape = separators["ESCAPE"]
    if escape not in text:
        return text
    pattern = re.escape(escape) + "([FSTRE])" + re.escape(escape)
    return re.sub(pattern, lambda m: separators[_HL7_ESCAPES[m.group(1)]], text)
