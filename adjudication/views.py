"""Thin views over the adjudication selectors and services."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from exports import export_format
from participants import second_factor
from participants.access import role_required
from participants.links import id_url_maker
from participants.roles import REVIEWER_ROLES, Role
from participants.selectors import get_participant
from screening.criteria import named_inputs
from screening.selectors import latest_evaluation

from . import selectors, services
from .exports import download_eac_log
from .filters import QueueFilter
from .forms import InformationRequestForm, SecondFactorConfirmForm, SecondFactorResetForm, SignForm
from .models import ReviewAction, claim_hours
from .presentation import case_view, evidence_changes, evidence_rows
from .queue_rows import QUEUE_COLUMNS, QueueRow, queue_rows_html

# Open items per page of the queue, oldest first.
QUEUE_PAGE_SIZE = 50


@role_required(Role.EAC_REVIEWER)
def queue(request: HttpRequest) -> HttpResponse:
    user = request.user
    items = selectors.open_eac_items(user)  # type: ignore[arg-type]
    choices = selectors.queue_filter_choices(items)
    filters = QueueFilter(
        request.GET,
        selectors.eac_queue(user, items),  # type: ignore[arg-type]
        criteria=choices.criteria,
        sites=choices.sites,
    )
    # The total counts the escalations alone (the rows' columns would join the participants to
    # it); the page reads the columns the rows show, as values: no model instances, no evidence.
    page = Paginator(filters.qs, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    now, hours, quorum = timezone.now(), claim_hours(), settings.EAC_QUORUM
    rows = [QueueRow.of(v, now, hours) for v in page.object_list.values(*QUEUE_COLUMNS)]
    return render(
        request,
        "adjudication/queue.html",
        {
            "page": page,
            "escalations": rows,
            "rows_html": queue_rows_html(
                rows,
                user_pk=user.pk,
                quorum=quorum,
                claim_hours=hours,
                csrf_token=get_token(request),
                review_url=id_url_maker("adjudication:review"),
                claim_url=id_url_maker("adjudication:claim"),
            ),
            "form": filters.form,
            "ignored_filters": filters.ignored,
            "quorum": quorum,
        },
    )


@role_required(Role.INVESTIGATOR)
def signoffs(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "adjudication/signoffs.html",
        {"escalations": selectors.pending_signoffs(request.user)},  # type: ignore[arg-type]
    )


def _review_context(request: HttpRequest, pk: int, sign_form: SignForm | None = None) -> dict[str, object]:
    e = selectors.get_escalation(request.user, pk)  # type: ignore[arg-type]
    page = selectors.review_page(e)
    evidence = evidence_rows(e.evidence)
    current = next((r for r in page.results if r.criterion_id == e.criterion_id), None)
    # What the criterion reads: the inputs its rule names, its evidence and what it misses.
    reads = [
        *named_inputs(e.criterion_id),
        *(r.path for r in evidence),
        *(current.missing if current else []),
    ]
    return {
        "escalation": e,
        "page": page,
        "case": case_view(page.case, reads),
        "evidence": evidence,
        "evidence_paths": {r.path for r in evidence},
        "previous_evidence": evidence_rows(e.previous_evidence) if e.previous_digest else [],
        "changes": evidence_changes(e.previous_evidence, e.evidence) if e.previous_digest else [],
        "quorum": services.quorum_for(e),
        "claim_hours": claim_hours(),
        "votes": [r for r in page.reviews if r.round == e.round and r.action != ReviewAction.REQUEST_INFO],
        "approvals": sum(r.round == e.round and r.action == ReviewAction.APPROVE for r in page.reviews),
        "rejections": sum(r.round == e.round and r.action == ReviewAction.REJECT for r in page.reviews),
        "meaning_approve": services.signature_meaning(e, ReviewAction.APPROVE),
        "meaning_reject": services.signature_meaning(e, ReviewAction.REJECT),
        "sign_form": sign_form or SignForm(),
        "has_second_factor": second_factor.has_second_factor(request.user),  # type: ignore[arg-type]
        "info_form": InformationRequestForm(),
        "signed_this_round": any(
            r.reviewer_id == request.user.pk and r.round == e.round and r.action != ReviewAction.REQUEST_INFO
            for r in page.reviews
        ),
    }


@role_required(*REVIEWER_ROLES)
def review(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "adjudication/review.html", _review_context(request, pk))


def _act(request: HttpRequest, pk: int, action: Callable[[], object], done: str) -> HttpResponse:
    try:
        action()
    except services.AdjudicationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return redirect("adjudication:review", pk=pk)


@role_required(*REVIEWER_ROLES)
@require_POST
def claim(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda: services.claim(request.user, pk), "You hold this item now.")  # type: ignore[arg-type]


@role_required(*REVIEWER_ROLES)
@require_POST
def release(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.release(request.user, pk)  # type: ignore[arg-type]
    except services.AdjudicationError as exc:
        messages.error(request, str(exc))
        return redirect("adjudication:review", pk=pk)
    messages.info(request, "Item released.")
    return redirect(_home_list(request))


def _home_list(request: HttpRequest) -> str:
    membership = getattr(request, "membership", None)
    if membership is not None and membership.role == Role.INVESTIGATOR:
        return reverse("adjudication:signoffs")
    return reverse("adjudication:queue")


@role_required(*REVIEWER_ROLES)
@require_POST
def sign(request: HttpRequest, pk: int) -> HttpResponse:
    selectors.get_escalation(request.user, pk)  # type: ignore[arg-type]
    if not second_factor.has_second_factor(request.user):  # type: ignore[arg-type]
        messages.error(request, "Set up your second factor before signing. Nothing was signed.")
        return redirect(
            f"{reverse('adjudication:second_factor')}?next={reverse('adjudication:review', args=[pk])}"
        )
    form = SignForm(request.POST)
    if form.is_valid():
        try:
            outcome = services.sign_review(
                request.user,  # type: ignore[arg-type]
                pk,
                action=form.cleaned_data["action"],
                rationale=form.cleaned_data["rationale"],
                password=form.cleaned_data["password"],
                code=form.cleaned_data["code"],
                request=request,
                expected_digest=form.cleaned_data["evidence_digest"] or None,
            )
        except services.AdjudicationError as exc:
            form.add_error("password" if isinstance(exc, services.SignatureRefused) else None, str(exc))
        else:
            if outcome.decision is not None:
                messages.success(
                    request, f"Signed. Decision reached: {outcome.decision.get_decision_display()}."
                )
            else:
                messages.success(request, "Signed. The decision waits for the other reviewers.")
            return redirect(_home_list(request))
    context = _review_context(request, pk, sign_form=form)
    return render(request, "adjudication/review.html", context, status=400)


@role_required(*REVIEWER_ROLES)
def second_factor_setup(request: HttpRequest) -> HttpResponse:
    """Set-up on first use: the secret as a QR code and as text, confirmed with a current code."""
    user = request.user
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    if second_factor.has_second_factor(user):  # type: ignore[arg-type]
        return render(request, "adjudication/second_factor.html", {"done": True, "next": next_url})
    device = second_factor.enrolment_device(user)  # type: ignore[arg-type]
    form = SecondFactorConfirmForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            second_factor.confirm_enrolment(user, form.cleaned_data["code"], request)  # type: ignore[arg-type]
        except second_factor.SecondFactorError as exc:
            form.add_error("code", str(exc))
        else:
            messages.success(request, "Your second factor is set up. Sign with your password and a code.")
            return redirect(next_url or _home_list(request))
    context = {
        "form": form,
        "next": next_url,
        "qr_svg": second_factor.qr_svg(device),
        "secret": second_factor.secret_text(device),
    }
    return render(request, "adjudication/second_factor.html", context, status=400 if form.errors else 200)


@role_required(Role.ADMIN)
def second_factor_reset(request: HttpRequest) -> HttpResponse:
    """An administrator removes a signer's lost device, with a reason (a security event)."""
    signers = list(second_factor.signers_for_reset(request.user))  # type: ignore[arg-type]
    choices = [(s.pk, f"{s.get_username()} ({s.display_name()})") for s in signers if s.has_device]  # type: ignore[attr-defined]
    form = SecondFactorResetForm(request.POST if request.method == "POST" else None, signers=choices)
    if request.method == "POST" and form.is_valid():
        try:
            second_factor.reset_second_factor(
                request.user,  # type: ignore[arg-type]
                form.cleaned_data["signer"],
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except second_factor.SecondFactorError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Second factor reset. The signer sets up a new one before signing.")
            return redirect("adjudication:second_factor_reset")
    return render(
        request,
        "adjudication/second_factor_reset.html",
        {"form": form, "signers": signers},
        status=400 if form.errors else 200,
    )


@role_required(*REVIEWER_ROLES)
@require_POST
def request_information(request: HttpRequest, pk: int) -> HttpResponse:
    selectors.get_escalation(request.user, pk)  # type: ignore[arg-type]
    form = InformationRequestForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say what information the site should provide.")
        return redirect("adjudication:review", pk=pk)
    return _act(
        request,
        pk,
        lambda: services.request_information(
            request.user,  # type: ignore[arg-type]
            pk,
            rationale=form.cleaned_data["rationale"],
            expected_digest=form.cleaned_data["evidence_digest"] or None,
        ),
        "The site has been asked.",
    )


@login_required
def participant_escalations(request: HttpRequest, pk: int) -> HttpResponse:
    """The site's view of one participant's escalations (reviewers have no site view: 404)."""
    participant = get_participant(request.user, pk)  # type: ignore[arg-type]
    return render(
        request,
        "adjudication/participant_escalations.html",
        {
            "participant": participant,
            "escalations": selectors.escalations_for_participant(request.user, participant),  # type: ignore[arg-type]
            "evaluation": latest_evaluation(participant),
        },
    )


@role_required(Role.MONITOR, Role.ADMIN)
def export_log(request: HttpRequest, fmt: str) -> HttpResponseBase:
    fmt = export_format(fmt)
    return download_eac_log(fmt, selectors.eac_log(request.user))  # type: ignore[arg-type]
