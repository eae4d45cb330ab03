"""A Content-Security-Policy read with plain string work, and the hashes of a page's inline code
computed here with hashlib (independently of ``maps.csp``), for the security and docs tests."""

from __future__ import annotations

import base64
import hashlib
import re


def source_hash(text: str) -> str:
    """The policy source ``'sha256-...'`` that allows the inline code ``text``."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def directives(policy: str) -> dict[str, list[str]]:
    """A policy's directives: name -> its sources, in order."""
    out = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def inline_hashes(page: str) -> tuple[set[str], set[str]]:
    """Hashes of the executable inline scripts and of the styles, found with plain regexes."""
    scripts = {
        source_hash(body)
        for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", page, flags=re.S)
        if "src=" not in attrs and "application/json" not in attrs
    }
    styles = {
        source_hash(body) for body in re.findall(r"<style[^>]*>(.*?)</style>", page, flags=re.S)
    }
    return scripts, styles
