"""The redaction filter: no key or token survives into a log line, a traceback or a log file."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from grok_mcp.logs import configure_logging, redaction_filter, register_secret


def test_keys_tokens_and_registered_secrets_are_redacted_in_messages_and_tracebacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "opaque-http-token-123456"
    register_secret(secret)
    configure_logging("DEBUG", log_dir=tmp_path)
    log = logging.getLogger("test.redaction")
    log.info("key %s and header %s", "xai-AbCdEf0123456789", "Authorization: Bearer abc.def-ghi.jkl-mno")
    log.warning("token in text: %s", secret)
    try:
        raise RuntimeError(f"failed with xai-SECRETSECRET and {secret}")
    except RuntimeError:
        log.exception("boom")
    for handler in logging.getLogger().handlers:
        handler.flush()
    err = capsys.readouterr().err
    written = (tmp_path / "grok-mcp.log").read_text(encoding="utf-8")
    for output in (err, written):
        assert "[redacted]" in output
        for leaked in ("AbCdEf0123456789", "abc.def-ghi", secret, "SECRETSECRET"):
            assert leaked not in output
        assert "RuntimeError" in output
    assert capsys.readouterr().out == ""


def test_short_values_are_not_registered_as_secrets() -> None:
    register_secret("abc")
    assert redaction_filter().redact("abc") == "abc"
