"""The packaged default scheme (Suzhou-style), used when no catalog was loaded."""

from __future__ import annotations

from importlib.resources import files

from guihua.core.catalog import Catalog
from guihua.core.catalog_parsing import parse_catalog

DEFAULT_CATALOG_PATH = files("guihua.schemes") / "default.yaml"


def default_catalog_text() -> str:
    return DEFAULT_CATALOG_PATH.read_text(encoding="utf-8")


def load_default_catalog() -> Catalog:
    return parse_catalog(default_catalog_text())
