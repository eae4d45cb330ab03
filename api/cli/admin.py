"""The service's administration on its machine: ``planner keys`` (API keys, stored hashed),
``planner audit`` (the audit trail), ``planner backup`` and ``planner restore``."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from api.cli.common import console, err, setup_logging
from api.cli.language import Typer
from planner.i18n import N_, _

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

commands = Typer()

keys = Typer(help=N_("API keys of the HTTP service (stored hashed)."), no_args_is_help=True)


def _key_sessions() -> sessionmaker[Session]:
    from api.core.settings import Settings
    from api.db.session import make_engine, session_factory, upgrade

    settings = Settings()
    upgrade(settings.url)
    return session_factory(make_engine(settings.url))


@keys.command("create", help=N_("Create a key and print it once (only its hash is stored)."))
def keys_create(
    role: Annotated[
        str,
        typer.Option("--role", help=N_("national, viewer or province:CODE (e.g. 520000).")),
    ],
    name: Annotated[str, typer.Option("--name", help=N_("Who holds the key."))] = "",
) -> None:
    """Create a key and print it once (only its hash is stored)."""
    from api.core.api_keys import KeyProblem, create_key

    with _key_sessions()() as session:
        try:
            row, key = create_key(session, role, name)
        except KeyProblem as exc:
            err.print(str(exc))
            raise typer.Exit(2) from None
        _record_key_event(session, "key-create", row.prefix, f"role {role}")
    console.print(
        _("key {prefix} ({role}) created; it is shown only now:", prefix=row.prefix, role=role)
    )
    sys.stdout.write(key + "\n")


_KEY_COLUMNS = (N_("prefix"), N_("role"), N_("name"), N_("created"), N_("revoked"))


@keys.command("list", help=N_("List the keys (prefix, role, name, created, revoked)."))
def keys_list() -> None:
    """List the keys (prefix, role, name, created, revoked)."""
    from api.core.api_keys import list_keys

    with _key_sessions()() as session:
        rows = list_keys(session)
    table = Table(*(_(c) for c in _KEY_COLUMNS))
    for r in rows:
        role = f"province:{r.province}" if r.role == "province" else r.role
        revoked = f"{r.revoked_at:%Y-%m-%d %H:%M}" if r.revoked_at else ""
        table.add_row(r.prefix, role, r.name, f"{r.created_at:%Y-%m-%d %H:%M}", revoked)
    console.print(table)


@keys.command("revoke", help=N_("Revoke a key: it stops working at once."))
def keys_revoke(prefix: Annotated[str, typer.Argument(help=N_("The key's prefix."))]) -> None:
    """Revoke a key: it stops working at once."""
    from api.core.api_keys import KeyProblem, revoke_key

    with _key_sessions()() as session:
        try:
            revoke_key(session, prefix)
        except KeyProblem as exc:
            err.print(str(exc))
            raise typer.Exit(2) from None
        _record_key_event(session, "key-revoke", prefix, "revoked")
    console.print(_("key {prefix} revoked", prefix=prefix))


def _record_key_event(session: Session, action: str, prefix: str, detail: str) -> None:
    """Audit a key made or revoked on this machine (role ``cli``; the key itself never)."""
    import getpass

    from api.core.audit import Event, write

    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no login name and no password entry
        user = "unknown user"
    event = Event(action, "ok", address="local", role="cli", key_prefix=prefix, object_id=prefix)
    event.detail = f"{detail} by {user}"
    write(session, [event])


@commands.command(
    "audit",
    help=N_(
        "The service's audit trail, newest first: who uploaded, planned, cancelled, downloaded."
    ),
)
def audit(
    since: Annotated[
        str, typer.Option("--since", help=N_("A span (30m, 12h, 1d, 2w) or an ISO time."))
    ] = "1d",
    action: Annotated[
        str | None, typer.Option("--action", help=N_("Only this action (e.g. failed-auth)."))
    ] = None,
    province: Annotated[
        str | None, typer.Option("--province", help=N_("Only keys of this province (520000)."))
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help=N_("At most this many events."))] = 1000,
    json_out: Annotated[bool, typer.Option("--json", help=N_("One JSON object per line."))] = False,
) -> None:
    """The service's audit trail, newest first: who uploaded, planned, cancelled, downloaded."""
    import json

    from api.core.audit import ACTIONS, parse_since, query
    from api.server.schemas import AuditPublic

    try:
        start = parse_since(since)
    except ValueError as exc:
        err.print(str(exc))
        raise typer.Exit(2) from None
    if action is not None and action not in ACTIONS:
        err.print(
            _(
                "--action {action!r}; expected one of {actions}",
                action=action,
                actions=", ".join(ACTIONS),
            )
        )
        raise typer.Exit(2)
    with _key_sessions()() as session:
        rows = [
            AuditPublic.model_validate(r)
            for r in query(session, start, None, action, province, limit)
        ]
    if json_out:
        for r in rows:
            sys.stdout.write(json.dumps(r.model_dump(mode="json"), ensure_ascii=False) + "\n")
        return
    # one line per event, fixed columns, so that grep and awk work on it; the machine words
    # (actions, outcomes, roles) stay as stored, the header is in the user's language
    line = "{:19}  {:11}  {:7}  {:>6}  {:15}  {:8}  {:15}  {:32}  {}\n"
    sys.stdout.write(_columns(line, [_(n) for n in _AUDIT_COLUMNS]))
    for r in rows:
        sys.stdout.write(
            line.format(
                f"{r.at:%Y-%m-%d %H:%M:%S}",
                r.action,
                r.outcome,
                "-" if r.status is None else r.status,
                r.role or "-",
                r.key_prefix or "-",
                r.address or "-",
                r.object_id or "-",
                (r.detail or "") + (f" x{r.count:,}" if r.count > 1 else ""),
            )
        )
    err.print(
        _("{n} event(s) since {start} UTC", n=len(rows), start=start.strftime("%Y-%m-%d %H:%M:%S"))
    )


