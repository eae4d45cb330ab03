"""The npm-free installer of the map assets (maps/assets/fetch.py), without the network.

Tarballs are built here, hashed here (SRI: algorithm, '-', base64 of the digest) and served
from a loopback HTTP server laid out as an npm registry ({name}/-/{basename}-{version}.tgz).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import http.server
import importlib.util
import io
import json
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.paths import REPO

_SPEC = importlib.util.spec_from_file_location(
    "westplan_fetch_assets", REPO / "maps" / "assets" / "fetch.py"
)
assert _SPEC is not None and _SPEC.loader is not None
fetch = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(fetch)


def tarball(files: dict[str, bytes | None], links: dict[str, str] | None = None) -> bytes:
    """A gzipped tar; a value of None is a directory; ``links`` (symbolic) come first."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            archive.addfile(info)
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            if content is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                archive.addfile(info)
            else:
                info.size, info.mode = len(content), 0o755 if name.endswith(".sh") else 0o644
                archive.addfile(info, io.BytesIO(content))
    return out.getvalue()


def sri(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A loopback HTTP server over a folder: (base URL, folder)."""
    root = tmp_path / "registry"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", root
    finally:
        server.shutdown()
        server.server_close()


def publish(root: Path, name: str, version: str, data: bytes) -> None:
    path = root / name / "-" / f"{name.split('/')[-1]}-{version}.tgz"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def write_lock(path: Path, packages: dict[str, dict[str, str]]) -> Path:
    lock = {"name": "x", "lockfileVersion": 3, "packages": {"": {"name": "x"}, **packages}}
    path.write_text(json.dumps(lock), encoding="utf-8")
    return path


def test_layout_as_npm(registry: tuple[str, Path], tmp_path: Path) -> None:
    base, root = registry
    lib = tarball(
        {
            "package": None,
            "package/package.json": b'{"name": "lib"}',
            "package/dist/lib.js": b"var lib = 1;",
            "package/bin/run.sh": b"#!/bin/sh\n",
        }
    )
    scoped = tarball({"package/src/poly.js": b"export {}"})  # no directory entries
    nested = tarball({"other-top/index.js": b"// v0.1"})  # npm strips any top folder
    publish(root, "lib", "1.2.3", lib)
    publish(root, "@scope/poly", "2.0.0", scoped)
    publish(root, "dep", "0.1.0", nested)
    lock = write_lock(
        tmp_path / "package-lock.json",
        {
            "node_modules/lib": {"version": "1.2.3", "integrity": sri(lib)},
            # sha1 too, as old locks carry: the sha512 is the one checked
            "node_modules/@scope/poly": {
                "version": "2.0.0",
                "integrity": f"sha1-AAAA {sri(scoped)}",
            },
            "node_modules/lib/node_modules/dep": {"version": "0.1.0", "integrity": sri(nested)},
            "node_modules/devonly": {"version": "9.9.9", "integrity": "sha512-x", "dev": True},
        },
    )
    dest = tmp_path / "node_modules"
    (dest / "stale").mkdir(parents=True)  # replaced as a whole, like npm ci

    installed = fetch.install(lock, dest, base=base)

    assert sorted(installed) == [
        "node_modules/@scope/poly",
        "node_modules/lib",
        "node_modules/lib/node_modules/dep",
    ]
    files = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
    assert files == [
        ".westplan-assets.json",
        "@scope/poly/src/poly.js",
        "lib/bin/run.sh",
        "lib/dist/lib.js",
        "lib/node_modules/dep/index.js",
        "lib/package.json",
    ]
    assert (dest / "lib/dist/lib.js").read_bytes() == b"var lib = 1;"
    assert (dest / "lib/node_modules/dep/index.js").read_bytes() == b"// v0.1"
    assert (dest / "lib/bin/run.sh").stat().st_mode & 0o111
    assert not (dest / "lib/dist/lib.js").stat().st_mode & 0o111
    marker = json.loads((dest / fetch.MARKER).read_text(encoding="utf-8"))
    assert marker["lock_sha256"] == hashlib.sha256(lock.read_bytes()).hexdigest()
    assert marker["packages"]["node_modules/@scope/poly"] == "2.0.0"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".node_modules")] == []


def test_mirror_replaces_the_public_registry() -> None:
    entry = {
        "version": "1.9.4",
        "resolved": "https://registry.npmjs.org/leaflet/-/leaflet-1.9.4.tgz",
    }
    mirror = fetch.registry({"WESTPLAN_NPM_REGISTRY": "https://mirror.example/npm"})
    assert mirror == "https://mirror.example/npm/"
    assert fetch.tarball_url("leaflet", entry, mirror) == (
        "https://mirror.example/npm/leaflet/-/leaflet-1.9.4.tgz"
    )
    assert fetch.registry({"npm_config_registry": "http://a/"}) == "http://a/"
    assert fetch.registry({}) == "https://registry.npmjs.org/"
    assert fetch.tarball_url("@mapbox/polyline", {"version": "1.2.1"}, "http://m/") == (
        "http://m/@mapbox/polyline/-/polyline-1.2.1.tgz"
    )


def test_resolved_url_is_used(registry: tuple[str, Path], tmp_path: Path) -> None:
    base, root = registry
    data = tarball({"package/a.js": b"a"})
    (root / "elsewhere.tgz").write_bytes(data)
    lock = write_lock(
        tmp_path / "lock.json",
        {
            "node_modules/a": {
                "version": "1.0.0",
                "resolved": base + "elsewhere.tgz",
                "integrity": sri(data),
            }
        },
    )
    fetch.install(lock, tmp_path / "nm", base="http://127.0.0.1:9/")  # base unused
    assert (tmp_path / "nm/a/a.js").read_bytes() == b"a"


def test_integrity_mismatch_is_refused(registry: tuple[str, Path], tmp_path: Path) -> None:
    base, root = registry
    good = tarball({"package/leaflet.js": b"L = {};"})
    evil = tarball({"package/leaflet.js": b"L = {}; steal();"})
    publish(root, "leaflet", "1.9.4", evil)
    lock = write_lock(
        tmp_path / "lock.json",
        {"node_modules/leaflet": {"version": "1.9.4", "integrity": sri(good)}},
    )
    dest = tmp_path / "node_modules"
    dest.mkdir()
    (dest / "keep").write_text("old install")
    url = f"{base}leaflet/-/leaflet-1.9.4.tgz"
    with pytest.raises(fetch.FetchError, match="leaflet: integrity mismatch for") as error:
        fetch.install(lock, dest, base=base)
    assert url in str(error.value)
    assert sorted(p.name for p in dest.iterdir()) == ["keep"]  # the old install is untouched
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".node_modules")] == []

    weak = write_lock(
        tmp_path / "weak.json",
        {"node_modules/leaflet": {"version": "1.9.4", "integrity": "sha1-AAAA"}},
    )
    with pytest.raises(fetch.FetchError, match="no sha512/sha384/sha256 integrity"):
        fetch.install(weak, dest, base=base)


@pytest.mark.parametrize(
    "bad",
    ["package/../../escaped.js", "../escaped.js", "/tmp/escaped.js", "package/a/../../../x.js"],
)
def test_path_traversal_is_refused(registry: tuple[str, Path], tmp_path: Path, bad: str) -> None:
    base, root = registry
    data = tarball({"package/ok.js": b"ok", bad: b"pwned"})
    publish(root, "evil", "1.0.0", data)
    lock = write_lock(
        tmp_path / "lock.json", {"node_modules/evil": {"version": "1.0.0", "integrity": sri(data)}}
    )
    with pytest.raises(fetch.FetchError, match=r"evil: .* holds the unsafe path"):
        fetch.install(lock, tmp_path / "deep" / "node_modules", base=base)
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.read_bytes() == b"pwned"]
    assert written == []
    assert not (tmp_path / "deep" / "node_modules").exists()


def test_links_are_skipped(registry: tuple[str, Path], tmp_path: Path) -> None:
    base, root = registry
    outside = tmp_path / "outside"
    outside.mkdir()
    data = tarball(
        {"package/ok.js": b"ok", "package/link/planted.js": b"pwned"},
        links={"package/link": str(outside), "package/up": "../../.."},
    )
    # a link first, then a file through it: followed, the file would land in `outside`
    publish(root, "linky", "1.0.0", data)
    lock = write_lock(
        tmp_path / "lock.json", {"node_modules/linky": {"version": "1.0.0", "integrity": sri(data)}}
    )
    dest = tmp_path / "node_modules"
    fetch.install(lock, dest, base=base)
    assert not any(p.is_symlink() for p in dest.rglob("*"))
    assert (dest / "linky/link/planted.js").read_bytes() == b"pwned"  # a plain file inside
    assert list(outside.iterdir()) == []


def test_failed_download_names_package_and_url(registry: tuple[str, Path], tmp_path: Path) -> None:
    base, _ = registry
    lock = write_lock(
        tmp_path / "lock.json",
        {"node_modules/@mapbox/polyline": {"version": "1.2.1", "integrity": "sha512-AAAA"}},
    )
    with pytest.raises(fetch.FetchError) as error:
        fetch.install(lock, tmp_path / "nm", base=base, attempts=2, pause=0.01)
    message = str(error.value)
    assert message.startswith("@mapbox/polyline: could not download ")
    assert f"{base}@mapbox/polyline/-/polyline-1.2.1.tgz: HTTP 404" in message
    # nothing listens on port 9 of the loopback: a connection error, retried, then named
    with pytest.raises(fetch.FetchError, match=r"could not download http://127\.0\.0\.1:9/"):
        fetch.install(lock, tmp_path / "nm", base="http://127.0.0.1:9/", attempts=2, pause=0.01)
    assert not (tmp_path / "nm").exists()


def test_bad_lock_file_is_explained(tmp_path: Path) -> None:
    lock = tmp_path / "package-lock.json"
    lock.write_text('{"lockfileVersion": 1, "dependencies": {}}', encoding="utf-8")
    with pytest.raises(fetch.FetchError, match=r"package-lock\.json: not an npm lock file"):
        fetch.install(lock, tmp_path / "nm")
    write_lock(lock, {"node_modules/../x": {"version": "1.0.0"}})
    with pytest.raises(fetch.FetchError, match="unexpected package path"):
        fetch.install(lock, tmp_path / "nm")


def test_command_line_reports_failure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lock = write_lock(tmp_path / "lock.json", {"node_modules/x": {"integrity": "sha512-AAAA"}})
    assert fetch.main(["--lock", str(lock), "--dest", str(tmp_path / "nm")]) == 1
    assert "make assets: x: the lock file gives neither 'resolved' nor 'version'" in (
        capsys.readouterr().err
    )
