"""``planner serve``: the HTTP service (the JSON API, the office pages)."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli.common import console, setup_logging
from api.cli.language import Typer
from planner import i18n
from planner.i18n import N_, _

commands = Typer()


@commands.command(
    "serve",
    help=N_(
        "Start the HTTP service: the JSON API, the office pages at /office and the index "
        "(settings from PLANNER_* variables; see docs/api.md)."
    ),
)
def serve(
    host: Annotated[str, typer.Option("--host", help=N_("Address to listen on."))] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help=N_("Port to listen on."))] = 8000,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help=N_("Log every request."))
    ] = False,
    trusted_proxy: Annotated[
        list[str] | None,
        typer.Option(
            "--trusted-proxy",
            help=N_(
                "Address of a reverse proxy whose X-Forwarded-For and X-Forwarded-Proto are "
                "believed (repeat for several; default PLANNER_TRUSTED_PROXIES, else none)."
            ),
        ),
    ] = None,
) -> None:
    """Start the HTTP service (settings from PLANNER_* variables; see docs/api.md)."""
    import uvicorn

    from api.core.settings import Settings
    from api.server.app import create_app

    setup_logging(True)
    settings = Settings()
    if trusted_proxy:
        settings = settings.model_copy(update={"trusted_proxies": ",".join(trusted_proxy)})
    proxies = [p.strip() for p in settings.trusted_proxies.split(",") if p.strip()]
    console.print(
        _(
            "data in [bold]{folder}[/], database {url}; pages in {language} unless the browser "
            "asks for another language",
            folder=settings.data_dir.resolve(),
            url=_safe_url(settings.url),
            language=i18n.language(),
        )
    )
    if proxies:
        console.print(
            _("X-Forwarded-For and X-Forwarded-Proto believed from {proxies}", proxies=proxies)
        )
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level="info",
        access_log=access_log,
        # forwarded headers only from the proxies the operator named (uvicorn's default would
        # believe any client on 127.0.0.1, who could then choose its address)
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
    )


def _safe_url(url: str) -> str:
    """A database URL without its password (for the terminal)."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
