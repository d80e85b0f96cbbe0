"""The operator's desk: type the code and onset date, authorise, see the countdown."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from notifica.portal._codes import (
    FEEDBACK_KEYS,
    ONSET_WARNING_DAYS,
    code_rules,
    diagnose_code,
    feedback,
    flagged_positions,
)
from notifica.portal._web import Page, PageDep
from notifica.portal.errors import AlreadyAuthorised, FormInvalid, InvalidField
from notifica.protocol import MAX_ISO_DATE_BACKWARD_DAYS

__all__ = ["router"]

router = APIRouter()


def _form(
    page: Page,
    *,
    status: int = 200,
    code: str = "",
    onset: str = "",
    confirm_old: bool = False,
    errors: tuple[InvalidField, ...] = (),
    notice: str | None = None,
) -> Response:
    today = page.portal.desk.today()
    diagnosis = diagnose_code(code)
    by_field = {e.field: e for e in errors}
    return page.render(
        "authorise.html",
        status=status,
        code=code,
        onset=onset,
        confirm_old=confirm_old,
        errors=errors,
        by_field=by_field,
        notice=notice,
        today=today,
        earliest=today - timedelta(days=MAX_ISO_DATE_BACKWARD_DAYS),
        warn_before=today - timedelta(days=ONSET_WARNING_DAYS),
        warning_days=ONSET_WARNING_DAYS,
        code_lines=feedback(diagnosis, page.t, live=False) if "code" in by_field else [],
        code_cells=diagnosis.code if "code" in by_field else "",
        flagged=flagged_positions(diagnosis),
        ttl_s=page.portal.desk.ttl_s,
        code_rules=code_rules(),
        code_messages={key: page.t.messages[key] for key in FEEDBACK_KEYS},
    )


@router.get("/authorise", name="authorise")
async def authorise_form(page: PageDep) -> Response:
    """The empty form."""
    page.operator()
    return _form(page)


@router.post("/authorise")
async def authorise(page: PageDep) -> Response:
    """Check, authorise through the backend, and show the confirmation (303 to it)."""
    operator = page.operator()
    fields = await page.form()
    code, onset = fields.get("code", ""), fields.get("onset", "")
    confirm_old = fields.get("confirm_old") == "1"
    desk = page.portal.desk
    try:
        checked = desk.check(code=code, onset=onset, confirm_old=confirm_old)
        entry = await page.run(desk.authorise, operator, checked)
    except FormInvalid as exc:
        return _form(
            page, status=400, code=code, onset=onset, confirm_old=confirm_old, errors=exc.errors
        )
    except InvalidField as exc:
        return _form(
            page, status=400, code=code, onset=onset, confirm_old=confirm_old, errors=(exc,)
        )
    except AlreadyAuthorised:
        return _form(
            page,
            status=409,
            code=code,
            onset=onset,
            confirm_old=confirm_old,
            notice="authorise.already",
        )
    return page.redirect(page.url("authorised", entry_id=entry.id))


@router.get("/authorise/done/{entry_id}", name="authorised")
async def authorised(page: PageDep, entry_id: int) -> Response:
    """The confirmation: time left of the code's life and what to tell the citizen."""
    operator = page.operator()
    done = await page.run(page.portal.desk.confirmation, operator, entry_id)
    if done is None:
        raise HTTPException(status_code=404)
    return page.render("authorised.html", done=done, ttl_s=page.portal.desk.ttl_s)
