"""Install the map assets pinned by ``package-lock.json`` without npm.

``make assets`` runs ``python3 maps/assets/fetch.py``: standard library only, so a machine
with python3 and make is enough. For every package of the lock file (npm lockfile v2/v3,
``packages`` section) it downloads the registry tarball, checks it against the lock's
``integrity`` (Subresource Integrity, the strongest of sha512/sha384/sha256), refuses any
mismatch, and unpacks it the way npm does: the tarball's top-level folder (``package/``)
is stripped, the files land in the lock's path (``node_modules/<name>``, nested folders
included), symbolic and hard links are skipped, and an entry naming an absolute path or
leaving its folder with ``..`` aborts the install. Everything is unpacked into a fresh
folder first, which replaces ``node_modules`` only when every package is in; the marker
file :data:`MARKER` (the lock's SHA-256 and the installed versions) is written last.

A mirror: ``WESTPLAN_NPM_REGISTRY`` (or npm's own ``npm_config_registry``) replaces
``https://registry.npmjs.org/`` in the tarball URLs.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import logging
import os
import posixpath
import shutil
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

__all__ = ["MARKER", "FetchError", "install", "registry", "tarball_url"]

log = logging.getLogger("westplan.assets")

DEFAULT_REGISTRY = "https://registry.npmjs.org/"
MARKER = ".westplan-assets.json"
"""Written into ``node_modules`` after a complete install (the Makefile's target)."""

_HERE = Path(__file__).resolve().parent
_ALGORITHMS = ("sha512", "sha384", "sha256")  # strongest first


class FetchError(RuntimeError):
    """A package could not be downloaded, verified or unpacked."""


def registry(env: Mapping[str, str] | None = None) -> str:
    """The registry base URL, ending in ``/``: ``WESTPLAN_NPM_REGISTRY``, then npm's setting."""
    env = os.environ if env is None else env
    base = (
        env.get("WESTPLAN_NPM_REGISTRY")
        or env.get("npm_config_registry")
        or env.get("NPM_CONFIG_REGISTRY")
        or DEFAULT_REGISTRY
    )
    return base.rstrip("/") + "/"


def tarball_url(name: str, entry: Mapping[str, object], base: str) -> str:
    """Where to download a package: the lock's ``resolved`` URL or the registry's convention.

    A ``resolved`` URL on the public registry is moved to ``base``; without one the URL is
    ``{base}{name}/-/{name without scope}-{version}.tgz``, as npm names registry tarballs.
    """
    resolved = entry.get("resolved")
    if isinstance(resolved, str) and resolved:
        if resolved.startswith(DEFAULT_REGISTRY):
            return base + resolved.removeprefix(DEFAULT_REGISTRY)
        return resolved
    version = entry.get("version")
    if not isinstance(version, str) or not version:
        raise FetchError(f"{name}: the lock file gives neither 'resolved' nor 'version'")
    return f"{base}{name}/-/{name.rpartition('/')[2]}-{version}.tgz"


def _check_integrity(name: str, url: str, data: bytes, integrity: object) -> None:
    hashes: dict[str, list[str]] = {}
    for token in str(integrity or "").split():
        kind, _, digest = token.partition("-")
        hashes.setdefault(kind, []).append(digest.split("?")[0])
    algorithm = next((a for a in _ALGORITHMS if a in hashes), None)
    if algorithm is None:
        raise FetchError(
            f"{name}: the lock file has no sha512/sha384/sha256 integrity ({integrity!r})"
        )
    actual = base64.b64encode(hashlib.new(algorithm, data).digest()).decode("ascii")
    if actual not in hashes[algorithm]:
        raise FetchError(
            f"{name}: integrity mismatch for {url}: expected {algorithm}-"
            f"{hashes[algorithm][0]}, got {algorithm}-{actual}; refusing to install it"
        )


def _download(name: str, url: str, attempts: int, pause: float) -> bytes:
    reason: object = None
    for attempt in range(1, attempts + 1):
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                return response.read()
        except urllib.error.HTTPError as error:
            reason = f"HTTP {error.code} {error.reason}"
            if error.code < 500 and error.code != 429:
                break  # not found, forbidden: trying again will not help
        except (OSError, ValueError) as error:  # URLError, timeouts, resets
            reason = getattr(error, "reason", None) or error
        if attempt < attempts:
            log.warning("%s: %s (attempt %d of %d), retrying", url, reason, attempt, attempts)
            time.sleep(pause * attempt)
    raise FetchError(
        f"{name}: could not download {url}: {reason}. Check the network or set "
        "WESTPLAN_NPM_REGISTRY to a reachable npm registry mirror."
    )


def _unpack(name: str, url: str, data: bytes, target: Path) -> None:
    """Unpack a package tarball into ``target`` as npm does (first folder stripped)."""
    target.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
            for member in archive:
                path = member.name.replace("\\", "/")
                parts = path.split("/")
                if path.startswith("/") or ".." in parts or ":" in parts[0]:
                    raise FetchError(
                        f"{name}: {url} holds the unsafe path {member.name!r}; refusing it"
                    )
                rel = posixpath.normpath("/".join(parts[1:])) if len(parts) > 1 else "."
                if rel == "." or not (member.isfile() or member.isdir()):
                    continue  # the top folder itself; links and devices, as npm skips them
                dest = target.joinpath(*rel.split("/"))
                if member.isdir():
                    dest.mkdir(parents=True, exist_ok=True)
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)
                source = archive.extractfile(member)
                assert source is not None  # a regular file always has content
                dest.write_bytes(source.read())
                dest.chmod(0o755 if member.mode & 0o111 else 0o644)
    except (tarfile.TarError, EOFError, OSError) as error:
        raise FetchError(f"{name}: cannot unpack {url}: {error}") from error


