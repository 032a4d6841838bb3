"""Every change of a card's stage: one service per transition, checked and audited.

Each service is atomic, checks `CARD_TRANSITIONS`, stamps the step's time from the one clock and
writes one audit event per card (who, when, from → to). Bulk variants lock their cards in one
query and still write one event per card.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from madoguchi.core import clock
from madoguchi.core.audit import Actor, PendingEvent, record_audit_event, record_audit_events
from madoguchi.core.changes import planning_inputs_changed
from madoguchi.core.dates import add_months
from madoguchi.core.errors import DomainError
from madoguchi.core.transitions import TransitionTable, check_transition
from madoguchi.issuance.booking_refusals import card_not_bookable
from madoguchi.issuance.models import (
    BOOKABLE_STATUSES,
    CARD_TRANSITIONS,
    PHOTO_ID_DOCUMENTS,
    REMINDER_LETTER_TRANSITIONS,
    ApplicationCount,
    ApplicationKind,
    BatchKind,
    CardHandOver,
    CardRecord,
    CardStatus,
    DestroyRule,
    ECertificates,
    IdDocument,
    IdDocumentClass,
    IssuancePolicy,
    NoticeBatch,
    OldCard,
    PinSetting,
    ProxyDocument,
    ProxyReason,
)
from madoguchi.issuance.numbers import generate_notice_number
from madoguchi.offices.models import Municipality, Terminal
from madoguchi.staff import access
from madoguchi.staff.access import Action
from madoguchi.staff.models import StaffUser

SUBJECT = "issuance.CardRecord"
WHAT = gettext_noop("カード")
CARD_LABELS = dict(CardStatus.choices)
_STAMP = {
    CardStatus.INSPECTED: "inspected_at",
    CardStatus.DEFECTIVE: "defective_at",
    CardStatus.RETURNED_TO_JLIS: "returned_at",
    CardStatus.SETUP_DONE: "setup_done_at",
    CardStatus.NOTICE_ISSUED: "notice_issued_at",
    CardStatus.BOOKED: "booked_at",
    CardStatus.REMINDED: "reminded_at",
    CardStatus.HANDED_OVER: "handed_over_at",
    CardStatus.DESTROYED: "destroyed_at",
}


def policy_for(municipality: Municipality | int) -> IssuancePolicy:
    """The municipality's issuance policy, created with the defaults on first use."""
    municipality_id = municipality if isinstance(municipality, int) else municipality.pk
    policy, _created = IssuancePolicy.objects.get_or_create(municipality_id=municipality_id)
    return policy


def _move(
    card: CardRecord,
    target: CardStatus,
    *,
    actor: Actor,
    action: str,
    changes: dict[str, Any] | None = None,
    audit_extra: dict[str, Any] | None = None,
    refusal: DomainError | None = None,
    already_locked: bool = False,
    stamp: bool = True,
) -> CardRecord:
    """Lock, check, change, save and audit one card (inside the caller's transaction); `card`
    is refreshed in place from its locked row.

    `refusal` replaces the generic `invalid_transition` error when the move is not allowed;
    `already_locked` says the caller read `card` with `select_for_update` in this transaction;
    `stamp=False` keeps the target stage's time (a step back to a stage reached before).
    """
    if not already_locked:
        card.refresh_from_db(from_queryset=CardRecord.objects.select_for_update())
    try:
        check_transition(CARD_TRANSITIONS, card.status, target, what=WHAT, labels=CARD_LABELS)
    except DomainError:
        if refusal is None:
            raise
        raise refusal from None
    before = card.status
    now = clock.now()
    stamps = {_STAMP[target]: now} if stamp else {}
    fields = {"status": target, **stamps, **(changes or {}), "updated_at": now}
    for name, value in fields.items():
        setattr(card, name, value)
    card.save(update_fields=list(fields))
    record_audit_event(
        actor=actor,
        action=action,
        subject_type=SUBJECT,
        subject_id=card.pk,
        before={"status": before},
        after={"status": str(target), **(audit_extra or {})},
    )
    return card


