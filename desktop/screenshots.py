"""`python -m desktop.screenshots OUTDIR [--dark]`: renders each dashboard page with demo data to PNG files."""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer, SignalInstance
from PySide6.QtWidgets import QApplication

from desktop.autostart import Autostart
from desktop.context import DesktopContext
from desktop.supervisor import ServerSupervisor, server_command
from desktop.windows.dashboard import PAGE_NAMES, DashboardWindow
from desktop.windows.store_access import StoreAccess
from desktop.windows.theme import palette
from desktop.worker import Worker
from server.config import Settings, load_settings
from server.store import ImportedConversation, NewMessage, RequestRecord, Store

DEMO_KEY = "xai-demo-screenshot-key-0001"
WAIT_MS = 30_000
MODELS = (("grok-4", 30_000), ("grok-4-fast", 2_000), ("grok-3-mini", 800))
TOPICS = (
    "Refactor the billing service",
    "Summarise the Q3 incident report",
    "Draft release notes for 2.4",
    "Explain WAL mode in SQLite",
    "Plan a trip to Lisbon",
    "Review the onboarding flow copy",
)


def seed_demo_data(store: Store, *, now: float | None = None, seed: int = 7) -> None:
    """Thirty days of plausible usage, a few failures and some conversations (all made up, deterministic)."""
    rng = random.Random(seed)  # noqa: S311 - made-up demo figures, not secrets
    now = time.time() if now is None else now
    for day in range(30):
        for _ in range(rng.randint(4, 14)):
            model, price = rng.choice(MODELS)
            prompt, completion = rng.randint(200, 4000), rng.randint(50, 1500)
            failed = rng.random() < 0.04
            store.record_request(
                RequestRecord(
                    id=f"demo-{day}-{rng.randrange(10**9)}",
                    tool=rng.choice(("chat", "chat", "chat_with_context", "web_search")),
                    model=model,
                    endpoint="/v1/chat/completions",
                    ts=now - day * 86_400 - rng.randint(0, 80_000),
                    status=503 if failed else 200,
                    error="UpstreamUnavailableError: xAI answered 503; retried 3 times" if failed else None,
                    prompt_tokens=0 if failed else prompt,
                    completion_tokens=0 if failed else completion,
                    cost_ticks=0 if failed else (prompt + completion) * price,
                    latency_ms=rng.uniform(300, 4000),
                    client=rng.choice(("claude-desktop", "cursor", "claude-code")),
                )
            )
    conversations: list[ImportedConversation] = []
    for index in range(60):
        topic = TOPICS[index % len(TOPICS)]
        at = now - index * 7_200
        conversations.append(
            ImportedConversation(
                title=f"{topic} ({index + 1})",
                model="grok-4",
                client="claude-desktop",
                created_at=at - 600,
                updated_at=at,
                messages=[
                    NewMessage(role="user", content=f"{topic}: what should I look at first?"),
                    NewMessage(
                        role="assistant",
                        content="Start with the parts that change most often, then the error paths.\n\n"
                        "1. Read the tests that fail most.\n2. List the slow queries.\n"
                        "3. Write down what surprised you.",
                        model="grok-4",
                    ),
                ],
            )
        )
    store.import_conversations(conversations)


def wait_for(signal: SignalInstance, timeout_ms: int = WAIT_MS) -> bool:
    """Run the event loop until `signal` fires or the timeout passes; True when it fired."""
    loop = QEventLoop()
    fired: list[bool] = []
    signal.connect(lambda *_: (fired.append(True), loop.quit()))
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    return bool(fired)


def settle(ms: int = 150) -> None:
    """Let pending paints and queued results run."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def render(out_dir: Path, *, home: Path, dark: bool = False) -> list[Path]:
    """Render every page of a dashboard over demo data in `home` to `out_dir`; returns the PNG paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (home / "settings.toml").write_text(
        "# Written by the screenshot script\n[budgets]\ndaily_usd = 5\nmonthly_usd = 100\n\n"
        "[desktop]\ndemo_mode = true\n",
        encoding="utf-8",
    )
    settings: Settings = load_settings({"GROK_MCP_HOME": str(home)})
    with Store.open(settings.db_path) as store:
        seed_demo_data(store)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    app.setPalette(palette(dark=dark))
    worker = Worker()
    store_access = StoreAccess(settings.db_path, worker)
    environment = {**os.environ, "GROK_MCP_HOME": str(home), "XAI_API_KEY": DEMO_KEY}
    supervisor = ServerSupervisor(settings, simulate=True)
    context = DesktopContext(
        settings=settings,
        supervisor=supervisor,
        cli_command=server_command(),
        worker=worker,
        store=store_access,
        cli_environment=environment,
    )
    window = DashboardWindow(context, autostart=Autostart(home=home / "autostart-home", environ={}))
    window.resize(1200, 780)
    window.show()
    written: list[Path] = []
    try:
        for number, name in enumerate(PAGE_NAMES, start=1):
            if name == "Overview":
                window.show_page(name)
                wait_for(window.overview.overview_loaded)
            elif name == "Usage":
                with_signal = window.usage.usage_loaded
                window.show_page(name)
                wait_for(with_signal)
            elif name == "Conversations":
                window.show_page(name)
                if window.conversations.model.rowCount() == 0:
                    wait_for(window.conversations.model.page_loaded)
                window.conversations.list_view.selectRow(0)
                wait_for(window.conversations.transcript_shown)
            elif name == "Keys":
                window.show_page(name)
                wait_for(window.keys.action_finished)
            elif name == "Settings":
                window.show_page(name)
                if window.settings.is_loading_models:
                    wait_for(window.settings.models_finished)
            else:
                window.show_page(name)
                for line in (
                    "Grok MCP 0.1.0 over HTTP at http://127.0.0.1:8765/mcp (demo mode)",
                    "INFO server.http: GET /healthz 200",
                    "INFO server.tools.chat: chat grok-4 1,204 tokens $0.0361 in 1.9 s",
                ):
                    supervisor.log_appended.emit(line)
            settle()
            path = out_dir / f"{number:02d}-{name.lower()}{'-dark' if dark else ''}.png"
            if not window.grab().save(str(path)):
                raise OSError(f"Could not write {path}")
            written.append(path)
    finally:
        window.close()
        worker.shutdown()
        store_access.close()
        supervisor.shutdown()
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m desktop.screenshots", description=__doc__)
    parser.add_argument("out_dir", type=Path, help="where the PNG files go (docs/screenshots for the README)")
    parser.add_argument("--dark", action="store_true", help="use the dark palette")
    args = parser.parse_args(argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    with tempfile.TemporaryDirectory(prefix="grok-mcp-screenshots-") as scratch:
        home = Path(scratch)
        os.environ["GROK_MCP_HOME"] = str(home)  # this process only: the demo data never touches the user's
        paths = render(args.out_dir, home=home, dark=args.dark)
    for path in paths:
        sys.stdout.write(f"{path}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
