"""The simulator's API-key rules and the facts it derives from a key (team, ids, redacted forms).

Any `xai-` key of 12+ characters is accepted; a key containing `invalid` gets xAI's 400, `blocked`
a 403, `nocredit` the 429 credits error. Everything else about a key (its team, its ids, its name) is
derived from a hash of it, so the same key always looks like the same account.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from enum import Enum

from grok_mcp.simulator.wire import XAIFailure

KEY_PREFIX = "xai-"
MIN_KEY_LENGTH = 12


class KeyStanding(Enum):
    """What xAI would do with a request carrying this key."""

    OK = "ok"
    INVALID = "invalid"
    BLOCKED = "blocked"
    NO_CREDIT = "nocredit"


def xai_redacted(key: str) -> str:
    """The redaction xAI uses in its invalid-key message: first two and last two characters."""
    return f"{key[:2]}***{key[-2:]}" if len(key) >= 4 else "***"


def _uuid(key: str, purpose: str) -> str:
    digest = hashlib.sha256(f"{purpose}:{key}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


@dataclass(frozen=True)
class ApiKey:
    """A presented key and the account facts derived from it; never logged or stored raw."""

    secret: str

    @property
    def standing(self) -> KeyStanding:
        lowered = self.secret.lower()
        if not self.secret.startswith(KEY_PREFIX) or len(self.secret) < MIN_KEY_LENGTH or "invalid" in lowered:
            return KeyStanding.INVALID
        if "blocked" in lowered:
            return KeyStanding.BLOCKED
        if "nocredit" in lowered:
            return KeyStanding.NO_CREDIT
        return KeyStanding.OK

    @property
    def fingerprint(self) -> str:
        """A stable, non-reversible handle for per-key state (prompt cache, stored responses)."""
        return hashlib.sha256(self.secret.encode()).hexdigest()[:32]

    @property
    def team_id(self) -> str:
        return _uuid(self.secret, "team")

    @property
    def user_id(self) -> str:
        return _uuid(self.secret, "user")

    @property
    def api_key_id(self) -> str:
        return _uuid(self.secret, "api-key")

    def check(self, *, allow_blocked: bool = False) -> None:
        """Raise the error xAI answers this key with, if any.

        Raises XAIFailure: 400 for an invalid key, 403 for a blocked one, 429 for one without credits.
        `allow_blocked` lets `/v1/api-key` describe blocked and credit-less keys instead of refusing them.
        """
        standing = self.standing
        if standing is KeyStanding.INVALID:
            raise XAIFailure(
                400,
                f"Incorrect API key provided: {xai_redacted(self.secret)}. "
                "You can obtain an API key from https://console.x.ai.",
            )
        if allow_blocked:
            return
        if standing is KeyStanding.BLOCKED:
            raise XAIFailure(
                403,
                f"The API key {xai_redacted(self.secret)} of team {self.team_id} is blocked. "
                "Ask a team admin to unblock it or create a new key on https://console.x.ai.",
            )
        if standing is KeyStanding.NO_CREDIT:
            raise credits_exhausted(self.team_id)

    def info(self) -> dict[str, object]:
        """The twelve fields of `GET /v1/api-key`."""
        blocked = self.standing is KeyStanding.BLOCKED
        return {
            "redacted_api_key": f"{KEY_PREFIX}...{self.secret[-4:]}",
            "user_id": self.user_id,
            "name": f"simulated-key-{self.fingerprint[:6]}",
            "create_time": "2026-03-01T10:00:00.000000Z",
            "modify_time": "2026-03-02T11:00:00.000000Z",
            "modified_by": self.user_id,
            "team_id": self.team_id,
            "acls": ["api-key:model:*", "api-key:endpoint:*"],
            "api_key_id": self.api_key_id,
            "team_blocked": blocked,
            "api_key_blocked": blocked,
            "api_key_disabled": False,
        }


def credits_exhausted(team_id: str) -> XAIFailure:
    """xAI's 429 for a team that used all its credits or hit its spending limit."""
    return XAIFailure(
        429,
        f"Your team {team_id} has either used all available credits or reached its monthly spending limit. "
        "To continue making API requests, please purchase more credits or raise your spending limit.",
    )


def rate_limited(team_id: str, headers: dict[str, str] | None = None) -> XAIFailure:
    """xAI's 429 for a team over its request rate."""
    return XAIFailure(
        429,
        f"Too many requests for team {team_id}. Your team's rate limit was exceeded; "
        "you can view your team rate limits at https://console.x.ai.",
        headers=headers,
    )


def key_from_authorization(header: str | None) -> ApiKey:
    """The key in an `Authorization: Bearer …` header.

    Raises XAIFailure 401 when the header is missing or not a bearer token.
    """
    if not header:
        raise XAIFailure(
            401,
            "No API key provided. Send your xAI API key in the Authorization header: "
            "`Authorization: Bearer xai-...`. You can obtain an API key from https://console.x.ai.",
        )
    scheme, _, secret = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise XAIFailure(
            401,
            "The Authorization header must be `Bearer <your xAI API key>`. "
            "You can obtain an API key from https://console.x.ai.",
        )
    return ApiKey(secret.strip())