_AUDIT_COLUMNS = (
    N_("time (UTC)"),
    N_("action"),
    N_("outcome"),
    N_("status"),
    N_("role"),
    N_("key"),
    N_("address"),
    N_("object"),
    N_("detail"),
)


def _columns(line: str, names: list[str]) -> str:
    """The header of a fixed-column listing; a column's width counts a wide (CJK) character
    as two, as a terminal shows it."""
    from rich.cells import cell_len

    fields = re.findall(r"\{:(>?)(\d+)\}", line)
    out = []
    for k, name in enumerate(names):
        if k >= len(fields):
            out.append(name)
            continue
        right, width = fields[k]
        pad = " " * max(int(width) - cell_len(name), 0)
        out.append(pad + name if right else name + pad)
    return "  ".join(out).rstrip() + "\n"


@commands.command(
    "backup",
    help=N_("Copy the service's database and data folder into DEST (safe while the server runs)."),
)
def backup(
    dest: Annotated[Path, typer.Argument(help=N_("A new, empty folder for the backup."))],
) -> None:
    """Copy the service's database and data folder into DEST (safe while the server runs)."""
    from api.core.backup import BackupProblem
    from api.core.backup import backup as run_backup
    from api.core.settings import Settings

    setup_logging(False)
    try:
        manifest = run_backup(Settings(), dest)
    except BackupProblem as exc:
        err.print(str(exc))
        raise typer.Exit(1) from None
    console.print(
        _(
            "backup of the {database} database (schema {revision}) and {n} file(s) in "
            "[bold]{dest}[/]",
            database=manifest.database,
            revision=manifest.revision,
            n=len(manifest.files),
            dest=dest,
        )
    )


@commands.command(
    "restore", help=N_("Bring a backup back into the configured, empty, data folder and database.")
)
def restore(
    source: Annotated[Path, typer.Argument(help=N_("A folder written by `planner backup`."))],
) -> None:
    """Bring a backup back into the configured, empty, data folder and database."""
    from api.core.backup import BackupProblem
    from api.core.backup import restore as run_restore
    from api.core.settings import Settings

    setup_logging(False)
    settings = Settings()
    try:
        manifest = run_restore(settings, source)
    except BackupProblem as exc:
        err.print(str(exc))
        raise typer.Exit(1) from None
    console.print(
        _(
            "restored the backup of {created} into [bold]{folder}[/] ({database}); start the "
            "server with `planner serve`",
            created=manifest.created_at,
            folder=settings.data_dir,
            database=settings.url.split("@")[-1],
        )
    )