def install(
    lock_file: Path,
    dest: Path,
    *,
    base: str | None = None,
    attempts: int = 3,
    pause: float = 2.0,
    workers: int = 8,
) -> list[str]:
    """Install every package of a lock file into ``dest`` (a ``node_modules`` folder).

    Parameters
    ----------
    lock_file : pathlib.Path
        An npm ``package-lock.json`` (lockfile version 2 or 3).
    dest : pathlib.Path
        The ``node_modules`` folder; replaced as a whole when all packages are in.
    base : str, optional
        Registry base URL; default :func:`registry`.
    attempts, pause : int, float
        Download attempts per package and the pause before the n-th retry (n * pause s).
    workers : int
        Parallel downloads.

    Returns
    -------
    list of str
        The installed paths of the lock file (``node_modules/leaflet``, ...).

    Raises
    ------
    FetchError
        Naming the package and URL, if a download, integrity check or unpacking fails, or
        the lock file is not usable. ``dest`` is then left as it was.
    """
    raw = lock_file.read_bytes()
    try:
        packages = json.loads(raw)["packages"]
    except (ValueError, KeyError, TypeError) as error:
        raise FetchError(
            f"{lock_file}: not an npm lock file with a 'packages' section "
            f"(lockfileVersion 2 or 3): {error}"
        ) from error
    base = registry() if base is None else base.rstrip("/") + "/"
    jobs: list[tuple[str, str, dict[str, object]]] = []
    for key, entry in packages.items():
        if not key:
            continue  # the root project itself
        parts = key.split("/")
        if parts[0] != "node_modules" or ".." in parts or "" in parts:
            raise FetchError(f"{lock_file}: unexpected package path {key!r}")
        if entry.get("link") or entry.get("dev"):
            continue
        jobs.append((key, entry.get("name") or key.rpartition("node_modules/")[2], entry))

    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".node_modules-", dir=dest.parent))
    try:

        def one(job: tuple[str, str, dict[str, object]]) -> None:
            key, name, entry = job
            url = tarball_url(name, entry, base)
            data = _download(name, url, attempts, pause)
            _check_integrity(name, url, data, entry.get("integrity"))
            _unpack(name, url, data, staging.joinpath(*key.split("/")[1:]))

        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            list(pool.map(one, jobs))  # re-raises the first failure
        marker = {
            "lock_sha256": hashlib.sha256(raw).hexdigest(),
            "packages": {key: entry.get("version") for key, _, entry in jobs},
        }
        (staging / MARKER).write_text(json.dumps(marker, indent=1) + "\n", encoding="utf-8")
        if dest.exists():
            shutil.rmtree(dest)
        staging.rename(dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [key for key, _, _ in jobs]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lock", type=Path, default=_HERE / "package-lock.json")
    parser.add_argument("--dest", type=Path, default=_HERE / "node_modules")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    start = time.perf_counter()
    try:
        installed = install(args.lock, args.dest)
    except FetchError as error:
        print(f"make assets: {error}", file=sys.stderr)
        return 1
    log.info(
        "map assets: %d packages from %s into %s (%.1f s)",
        len(installed),
        registry(),
        args.dest,
        time.perf_counter() - start,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
