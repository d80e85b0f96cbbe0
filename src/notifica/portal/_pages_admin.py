"""Administrators: operator accounts and the audit log."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from notifica.portal._codes import code_error, code_fingerprint, diagnose_code
from notifica.portal._records import Operator, Role
from notifica.portal._web import Page, PageDep
from notifica.portal.errors import (
    InvalidField,
    LastAdmin,
    OperatorExists,
    PortalError,
    UnknownOperator,
)

__all__ = ["AUDIT_LINES", "router"]

router = APIRouter()

AUDIT_LINES = 200
"""The audit page shows the newest lines; a code lookup finds older ones."""


async def _operators_page(
    page: Page,
    *,
    status: int = 200,
    error: PortalError | None = None,
    created: tuple[Operator, str | None] | None = None,
    reset: tuple[Operator, str | None] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    operators = await page.run(page.portal.accounts.all)
    return page.render(
        "operators.html",
        status=status,
        operators=operators,
        roles=list(Role),
        error=error,
        created=created,
        reset=reset,
        form=form or {"email": "", "role": Role.OPERATOR.value},
    )


@router.get("/admin/operators", name="operators")
async def operators(page: PageDep) -> Response:
    """Accounts, with the forms to create, disable, reset and promote them."""
    page.admin()
    return await _operators_page(page)


@router.post("/admin/operators")
async def create_operator(page: PageDep) -> Response:
    """Create an account with a temporary password, shown once on this response only."""
    admin = page.admin()
    fields = await page.form()
    try:
        role = Role(fields.get("role", ""))
    except ValueError:
        return await _operators_page(
            page, status=400, error=InvalidField("role", "operators.role_invalid"), form=fields
        )
    try:
        created = await page.run(
            page.portal.accounts.create,
            email=fields.get("email", ""),
            role=role,
            password=None,
            actor=admin,
        )
    except (InvalidField, OperatorExists) as exc:
        status = 409 if isinstance(exc, OperatorExists) else 400
        return await _operators_page(page, status=status, error=exc, form=fields)
    return await _operators_page(page, created=created)


@router.post("/admin/operators/{operator_id}/active", name="operator_active")
async def set_active(page: PageDep, operator_id: int) -> Response:
    """Disable (ends the account's sessions at once) or enable an account."""
    admin = page.admin()
    fields = await page.form()
    try:
        await page.run(
            page.portal.accounts.set_active, operator_id, fields.get("active") == "1", actor=admin
        )
    except (UnknownOperator, LastAdmin) as exc:
        return await _operators_page(page, status=409, error=exc)
    return page.redirect(page.url("operators"))


@router.post("/admin/operators/{operator_id}/role", name="operator_role")
async def set_role(page: PageDep, operator_id: int) -> Response:
    """Make an account an operator or an administrator."""
    admin = page.admin()
    fields = await page.form()
    try:
        role = Role(fields.get("role", ""))
        await page.run(page.portal.accounts.set_role, operator_id, role, actor=admin)
    except ValueError:
        return await _operators_page(
            page, status=400, error=InvalidField("role", "operators.role_invalid")
        )
    except (UnknownOperator, LastAdmin) as exc:
        return await _operators_page(page, status=409, error=exc)
    return page.redirect(page.url("operators"))


@router.post("/admin/operators/{operator_id}/password", name="operator_password")
async def reset_password(page: PageDep, operator_id: int) -> Response:
    """A new temporary password (shown once), the account's sessions ended."""
    admin = page.admin()
    await page.form()
    try:
        operator = await page.run(page.portal.accounts.get, operator_id)
        temporary = await page.run(page.portal.accounts.reset_password, operator_id, actor=admin)
    except UnknownOperator as exc:
        return await _operators_page(page, status=404, error=exc)
    return await _operators_page(page, reset=(operator, temporary))


@router.get("/admin/audit", name="audit")
async def audit(page: PageDep) -> Response:
    """The newest audit lines."""
    page.admin()
    entries = await page.run(page.portal.store.audit.latest, limit=AUDIT_LINES)
    return page.render(
        "audit.html", entries=entries, code="", error=None, looked_up=None, limit=AUDIT_LINES
    )


@router.post("/admin/audit")
async def audit_lookup(page: PageDep) -> Response:
    """The lines of one code, found by its fingerprint (the code itself is not stored)."""
    page.admin()
    fields = await page.form()
    code = fields.get("code", "")
    error = code_error(diagnose_code(code))
    if error is not None:
        entries = await page.run(page.portal.store.audit.latest, limit=AUDIT_LINES)
        return page.render(
            "audit.html",
            status=400,
            entries=entries,
            code=code,
            error=error,
            looked_up=None,
            limit=AUDIT_LINES,
        )
    fingerprint = code_fingerprint(code)
    entries = await page.run(
        page.portal.store.audit.latest, limit=AUDIT_LINES, code_fingerprint=fingerprint
    )
    return page.render(
        "audit.html",
        entries=entries,
        code=code,
        error=None,
        looked_up=fingerprint,
        limit=AUDIT_LINES,
    )
