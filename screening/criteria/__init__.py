"""ALLO-329 screening criteria engine: pure Python, no Django, no clock, no database.

The evaluation date is the case's `dates.as_of`; every threshold and setting belongs to a
protocol version (see `protocol.py`).

The hot modules also exist compiled by mypyc (`compiled.py`); they are used only when they match
these sources, and `ENGINE_BUILD` says which form this process runs."""

# ruff: noqa: E402 (the imports below must follow compiled.activate)

from . import compiled

# Before any engine module is imported: a matching compiled build goes first on the search path.
compiled.activate(__path__, __name__)

from .catalogue import CRITERIA, CriterionInfo
from .choices import CHOICES, Choice
from .engine import evaluate
from .inputs import named_inputs
from .loader import CaseError, load_case, parse_case_text
from .model import Case
from .output import dumps, evaluation_to_json, format_text
from .protocol import CURRENT_PROTOCOL, PROTOCOL_VERSIONS, ProtocolVersion, get_protocol
from .results import CriterionResult, Evaluation, Outcome, Overall, ReviewBy
from .vocabulary import EVENT_KINDS, FACT_KEYS, LAB_TESTS, REVIEWED_AREAS, THERAPY_AGENTS

ENGINE_VERSION = "1.0.0"
ENGINE_BUILD = compiled.STATE

__all__ = [
    "CHOICES",
    "CRITERIA",
    "CURRENT_PROTOCOL",
    "ENGINE_BUILD",
    "ENGINE_VERSION",
    "EVENT_KINDS",
    "FACT_KEYS",
    "LAB_TESTS",
    "PROTOCOL_VERSIONS",
    "REVIEWED_AREAS",
    "THERAPY_AGENTS",
    "named_inputs",
    "Case",
    "CaseError",
    "Choice",
    "CriterionInfo",
    "CriterionResult",
    "Evaluation",
    "Outcome",
    "Overall",
    "ProtocolVersion",
    "ReviewBy",
    "dumps",
    "evaluate",
    "evaluation_to_json",
    "format_text",
    "get_protocol",
    "load_case",
    "parse_case_text",
]