def _move_many(
    cards: Iterable[CardRecord],
    target: CardStatus,
    *,
    actor: Actor,
    action: str,
    changes: dict[str, Any] | None = None,
    transitions: TransitionTable = CARD_TRANSITIONS,
) -> int:
    """The bulk form of `_move`: all or none; one audit event per card (in id order); returns
    how many cards moved. `transitions` narrows the moves allowed (a part of CARD_TRANSITIONS).
    The lock reads each card's id and status only: nothing else is checked, and a few hundred
    whole rows made into model instances cost more than the move's own statements."""
    ids = [c.pk for c in cards]
    locked = list(
        CardRecord.objects.select_for_update()
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", "status")
    )
    if len(locked) != len(set(ids)):
        raise DomainError("card_not_found", _("対象のカードが見つかりません。"), status=404)
    for _pk, status in locked:
        check_transition(transitions, status, target, what=WHAT, labels=CARD_LABELS)
    now = clock.now()
    fields = {"status": target, _STAMP[target]: now, **(changes or {})}
    # The same values for every card: one UPDATE (bulk_update's CASE per card and field cost
    # seconds of expression building for a few hundred cards).
    CardRecord.objects.filter(pk__in=[pk for pk, _status in locked]).update(
        **fields, updated_at=now
    )
    record_audit_events(
        actor=actor,
        events=[
            PendingEvent(action, SUBJECT, pk, {"status": status}, {"status": str(target)})
            for pk, status in locked
        ],
    )
    return len(locked)


@transaction.atomic
def inspect_card(*, card: CardRecord, actor: Actor) -> CardRecord:
    """Print and chip checked, no defect: delivered → inspected."""
    return _move(card, CardStatus.INSPECTED, actor=actor, action="card.inspect")


@transaction.atomic
def inspect_cards(*, cards: Sequence[CardRecord], actor: Actor) -> int:
    """Bulk `inspect_card`: every card moves, or none (DomainError names the refusal); returns
    how many moved."""
    return _move_many(cards, CardStatus.INSPECTED, actor=actor, action="card.inspect")


@transaction.atomic
def mark_card_defective(*, card: CardRecord, reason: str, actor: Actor) -> CardRecord:
    """A defect found at inspection or set-up: → defective, with the reason (required)."""
    reason = reason.strip()
    if not reason:
        raise DomainError("reason_required", _("不良の内容を入力してください。"))
    return _move(
        card,
        CardStatus.DEFECTIVE,
        actor=actor,
        action="card.defective",
        changes={"defect_reason": reason[:200]},
        audit_extra={"reason": reason[:200]},
    )


@transaction.atomic
def return_card_to_jlis(*, card: CardRecord, actor: Actor) -> CardRecord:
    """A defective card is sent back to J-LIS: defective → returned_to_jlis (final)."""
    return _move(card, CardStatus.RETURNED_TO_JLIS, actor=actor, action="card.return")


@transaction.atomic
def record_card_setup(*, card: CardRecord, terminal: Terminal | None, actor: Actor) -> CardRecord:
    """Pre-issuance set-up (交付前設定) done on `terminal`: inspected → setup_done."""
    return _move(
        card,
        CardStatus.SETUP_DONE,
        actor=actor,
        action="card.setup",
        changes={"setup_terminal": terminal},
        audit_extra={"terminal": terminal.pk if terminal else None},
    )


@transaction.atomic
def record_cards_setup(
    *, cards: Sequence[CardRecord], terminal: Terminal | None, actor: Actor
) -> int:
    """Bulk `record_card_setup`: every card moves, or none; returns how many moved."""
    return _move_many(
        cards,
        CardStatus.SETUP_DONE,
        actor=actor,
        action="card.setup",
        changes={"setup_terminal": terminal},
    )


def _fresh_numbers(count: int) -> list[str]:
    """`count` random booking numbers not yet used by any card (collisions are redrawn)."""
    numbers: set[str] = set()
    while len(numbers) < count:
        wanted = {generate_notice_number() for _ in range(count - len(numbers))} - numbers
        taken = set(
            CardRecord.objects.filter(notice_number__in=wanted).values_list(
                "notice_number", flat=True
            )
        )
        numbers |= wanted - taken
    return list(numbers)


