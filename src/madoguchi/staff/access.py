"""The one access rule of the staff side: may this person do this action here?

Every staff page, staff export and staff-facing service asks this module and nothing else.
The answer comes from ONE table, `TABLE` (role × action), and two scoping rules
(docs/access.md, decision 0013):

- staff only ever see their own municipality; an account without a municipality sees nothing
  (a superuser is an administrator of its own municipality, and nothing without one);
- an action done *at a site* (`Scope.SITE`) is allowed to officials and contractors at their
  assigned sites only, to managers, auditors and administrators at every site of their
  municipality; an action on the municipality's card pipeline or plan (`Scope.MUNICIPALITY`)
  is allowed to the roles the table names, for their own municipality only;
- contractors never take the steps the municipality keeps for officials
  (`Municipality.official_required_steps`, e.g. the identity judgement at hand-over).

Refusal is one status, 403, with a page that says why (`AccessDenied`, rendered by
`staff_view`). A missing object and another municipality's object are refused alike, so ids
cannot be probed. `staff_view` also marks every staff response `Cache-Control: no-store,
private`; `record_read` writes the access record for reading residents' personal data.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property, wraps
from typing import Any, TypeVar

from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from madoguchi.core.audit import Actor, record_audit_event
from madoguchi.offices.models import Municipality, Site
from madoguchi.offices.selectors import municipality_sites
from madoguchi.staff.models import Role, StaffUser

ModelT = TypeVar("ModelT", bound=Model)
View = Callable[..., HttpResponseBase]


class Scope(enum.StrEnum):
    SITE = "site"
    MUNICIPALITY = "municipality"
    DEPLOYMENT = "deployment"


class Action(enum.StrEnum):
    """What a staff member may be asked to do; each staff URL maps to one or more actions."""

    SEE_SITE = "see_site"
    COUNTER = "counter"
    HAND_OVER = "hand_over"
    SEE_CARDS = "see_cards"
    CARD_WORK = "card_work"
    EXPORT_NOTICES = "export_notices"
    CARD_OFFICIAL = "card_official"
    SEE_PLANNING = "see_planning"
    CHANGE_PLANNING = "change_planning"
    ROLLUP = "rollup"


ACTION_LABELS: dict[Action, Any] = {
    Action.SEE_SITE: _("窓口の予約・呼び出し状況を見る"),
    Action.COUNTER: _("窓口の受付・呼び出し・電話予約"),
    Action.HAND_OVER: _("カードの交付"),
    Action.SEE_CARDS: _("カードの状況を見る"),
    Action.CARD_WORK: _("カードの検品・設定・通知書の発行"),
    Action.EXPORT_NOTICES: _("交付通知書（PDF）と発送リスト（CSV）の出力"),
    Action.CARD_OFFICIAL: _("取り込み・再通知・廃棄（職員の事務）"),
    Action.SEE_PLANNING: _("計画の画面を見る"),
    Action.CHANGE_PLANNING: _("計画の変更（臨時開庁の追加・住民台帳の取込み）"),
    Action.ROLLUP: _("都道府県・全国の集計（報告書の取込み）"),
}

ROLE_LABELS: dict[str, Any] = {
    Role.OFFICIAL: _("職員"),
    Role.CONTRACTOR: _("委託事業者"),
    Role.MANAGER: _("管理職"),
    Role.AUDITOR: _("監査担当"),
    Role.ADMINISTRATOR: _("システム管理者"),
    Role.ROLLUP: _("集計担当（都道府県・運用者）"),
}
"""The roles' names in the page's language (the model's choices are the Japanese names)."""

OFF, CON, MAN, AUD, ADM, ROL = (
    Role.OFFICIAL,
    Role.CONTRACTOR,
    Role.MANAGER,
    Role.AUDITOR,
    Role.ADMINISTRATOR,
    Role.ROLLUP,
)

TABLE: dict[Action, tuple[Scope, frozenset[str]]] = {
    Action.SEE_SITE: (Scope.SITE, frozenset({OFF, CON, MAN, AUD, ADM})),
    Action.COUNTER: (Scope.SITE, frozenset({OFF, CON, MAN, ADM})),
    Action.HAND_OVER: (Scope.SITE, frozenset({OFF, CON, MAN, ADM})),
    Action.SEE_CARDS: (Scope.MUNICIPALITY, frozenset({OFF, CON, MAN, AUD, ADM})),
    Action.CARD_WORK: (Scope.MUNICIPALITY, frozenset({OFF, CON, MAN, ADM})),
    Action.EXPORT_NOTICES: (Scope.MUNICIPALITY, frozenset({OFF, CON, MAN, ADM})),
    Action.CARD_OFFICIAL: (Scope.MUNICIPALITY, frozenset({OFF, MAN, ADM})),
    Action.SEE_PLANNING: (Scope.MUNICIPALITY, frozenset({MAN, AUD, ADM})),
    Action.CHANGE_PLANNING: (Scope.MUNICIPALITY, frozenset({MAN, ADM})),
    Action.ROLLUP: (Scope.DEPLOYMENT, frozenset({ROL})),
}
"""Role × action: the one table (docs/access.md shows it; tests compare the two)."""

ALL_SITES_ROLES = frozenset({MAN, AUD, ADM})
"""Roles that act (or, auditors, read) at every site of their municipality."""

MUNICIPAL_OFFICIALS = frozenset({OFF, MAN, ADM})
"""Roles that may take the steps a municipality keeps for its officials."""

HAND_OVER_STEPS = ("identity_judgement", "handover_decision")
PROXY_STEP = "proxy_eligibility"


class AccessDenied(PermissionDenied):
    """A refusal: always answered 403 with this message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Staff:
    """Who asks, as the rule sees them: their effective role, municipality and sites."""

    user: StaffUser
    role: str
    municipality_id: int

    @cached_property
    def site_ids(self) -> frozenset[int]:
        """The assigned sites of the own municipality — read when first asked for: only the
        roles limited to their sites (`Scope.SITE` for officials and contractors) ever ask, so
        a manager's, auditor's, administrator's or roll-up member's request reads no sites."""
        return frozenset(
            self.user.sites.filter(municipality_id=self.municipality_id).values_list(
                "pk", flat=True
            )
        )


def staff_of(user: Any) -> Staff | None:
    """The person's standing, or None for anybody who may see nothing on the staff side
    (anonymous, inactive, not a staff account, or without a municipality). Cached on the user
    object (one request)."""
    if not isinstance(user, StaffUser) or not user.is_active or user.municipality_id is None:
        return None
    role = Role.ADMINISTRATOR if user.is_superuser else user.role
    cached = getattr(user, "_madoguchi_access", None)
    if isinstance(cached, Staff) and (cached.role, cached.municipality_id) == (
        role,
        user.municipality_id,
    ):
        return cached
    staff = Staff(user=user, role=role, municipality_id=user.municipality_id)
    user._madoguchi_access = staff  # type: ignore[attr-defined]  # per-request cache
    return staff


def _no_municipality() -> str:
    return gettext(
        "この職員アカウントはどの自治体にも所属していないため、職員の画面は利用できません。"
        "システム管理者に所属の設定を依頼してください。"
    )


def _not_yours() -> str:
    return gettext("対象が見つからないか、あなたの担当ではないため、表示・操作できません。")


def refusal(
    user: Any,
    action: Action,
    *,
    site: Site | None = None,
    municipality_id: int | None = None,
    present: bool = True,
) -> str:
    """Why `user` may not do `action` (at `site`, or on `municipality_id`'s data), or "".

    Without a site or municipality the question is "may this role do this at all" (a page that
    then lists only what is in scope). `present=False` is a missing object: refused like
    another municipality's."""
    staff = staff_of(user)
    if staff is None:
        return _no_municipality()
    scope, roles = TABLE[action]
    if staff.role not in roles:
        return gettext("%(role)sの役割では「%(action)s」はできません。") % {
            "role": ROLE_LABELS[staff.role],
            "action": ACTION_LABELS[action],
        }
    if not present:
        return _not_yours()
    if site is not None:
        if site.municipality_id != staff.municipality_id:
            return _not_yours()
        mine = staff.role in ALL_SITES_ROLES or site.pk in staff.site_ids
        if scope == Scope.SITE and not mine:
            return gettext("この窓口（%(site)s）の担当ではないため、表示・操作できません。") % {
                "site": site.name
            }
    if municipality_id is not None and municipality_id != staff.municipality_id:
        return _not_yours()
    return ""


def allows(
    user: Any, action: Action, *, site: Site | None = None, municipality_id: int | None = None
) -> bool:
    return not refusal(user, action, site=site, municipality_id=municipality_id)


def require(
    user: Any,
    action: Action,
    *,
    site: Site | None = None,
    municipality_id: int | None = None,
    present: bool = True,
) -> Staff:
    """`refusal` as an exception: AccessDenied (403) unless allowed; returns the standing."""
    reason = refusal(user, action, site=site, municipality_id=municipality_id, present=present)
    staff = staff_of(user)
    if reason or staff is None:
        raise AccessDenied(reason or _no_municipality())
    return staff


def require_object(
    user: Any,
    action: Action,
    obj: ModelT | None,
    *,
    site_of: Callable[[ModelT], Site] | None = None,
    municipality_of: Callable[[ModelT], int] | None = None,
) -> ModelT:
    """`obj` (as read, or None when no row had the id) if `user` may do `action` on it — at
    its site (`site_of`) or in its municipality (`municipality_of`); AccessDenied otherwise. A
    missing object is refused like another municipality's, so ids cannot be probed."""
    require(
        user,
        action,
        site=site_of(obj) if obj is not None and site_of is not None else None,
        municipality_id=(
            municipality_of(obj) if obj is not None and municipality_of is not None else None
        ),
        present=obj is not None,
    )
    if obj is None:  # require() refused it already; this narrows the type
        raise AccessDenied(_not_yours())
    return obj


def site_for(user: Any, action: Action, site_id: int) -> Site:
    """The site with this id if `user` may do `action` there; AccessDenied otherwise (a
    missing id is refused like another municipality's)."""
    site = Site.objects.select_related("municipality").filter(pk=site_id).first()
    return require_object(user, action, site, site_of=lambda s: s)


def municipality(user: Any, action: Action) -> Municipality:
    """The user's own municipality, if their role may do `action` at all."""
    staff = require(user, action)
    return Municipality.objects.get(pk=staff.municipality_id)


def in_scope(user: Any, action: Action, sites: Iterable[Site]) -> list[Site]:
    """Of `sites`, those where `user` may do `action` (lists on start pages)."""
    return [site for site in sites if allows(user, action, site=site)]


def sites_in_scope(user: Any, action: Action) -> list[Site]:
    """The sites in service where `user` may do `action` (the staff pages' lists of sites),
    each asked of `allows` as `in_scope` does — but only the user's own municipality's sites
    are read (the rule refuses every other municipality's), and none when the role may not do
    `action` at all."""
    staff = staff_of(user)
    if staff is None or refusal(user, action):
        return []
    return in_scope(user, action, municipality_sites(staff.municipality_id))


def scope_to_sites(
    queryset: QuerySet[ModelT], user: Any, action: Action, *, site_field: str = "site"
) -> QuerySet[ModelT]:
    """`queryset` limited to rows at sites where `user` may do `action` (none when refused)."""
    staff = staff_of(user)
    if staff is None or staff.role not in TABLE[action][1]:
        return queryset.none()
    rows = queryset.filter(**{f"{site_field}__municipality_id": staff.municipality_id})
    if TABLE[action][0] == Scope.SITE and staff.role not in ALL_SITES_ROLES:
        rows = rows.filter(**{f"{site_field}_id__in": staff.site_ids})
    return rows


def scope_to_municipality(
    queryset: QuerySet[ModelT],
    user: Any,
    action: Action,
    *,
    municipality_field: str = "municipality",
) -> QuerySet[ModelT]:
    """`queryset` limited to the user's municipality (none when refused)."""
    staff = staff_of(user)
    if staff is None or staff.role not in TABLE[action][1]:
        return queryset.none()
    return queryset.filter(**{f"{municipality_field}_id": staff.municipality_id})


def official_step_refusal(user: Any, municipality: Municipality, steps: Iterable[str]) -> str:
    """Why `user` may not take `steps` for `municipality`, or "": contractors (and anybody not
    a municipal official) never take the steps the municipality keeps for its officials."""
    staff = staff_of(user)
    if staff is None:
        return _no_municipality()
    kept = set(municipality.official_required_steps or [])
    if staff.role not in MUNICIPAL_OFFICIALS and kept & set(steps):
        return gettext(
            "本人確認の判断と交付の決定（代理人の場合はその可否の判断も）は市区町村の職員が"
            "行います。職員に交代してください。"
        )
    return ""


def hand_over_steps(*, is_proxy: bool) -> tuple[str, ...]:
    """The judgements a hand-over involves (the identity check is one, DOMAIN: outsourcing)."""
    return (*HAND_OVER_STEPS, PROXY_STEP) if is_proxy else HAND_OVER_STEPS


def record_read(user: Any, what: str, subject: Model, **details: Any) -> None:
    """The access record: `user` read residents' personal data (`what`: day view, card page,
    notice PDF, mailing CSV …) of `subject`. Written as an audit event `access.read`."""
    record_audit_event(
        actor=Actor.staff(user),
        action="access.read",
        subject_type=subject._meta.label,
        subject_id=subject.pk,
        after={"what": what, **details},
    )


def refused_page(request: HttpRequest, reason: str) -> HttpResponseBase:
    """The one refusal page: 403, says why, never cached."""
    response = render(request, "403.html", {"reason": reason}, status=403)
    patch_cache_control(response, no_store=True, private=True)
    return response


def staff_view(action: Action) -> Callable[[View], View]:
    """A staff page or export: sign-in required, the role must be allowed `action` (object-level
    checks follow in the view through `site_for` / `require`), refusals answered 403 with a
    page, every response `Cache-Control: no-store, private`."""

    def decorate(view: View) -> View:
        @wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            try:
                require(request.user, action)
                response = view(request, *args, **kwargs)
            except AccessDenied as refused:
                return refused_page(request, refused.message)
            patch_cache_control(response, no_store=True, private=True)
            return response

        guarded = login_required(checked)
        guarded.access_action = action  # type: ignore[attr-defined]  # read by the matrix test
        return guarded

    return decorate


# --- the admin (/admin/) ------------------------------------------------------------------------

SCOPE_PATHS: dict[str, str] = {
    "offices.Municipality": "",
    "offices.Site": "municipality",
    "offices.Counter": "site__municipality",
    "offices.Terminal": "site__municipality",
    "staff.StaffUser": "municipality",
}
"""How the admin's choice lists of related rows reach their municipality."""


def admin_scope(queryset: QuerySet[ModelT], user: Any, path: str) -> QuerySet[ModelT]:
    """An admin list limited to `user`'s municipality (`path` leads from the model to it; ""
    for Municipality itself). An account without a municipality is the set-up account (it
    creates municipalities and their first administrators; the staff pages show it nothing)
    and is not limited here."""
    if not isinstance(user, StaffUser) or user.municipality_id is None:
        return queryset
    return queryset.filter(**{f"{path}_id" if path else "pk": user.municipality_id})


class MunicipalityScopedAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # a mixin for every model
    """Admin mixin: the rows, and the municipalities / sites / counters / staff offered in
    choice lists, of the signed-in account's municipality only (`admin_scope`)."""

    municipality_path = "municipality"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return admin_scope(super().get_queryset(request), request.user, self.municipality_path)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        return _limited(super().formfield_for_foreignkey(db_field, request, **kwargs), request)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        return _limited(super().formfield_for_manytomany(db_field, request, **kwargs), request)


def _limited(formfield: Any, request: HttpRequest) -> Any:
    queryset = getattr(formfield, "queryset", None)
    if queryset is not None:
        path = SCOPE_PATHS.get(queryset.model._meta.label)
        if path is not None:
            formfield.queryset = admin_scope(queryset, request.user, path)
    return formfield
