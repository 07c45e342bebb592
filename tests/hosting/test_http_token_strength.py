"""Weak HTTP tokens: a bearer token under 32 characters is refused at start, and redaction leaves our words alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from grok_mcp import secrets
from grok_mcp.errors import ConfigError, ExitCode
from grok_mcp.logs import RedactingFilter

from tests.support.keychain import KeychainSession
from tests.support.processes import free_port, run_cli, server_env

HOW_TO_MAKE_ONE = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
def test_serve_refuses_a_one_letter_token_and_says_how_to_make_a_strong_one(isolated_home: Path, host: str) -> None:
    done = run_cli(
        "serve",
        "--transport",
        "http",
        "--simulate",
        "--host",
        host,
        "--port",
        str(free_port()),
        env=server_env(isolated_home, GROK_MCP_HTTP_TOKEN="a"),
        timeout=20,
    )
    assert done.returncode == ExitCode.BAD_USAGE, done.stderr
    assert "at least 32 characters" in done.stderr
    assert HOW_TO_MAKE_ONE in done.stderr
    assert "GROK_MCP_HTTP_TOKEN" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_31_character_token_is_refused_and_32_are_taken() -> None:
    with pytest.raises(ConfigError, match="31 characters"):
        secrets.get_http_token({"GROK_MCP_HTTP_TOKEN": "x" * 31})
    assert secrets.get_http_token({"GROK_MCP_HTTP_TOKEN": "x" * 32}) == "x" * 32


def test_a_short_token_in_the_keychain_is_refused_with_how_to_replace_it(clean_keychain: KeychainSession) -> None:
    import keyring

    keyring.set_password(secrets.SERVICE, secrets.HTTP_TOKEN_ITEM, "short")
    with pytest.raises(ConfigError) as refused:
        secrets.get_http_token({})
    assert "keychain" in str(refused.value)
    assert "short" not in str(refused.value)
    assert refused.value.exit_code == ExitCode.BAD_USAGE


@pytest.mark.parametrize(
    "message",
    [
        "Serving on 0.0.0.0, which is reachable from other machines; the bearer token is required.",
        "Clients send the bearer token in a header; Bearer tokens-and-keys are checked.",
    ],
)
def test_redaction_leaves_the_words_of_our_own_messages_alone(message: str) -> None:
    assert RedactingFilter().redact(message) == message


def test_redaction_still_hides_a_real_bearer_credential_of_any_shape_we_accept() -> None:
    token = secrets.get_http_token({"GROK_MCP_HTTP_TOKEN": "k" * 16 + "-" + "9" * 15}) or ""
    text = RedactingFilter().redact(f"Authorization: Bearer {token} and bearer eyJhbGciOi.eyJzdWIiOiIx.c2ln")
    assert token not in text
    assert "eyJhbGciOi" not in text
