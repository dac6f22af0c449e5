"""One helper turns vocabulary keys into words, for the intake forms, record lists and the diff."""

from __future__ import annotations

from participants.labels import area_label, event_label, humanize, path_label, words


def test_humanize_keeps_the_protocols_abbreviations() -> None:
    assert humanize("nih_activity_index") == "NIH activity index"
    assert humanize("isn_rps_classes") == "ISN RPS classes"
    assert humanize("cns_lupus") == "CNS lupus"
    assert humanize("slicc_biopsy_proven_ln") == "SLICC biopsy proven LN"
    assert humanize("growth_factor") == "Growth factor"
    assert humanize("") == ""


def test_words_inside_a_sentence_stay_lower_case_but_abbreviations() -> None:
    assert words("cns_lupus") == "CNS lupus"
    assert words("kidney_biopsy") == "kidney biopsy"
    assert area_label("cns_lupus") == "CNS lupus"
    assert area_label("therapies") == "prior therapies"
    assert event_label("cns_lupus") == "CNS lupus"
    assert path_label("reviewed.cns_lupus") == "Confirm the history of CNS lupus was taken in full"
    assert path_label("events.kidney_biopsy.nih_activity_index") == "Kidney biopsy record: NIH activity index"


def test_choice_label_filters_of_the_participant_pages() -> None:
    from participants.models import ScreeningStatus
    from screening.models import Outcome, ReviewBy, Trigger
    from screening.templatetags.screening_ui import register

    for name, choices in (
        ("status_label", ScreeningStatus),
        ("outcome_label", Outcome),
        ("review_by_label", ReviewBy),
        ("trigger_label", Trigger),
    ):
        label = register.filters[name]
        assert [label(value) for value in choices.values] == [str(lab) for lab in choices.labels], name
        assert label("not-a-choice") == "not-a-choice"
