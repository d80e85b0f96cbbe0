"""OTP authorisation by the health operators' system (immuni-api.md §3.2, §4.3)."""

from __future__ import annotations

from datetime import date

from pydantic import ValidationError

from notifica.clock import Clock
from notifica.protocol import InvalidOtp, OtpRequest, otp_bearer_token, validate_otp
from notifica.server.errors import OtpAlreadyAuthorized, SchemaError
from notifica.server.repository import OtpGrant, Repository
from notifica.server.settings import Settings

__all__ = ["OtpService"]


class OtpService:
    """Set-if-absent with a 150-second life; a live OTP cannot be authorised twice (409)."""

    def __init__(self, repository: Repository, clock: Clock, settings: Settings) -> None:
        self._repository = repository
        self._clock = clock
        self._settings = settings

    def authorise(self, request: OtpRequest) -> None:
        """Authorise an OTP received by ``POST /v1/otp`` (dates already checked by the parse).

        Raises:
            SchemaError: if the code is not a valid Immuni OTP (check character, alphabet).
            OtpAlreadyAuthorized: if the same OTP is already authorised and alive.
        """
        if request.id_test_verification is None:
            try:
                code = validate_otp(request.otp)
            except InvalidOtp as exc:
                raise SchemaError(f"otp: {exc}") from exc
            if code != request.otp:
                raise SchemaError("otp: must be the 10 characters exactly, without separators")
            token_hash = otp_bearer_token(code)
        else:
            token_hash = request.otp.lower()  # the CUN flow sends SHA-256(code) already
        grant = OtpGrant(
            symptoms_started_on=request.symptoms_started_on,
            id_test_verification=request.id_test_verification,
        )
        if not self._repository.otps.authorise(
            token_hash=token_hash,
            grant=grant,
            now=self._clock.now(),
            ttl_s=self._settings.otp_ttl_s,
        ):
            raise OtpAlreadyAuthorized()

    def authorise_code(self, otp: str, symptoms_started_on: date) -> None:
        """Authorise a code typed by an operator (the portal): separators and case are forgiven.

        The same rules as `authorise`, including the onset date window (immuni-api.md §2).

        Raises:
            SchemaError: for an invalid code or an onset date in the future or > 180 days old.
            OtpAlreadyAuthorized: if the OTP is already authorised and alive.
        """
        try:
            code = validate_otp(otp)
            request = OtpRequest.model_validate(
                {"otp": code, "symptoms_started_on": symptoms_started_on},
                context={"today": self._clock.now().date()},
            )
        except InvalidOtp as exc:
            raise SchemaError(f"otp: {exc}") from exc
        except ValidationError as exc:
            first = exc.errors(include_url=False, include_input=False)[0]
            raise SchemaError(f"{'.'.join(map(str, first['loc']))}: {first['msg']}") from None
        self.authorise(request)