@transaction.atomic
def issue_notices(
    *,
    cards: Sequence[CardRecord],
    actor: Actor,
    municipality: Municipality,
    pacing: dict[str, Any] | None = None,
) -> NoticeBatch:
    """Give each set-up card a booking number and mark its notice issued (setup_done →
    notice_issued), as one batch recording the pacing arithmetic. All or none; raises
    DomainError when a card is not set up."""
    now = clock.now()
    batch = NoticeBatch.objects.create(
        municipality=municipality,
        created_at=now,
        created_by=actor.label,
        cards=len(cards),
        pacing=pacing or {},
    )
    ids = [c.pk for c in cards]
    locked = list(CardRecord.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    numbers = _fresh_numbers(len(locked))
    for card, number in zip(locked, numbers, strict=True):
        check_transition(
            CARD_TRANSITIONS, card.status, CardStatus.NOTICE_ISSUED, what=WHAT, labels=CARD_LABELS
        )
        card.status = CardStatus.NOTICE_ISSUED
        card.notice_number = number
        card.notice_batch = batch
        card.notice_issued_at = now
        card.first_notice_issued_at = now
        card.updated_at = now
    try:
        # Only the numbers differ from card to card: the rest is one plain UPDATE.
        CardRecord.objects.filter(pk__in=[card.pk for card in locked]).update(
            status=CardStatus.NOTICE_ISSUED,
            notice_batch=batch,
            notice_issued_at=now,
            first_notice_issued_at=now,
            updated_at=now,
        )
        CardRecord.objects.bulk_update(locked, ["notice_number"], batch_size=1000)
    except IntegrityError as error:  # pragma: no cover - a concurrent run drew the same number
        raise DomainError(
            "notice_number_collision",
            _("交付通知書番号が重なりました。もう一度実行してください。"),
            status=409,
        ) from error
    record_audit_events(
        actor=actor,
        events=[
            PendingEvent(
                "card.notice",
                SUBJECT,
                card.pk,
                {"status": CardStatus.SETUP_DONE},
                {"status": CardStatus.NOTICE_ISSUED, "batch": batch.pk},
            )
            for card in locked
        ],
    )
    return batch


@transaction.atomic(savepoint=False)
def mark_card_booked(
    *, card: CardRecord, reservation_code: str, actor: Actor, already_locked: bool = False
) -> CardRecord:
    """A card pick-up reservation was made for this card: notice_issued (or reminded) → booked.

    Call it inside the booking transaction (`already_locked` when the card was read there with
    `selectors.lock_cards_for_booking`). On PostgreSQL the booking itself writes the same in
    its one statement (`reservations.fastpath`). Raises DomainError 409 `card_not_bookable`
    when the card is already booked, handed over, or otherwise not waiting for a booking.
    """
    return _move(
        card,
        CardStatus.BOOKED,
        actor=actor,
        action="card.book",
        changes={"reservation_code": reservation_code[:40]},
        audit_extra={"reservation": reservation_code[:40]},
        refusal=card_not_bookable(),
        already_locked=already_locked,
    )


READY_FOR_BOOKING = tuple(s for s in BOOKABLE_STATUSES if CardStatus.BOOKED in CARD_TRANSITIONS[s])
"""Statuses a booking may move to booked (notice_issued, reminded)."""


@transaction.atomic
def mark_card_unbooked(
    *, card: CardRecord, actor: Actor, already_locked: bool = False
) -> CardRecord:
    """The card's reservation was cancelled (or moved to no slot): booked → back where it was
    before the booking — reminded when its reminder letter went out, else notice_issued — with
    the dates of the notice and the reminder kept, so the reminder and the destruction stay due
    when they were (a cancellation sends no second reminder and restarts no period).

    The card can be booked again with the same number. Raises DomainError 409 when not booked.
    `already_locked`: the caller read `card` with `select_for_update` in this transaction
    (`selectors.lock_card_by_reservation`).
    """
    if not already_locked:
        card.refresh_from_db(from_queryset=CardRecord.objects.select_for_update())
    return _move(
        card,
        CardStatus.REMINDED if card.reminded_at is not None else CardStatus.NOTICE_ISSUED,
        actor=actor,
        action="card.unbook",
        changes={"reservation_code": "", "booked_at": None},
        already_locked=True,
        stamp=False,
    )


@transaction.atomic
def hand_over_card(
    *,
    card: CardRecord,
    actor: Actor,
    staff_user: StaffUser,
    is_proxy: bool,
    id_document_class: str,
    proxy_reason: str = "",
    checks: HandOverChecks | None = None,
    reservation_code: str = "",
    already_locked: bool = False,
) -> CardRecord:
    """The card is handed to the holder (or a proxy): → handed_over, recording who, proxy or
    not, the ID-document class (`one_photo` / `two_other`) and, for a proxy, the accepted
    reason (a `ProxyReason` value; kept in the audit event, the card has no field for it).
    With `checks` (the counter's hand-over screen) the documents, the old card, the PINs and the
    e-certificates are checked too (`HandOverChecks.problems`) and kept in a `CardHandOver`
    record and the same audit event; `is_proxy`, `id_document_class` and `proxy_reason` must
    then agree with them. `already_locked`: the caller read `card` with `select_for_update` in
    this transaction (`selectors.lock_card_by_reservation`), so it is checked and moved as read.

    Raises DomainError 403 `official_required` when `staff_user` is not a municipal official
    and the municipality keeps the hand-over decision (or, for a proxy, the proxy-eligibility
    decision) with officials; 422 on an unknown document class, on a proxy without an accepted
    reason (`proxy_reason_required`) or a reason without a proxy; 409 on a wrong status.
    """
    if id_document_class not in IdDocumentClass.values:
        raise DomainError(
            "id_document_class",
            _("本人確認書類の区分（写真付き1点、または写真なし2点）を選んでください。"),
        )
    if is_proxy and proxy_reason not in ProxyReason.values:
        raise DomainError(
            "proxy_reason_required",
            _("代理人に交付するときは、認められた代理の理由を選んでください。"),
        )
    if not is_proxy and proxy_reason:
        raise DomainError("proxy_reason_unexpected", _("本人への交付に代理の理由は不要です。"))
    if checks is not None:
        problems = checks.problems(card)
        if problems:
            raise DomainError("hand_over_checks", " ".join(problems))
        if (is_proxy, id_document_class, proxy_reason) != (
            checks.is_proxy,
            checks.id_document_class,
            checks.proxy_reason,
        ):
            raise AssertionError("hand_over_card: the arguments disagree with the checks")
    refused = access.refusal(staff_user, Action.HAND_OVER, municipality_id=card.municipality_id)
    if refused:
        raise DomainError("forbidden", refused, status=403)
    # The identity check at hand-over is an identity judgement too (docs/domain.md, Outsourcing).
    kept = access.official_step_refusal(
        staff_user, card.municipality, access.hand_over_steps(is_proxy=is_proxy)
    )
    if kept:
        raise DomainError("official_required", kept, status=403)
    moved = _move(
        card,
        CardStatus.HANDED_OVER,
        actor=actor,
        action="card.hand_over",
        changes={
            "handed_over_by": staff_user,
            "is_proxy": is_proxy,
            "id_document_class": id_document_class,
        },
        audit_extra={
            "by": staff_user.pk,
            "is_proxy": is_proxy,
            "id_document_class": id_document_class,
            **({"proxy_reason": proxy_reason} if is_proxy else {}),
            **(checks.audit() if checks is not None else {}),
        },
        already_locked=already_locked,
    )
    if checks is not None:
        CardHandOver.objects.create(
            card=moved,
            reservation_code=reservation_code,
            handed_over_at=moved.handed_over_at or clock.now(),
            handed_over_by=staff_user,
            is_proxy=checks.is_proxy,
            proxy_reason=checks.proxy_reason,
            proxy_documents=list(checks.proxy_documents),
            id_documents=list(checks.id_documents),
            id_document_class=checks.id_document_class,
            old_card=checks.old_card,
            pin_setting=checks.pin_setting,
            e_certificates=checks.e_certificates,
        )
    return moved


@dataclass(frozen=True)
class HandOverChecks:
    """What the counter checked at hand-over (the hand-over screen's form, parsed)."""

    is_proxy: bool
    id_documents: tuple[str, ...]
    old_card: str
    pin_setting: str
    e_certificates: str
    proxy_reason: str = ""
    proxy_documents: tuple[str, ...] = ()

    @property
    def id_document_class(self) -> str:
        """One photo ID is enough; otherwise two documents without a photo."""
        if PHOTO_ID_DOCUMENTS & set(self.id_documents):
            return IdDocumentClass.ONE_PHOTO
        return IdDocumentClass.TWO_OTHER

    def problems(self, card: CardRecord) -> list[str]:
        """Every reason this hand-over may not go ahead, as messages (empty: it may)."""
        found: list[str] = []
        documents = set(self.id_documents)
        if not documents <= set(IdDocument.values) or len(documents) != len(self.id_documents):
            found.append(_("本人確認書類を一覧から選んでください。"))
        elif not PHOTO_ID_DOCUMENTS & documents and len(documents) < 2:
            found.append(
                _("本人確認書類は、写真付きのもの1点か、写真のないもの2点を確認してください。")
            )
        if self.old_card not in OldCard.values:
            found.append(_("旧カードの扱いを選んでください。"))
        elif (
            card.application_kind == ApplicationKind.RENEWAL
            and self.old_card != OldCard.COLLECTED_AND_PUNCHED
        ):
            found.append(_("更新のカードを交付するときは、旧カードを回収して穴を開けてください。"))
        if self.pin_setting not in PinSetting.values:
            found.append(_("暗証番号の設定を選んでください。"))
        elif self.is_proxy and self.pin_setting == PinSetting.SET_BY_HOLDER:
            found.append(_("代理人への交付では、照会書の暗証番号を端末で設定します。"))
        elif not self.is_proxy and self.pin_setting == PinSetting.FROM_INQUIRY_FORM:
            found.append(_("ご本人への交付では、ご本人が端末で暗証番号を設定します。"))
        if self.e_certificates not in ECertificates.values:
            found.append(_("電子証明書の発行について選んでください。"))
        if self.is_proxy and set(self.proxy_documents) != set(ProxyDocument.values):
            found.append(
                _(
                    "代理人に交付するときは、委任欄、代理の理由の証明、ご本人と代理人の"
                    "本人確認書類をすべて確認してください。"
                )
            )
        if not self.is_proxy and self.proxy_documents:
            found.append(_("ご本人への交付に代理人の書類は不要です。"))
        return found

    def audit(self) -> dict[str, Any]:
        return {
            "id_documents": sorted(self.id_documents),
            "old_card": self.old_card,
            "pin_setting": self.pin_setting,
            "e_certificates": self.e_certificates,
            **({"proxy_documents": sorted(self.proxy_documents)} if self.is_proxy else {}),
        }


def reminder_due_on(card: CardRecord, policy: IssuancePolicy) -> dt.date | None:
    """The first day an unclaimed card's reminder letter is due: its notice date plus the
    municipality's `reminder_after_days`; None when no notice went out."""
    if card.notice_issued_at is None:
        return None
    return clock.to_jst(card.notice_issued_at).date() + dt.timedelta(
        days=policy.reminder_after_days
    )


@transaction.atomic
def send_reminders(
    *,
    cards: Sequence[CardRecord],
    actor: Actor,
    municipality: Municipality,
    pacing: dict[str, Any] | None = None,
    require_due: bool = True,
    policy: IssuancePolicy | None = None,
) -> NoticeBatch:
    """Reminder letters (再通知) for unclaimed cards, as one batch whose PDF and mailing CSV are
    printed like notices: notice_issued → reminded. All or none; 409 naming the date when a
    card's reminder is not due yet (`require_due=False` only for histories written before
    their dates, as the demo's). `policy`: the municipality's issuance policy when the caller
    has read it already (the paced batch chose its cards by it)."""
    policy = policy or policy_for(municipality)
    today = clock.today()
    if require_due:
        for card in cards:
            due = reminder_due_on(card, policy)
            if due is None or due > today:
                raise DomainError(
                    "reminder_not_due",
                    _("このカードの再通知はまだ送れません（送れる日: %(due)s）。")
                    % {"due": due or _("未定")},
                    status=409,
                )
    batch = NoticeBatch.objects.create(
        municipality=municipality,
        kind=BatchKind.REMINDER,
        created_at=clock.now(),
        created_by=actor.label,
        cards=len(cards),
        pacing=pacing or {},
    )
    _move_many(
        cards,
        CardStatus.REMINDED,
        actor=actor,
        action="card.remind",
        changes={"reminder_batch": batch},
        transitions=REMINDER_LETTER_TRANSITIONS,
    )
    return batch


def destroy_due_on(card: CardRecord, policy: IssuancePolicy) -> dt.date | None:
    """The first date an unclaimed card may be destroyed under `policy`, or None (not yet
    reminded / never noticed)."""
    if policy.destroy_rule == DestroyRule.AFTER_FIRST_NOTICE:
        start = card.first_notice_issued_at
        months = policy.destroy_months_after_first_notice
    else:
        start = card.reminded_at
        months = policy.destroy_months_after_reminder
    if start is None:
        return None
    return add_months(clock.to_jst(start).date(), months)


@transaction.atomic
def destroy_card(*, card: CardRecord, actor: Actor, staff_user: StaffUser | None) -> CardRecord:
    """An unclaimed, reminded card is destroyed once the municipality's period has passed.

    Raises DomainError 403 for contractors and auditors (least privilege), 409 when the card
    was not reminded or its period has not passed yet.
    """
    if staff_user is not None:
        refused = access.refusal(
            staff_user, Action.CARD_OFFICIAL, municipality_id=card.municipality_id
        )
        if refused:
            raise DomainError("forbidden", refused, status=403)
    due = destroy_due_on(card, policy_for(card.municipality_id))
    if card.status == CardStatus.REMINDED and (due is None or clock.today() < due):
        raise DomainError(
            "not_due",
            _("このカードはまだ廃棄できません（廃棄できる日: %(due)s）。")
            % {"due": due or _("未定")},
            status=409,
        )
    return _move(
        card,
        CardStatus.DESTROYED,
        actor=actor,
        action="card.destroy",
        changes={"destroyed_by_id": staff_user.pk if staff_user is not None else None},
        audit_extra={"rule": policy_for(card.municipality_id).get_destroy_rule_display()},
    )


@transaction.atomic
def store_application_counts(
    *, municipality: Municipality, counts: dict[dt.date, int], actor: Actor, file_name: str = ""
) -> int:
    """Store weekly application counts (week = Monday → applications), replacing the count of
    any week already stored; other weeks are kept. Returns the number of weeks written.

    Raises DomainError when a week is not a Monday or a count is negative (the reader already
    refuses both; this keeps the table clean whoever calls)."""
    if any(week.weekday() != 0 for week in counts) or any(n < 0 for n in counts.values()):
        raise DomainError("bad_counts", _("週は月曜日、申請件数は0以上で指定してください。"))
    now = clock.now()
    existing = {
        row.week: row
        for row in ApplicationCount.objects.select_for_update().filter(
            municipality=municipality, week__in=list(counts)
        )
    }
    for week, applications in counts.items():
        row = existing.get(week)
        if row is None:
            existing[week] = ApplicationCount(
                municipality=municipality, week=week, applications=applications, updated_at=now
            )
        else:
            row.applications, row.updated_at = applications, now
    ApplicationCount.objects.bulk_create([r for r in existing.values() if r.pk is None])
    ApplicationCount.objects.bulk_update(
        [r for r in existing.values() if r.pk is not None], ["applications", "updated_at"]
    )
    planning_inputs_changed.send(sender=ApplicationCount)  # bulk writes send no post_save
    record_audit_event(
        actor=actor,
        action="applications.store",
        subject_type="issuance.ApplicationCount",
        subject_id=municipality.pk,
        after={
            "file_name": file_name,
            "weeks": len(counts),
            "first_week": min(counts) if counts else None,
            "last_week": max(counts) if counts else None,
            "applications": sum(counts.values()),
        },
    )
    return len(counts)
