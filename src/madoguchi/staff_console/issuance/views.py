"""Staff pages for the card pipeline: views parse input, call one service or selector, render."""

from __future__ import annotations

import io

from django.conf import settings
from django.contrib import messages
from django.db.models import Count
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.core.errors import DomainError
from madoguchi.issuance import deadlines, services, unclaimed
from madoguchi.issuance.applications import (
    project_arrivals,
    read_application_counts,
    stored_counts,
)
from madoguchi.issuance.imports import import_deliveries
from madoguchi.issuance.models import (
    BatchKind,
    CardRecord,
    CardStatus,
    DeliveryImport,
    NoticeBatch,
)
from madoguchi.issuance.notices import (
    NoticeContext,
    batch_cards,
    first_pages,
    notice_context,
    render_notices_pdf,
    write_mailing_csv,
)
from madoguchi.issuance.selectors import cards_in_status, unprintable_by_batch
from madoguchi.issuance.typeset import unprintable
from madoguchi.offices.models import Municipality
from madoguchi.reservations import pacing
from madoguchi.staff import access
from madoguchi.staff.access import Action, staff_view
from madoguchi.staff.models import StaffUser

UPLOAD_MAX_BYTES = settings.MADOGUCHI_IMPORT_UPLOAD_MAX_BYTES
BULK_STEP = 500


def _staff(request: HttpRequest) -> StaffUser:
    """The signed-in staff member (`access.staff_view` has checked the standing)."""
    return access.require(request.user, Action.SEE_CARDS).user


def _municipality(request: HttpRequest) -> Municipality:
    """The person's own municipality: every page here shows and changes only its cards."""
    return access.municipality(request.user, Action.SEE_CARDS)


