"""The embedding tier's export cache: each entry is built once, marked when used, and
entries nobody has used for a month go when a new one is built."""

from __future__ import annotations

import os
import time
from pathlib import Path

from socialdesk.triage import embedding

MONTHS_AGO = time.time() - 45 * 24 * 3600


def _build(work: Path) -> Path:
    model = work / embedding.MODEL_FILE
    model.write_bytes(b"an exported graph")
    return model


def _age(path: Path) -> None:
    os.utime(path, (MONTHS_AGO, MONTHS_AGO))


def test_building_an_export_removes_those_unused_for_a_month(tmp_path: Path) -> None:
    stale = tmp_path / "minilm-int8-0123456789abcdef0123"
    stale.mkdir()
    (stale / embedding.MANIFEST_FILE).write_text("{}", encoding="utf-8")
    _age(stale / embedding.MANIFEST_FILE)
    in_use = embedding._ensure(tmp_path / "top-int8-in-use", "int8", _build)

    built = embedding._ensure(tmp_path / "minilm-int8-new", "int8", _build)

    assert built.built and built.path.read_bytes() == b"an exported graph"
    assert not stale.exists()
    assert in_use.path.exists()


def test_an_export_in_use_is_marked_and_so_kept(tmp_path: Path) -> None:
    entry = tmp_path / "minilm-int8-kept"
    embedding._ensure(entry, "int8", _build)
    _age(entry / embedding.MANIFEST_FILE)

    again = embedding._ensure(entry, "int8", _build)
    embedding._ensure(tmp_path / "minilm-int8-next", "int8", _build)

    assert not again.built
    assert (entry / embedding.MANIFEST_FILE).stat().st_mtime > MONTHS_AGO + 24 * 3600
    assert again.path.exists()