@staff_view(Action.SEE_CARDS)
def dashboard(request: HttpRequest) -> HttpResponse:
    """Counts by stage, the deadline watch, pacing arithmetic and the weekly summary."""
    municipality = _municipality(request)
    counts = dict(
        municipality.cards.values_list("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    stages = [(s.value, s.label, counts.get(s.value, 0)) for s in CardStatus]
    policy = services.policy_for(municipality)  # read once for every part below
    watch = deadlines.deadline_watch(municipality, policy=policy)
    batches = list(NoticeBatch.objects.filter(municipality=municipality)[:10])
    proposals = pacing.dashboard_proposals(municipality, policy=policy)
    context = {
        "municipality": municipality,
        "stages": stages,
        "watch": watch,
        "watch_rows": watch.cards[:50],
        "expiring": deadlines.expiring_before_pickup(municipality)[:50],
        "proposal": proposals.batch,
        "summary": deadlines.weekly_summary(municipality, policy=policy),
        "batches": batches,
        "unprintable": unprintable_by_batch([batch.pk for batch in batches]),
        "reminders": proposals.reminders,
        "imports": DeliveryImport.objects.filter(municipality=municipality)[:10],
        "expected_arrivals": project_arrivals(stored_counts(municipality.pk)),
        "can_work": access.allows(request.user, Action.CARD_WORK),
        "is_official": access.allows(request.user, Action.CARD_OFFICIAL),
        "can_export": access.allows(request.user, Action.EXPORT_NOTICES),
    }
    access.record_read(request.user, "card_dashboard", municipality)
    return render(request, "issuance/dashboard.html", context)


@staff_view(Action.CARD_OFFICIAL)
def upload(request: HttpRequest) -> HttpResponse:
    """Upload a J-LIS delivery file; the report is shown whatever the outcome."""
    report = None
    error = ""
    if request.method == "POST":
        uploaded = request.FILES.get("file")
        if uploaded is None:
            error = gettext("ファイルを選んでください。")
        elif uploaded.size is not None and uploaded.size > UPLOAD_MAX_BYTES:
            error = gettext(
                "ファイルが大きすぎます（上限 %(max_mb)sMB）。"
                "大きなファイルは `madoguchi import-deliveries` で取り込んでください。"
            ) % {"max_mb": UPLOAD_MAX_BYTES // (1024 * 1024)}
        else:
            report = import_deliveries(
                uploaded,
                file_name=uploaded.name or "upload.csv",
                municipality=_municipality(request),
                actor=Actor.staff(_staff(request)),
            )
    return render(
        request,
        "issuance/upload.html",
        {"report": report, "error": error, "max_mb": UPLOAD_MAX_BYTES // (1024 * 1024)},
        status=400 if error or (report and not report.accepted) else 200,
    )


_STEPS: dict[str, tuple[str, Action]] = {
    "inspect": (CardStatus.DELIVERED, Action.CARD_WORK),
    "setup": (CardStatus.INSPECTED, Action.CARD_WORK),
}


@staff_view(Action.CARD_WORK)
@require_POST
def advance(request: HttpRequest) -> HttpResponse:
    """Move the oldest cards of one stage forward in bulk (inspect, set-up). Reminders go out
    as letters when they are due (`remind`), never in bulk by age."""
    step = request.POST.get("step", "")
    if step not in _STEPS:
        return HttpResponse("不明な操作です。", status=400)
    source, needed = _STEPS[step]
    user = access.require(request.user, needed).user
    cards = list(cards_in_status(_municipality(request).pk, source)[:BULK_STEP])
    actor = Actor.staff(user)
    try:
        if step == "inspect":
            services.inspect_cards(cards=cards, actor=actor)
        else:
            services.record_cards_setup(cards=cards, terminal=None, actor=actor)
    except DomainError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, gettext("%(n)s枚を処理しました。") % {"n": len(cards)})
    return redirect("issuance:dashboard")


@staff_view(Action.CARD_WORK)
@require_POST
def issue(request: HttpRequest) -> HttpResponse:
    """Issue the paced batch of notices, then offer its PDF and mailing CSV."""
    issued = pacing.issue_paced_batch(
        municipality=_municipality(request), actor=Actor.staff(_staff(request))
    )
    if issued.batch_id is None:
        messages.info(
            request,
            gettext("発送できる交付通知書はありません（空き枠または対象カードがありません）。"),
        )
    else:
        messages.success(
            request, gettext("交付通知書 %(n)s通を発行しました。") % {"n": len(issued.cards)}
        )
        _warn_unprintable(request, issued.cards)
    return redirect("issuance:dashboard")


def _warn_unprintable(request: HttpRequest, cards: list[CardRecord]) -> None:
    """Before the batch's PDF is opened: each card whose name, reading or address has a
    character no bundled font has (printed as 〓), with the characters (decision 0033)."""
    found = unprintable(cards)
    if found:
        listed = "、".join(
            gettext("申請書ID %(id)s（%(chars)s）")
            % {"id": entry.application_id, "chars": entry.describe()}
            for entry in found
        )
        messages.warning(
            request,
            gettext(
                "次のカードの氏名・フリガナ・住所に、どのフォントにもない文字があります。"
                "通知書には〓と印刷されます。印刷の前に確認してください：%(cards)s"
            )
            % {"cards": listed},
        )


def _batch(request: HttpRequest, batch_id: int) -> NoticeBatch:
    """The notice batch, if it is the person's municipality's (403 otherwise, also for an id
    that does not exist)."""
    batch = NoticeBatch.objects.select_related("municipality").filter(pk=batch_id).first()
    return access.require_object(
        request.user, Action.EXPORT_NOTICES, batch, municipality_of=lambda b: b.municipality_id
    )


def _batch_context(batch: NoticeBatch) -> NoticeContext:
    """The batch as it was printed: hours and the deadline counted from its issue date."""
    return notice_context(
        batch.municipality,
        today=clock.to_jst(batch.created_at).date(),
        reminder=batch.kind == BatchKind.REMINDER,
    )


def _cards_of(batch: NoticeBatch) -> list[CardRecord]:
    if batch.kind == BatchKind.REMINDER:
        return unclaimed.reminder_batch_cards(batch.pk)
    return batch_cards(batch.pk)


@staff_view(Action.CARD_OFFICIAL)
@require_POST
def remind(request: HttpRequest) -> HttpResponse:
    """Send the paced batch of reminder letters for unclaimed cards whose reminder is due."""
    sent = pacing.issue_reminder_batch(
        municipality=_municipality(request), actor=Actor.staff(_staff(request))
    )
    if sent.batch_id is None:
        messages.info(
            request,
            gettext("再通知を送るカードはありません（時期を過ぎたカードか空き枠がありません）。"),
        )
    else:
        messages.success(
            request, gettext("再通知 %(n)s通を発行しました。") % {"n": len(sent.cards)}
        )
        _warn_unprintable(request, sent.cards)
    return redirect("issuance:dashboard")


@staff_view(Action.SEE_CARDS)
def destruction(request: HttpRequest) -> HttpResponse:
    """Cards due for destruction within a month (date and rule), and the cards destroyed with
    the official who did it."""
    municipality = _municipality(request)
    due = unclaimed.cards_due_for_destruction(municipality.pk, today=clock.today())
    destroyed = list(
        CardRecord.objects.filter(municipality=municipality, status=CardStatus.DESTROYED)
        .select_related("destroyed_by")
        .order_by("-destroyed_at")[:100]
    )
    access.record_read(request.user, "destruction_list", municipality)
    return render(
        request,
        "issuance/destruction.html",
        {"municipality": municipality, "due": due, "destroyed": destroyed, "today": clock.today()},
    )


@staff_view(Action.EXPORT_NOTICES)
def batch_pdf(request: HttpRequest, batch_id: int) -> HttpResponse | FileResponse:
    """The batch's notices as PDF (re-rendered from the stored cards); an access record."""
    batch = _batch(request, batch_id)
    cards = _cards_of(batch)
    out = io.BytesIO()
    render_notices_pdf(cards, out, context=_batch_context(batch))
    out.seek(0)
    access.record_read(request.user, "notices_pdf", batch, cards=len(cards))
    return FileResponse(out, as_attachment=True, filename=f"notices-{batch.pk}.pdf")


@staff_view(Action.EXPORT_NOTICES)
def batch_csv(request: HttpRequest, batch_id: int) -> HttpResponse:
    """The batch's list for the mailing house (UTF-8 with BOM); an access record."""
    batch = _batch(request, batch_id)
    cards = _cards_of(batch)
    text = io.StringIO()
    write_mailing_csv(cards, text, pages=first_pages([(_batch_context(batch), cards)]))
    access.record_read(request.user, "mailing_csv", batch, cards=len(cards))
    response = HttpResponse(
        ("\ufeff" + text.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="mailing-{batch.pk}.csv"'
    return response


@staff_view(Action.CARD_OFFICIAL)
@require_POST
def upload_applications(request: HttpRequest) -> HttpResponse:
    """Upload weekly application counts (`week,applications`); the dashboard then shows the
    expected arrivals. A bad file changes nothing and its report is shown."""
    uploaded = request.FILES.get("file")
    if uploaded is None:
        messages.error(request, gettext("ファイルを選んでください。"))
        return redirect("issuance:dashboard")
    if uploaded.size is not None and uploaded.size > UPLOAD_MAX_BYTES:
        messages.error(request, gettext("ファイルが大きすぎます。"))
        return redirect("issuance:dashboard")
    report = read_application_counts(uploaded, file_name=uploaded.name or "applications.csv")
    if not report.accepted:
        for line in report.lines():
            messages.error(request, line)
        return redirect("issuance:dashboard")
    services.store_application_counts(
        municipality=_municipality(request),
        counts=report.counts,
        actor=Actor.staff(_staff(request)),
        file_name=report.file_name,
    )
    messages.success(request, report.lines()[0])
    return redirect("issuance:dashboard")
