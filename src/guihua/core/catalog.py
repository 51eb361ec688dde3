"""The catalog model (spec section 1): the scheme, categories, departments, metrics, rules, perks.

Pure data with the few predicates the spec defines on it (a department's
agreement in force on a day). Reading and checking a catalog's YAML is
:mod:`guihua.core.catalog_parsing`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from functools import cached_property
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from guihua.core.languages import primary
from guihua.core.prohibited import is_prohibited

FieldType = Literal["int", "number", "string", "bool", "date"]
FIELD_TYPES: tuple[str, ...] = ("int", "number", "string", "bool", "date")
OPERATORS: frozenset[str] = frozenset({"eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in"})
LISTING_FIELDS: tuple[str, ...] = ("case_id", "action")
LISTING_ACTIONS: tuple[str, ...] = ("list", "resolve")
DEFAULT_TIMEZONE = "Asia/Shanghai"
AgreementStatus = Literal["active", "suspended", "ended"]
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")


class CatalogItem(BaseModel):
    """Unknown keys are refused: a typo such as ``valid_day`` must not silently mean 'no expiry'.

    Every item may carry ``translations``: per language tag (``zh-CN``, ``en``), its words in that
    language (``name``, ``description``, a rule's ``why``, a perk's ``benefit``). They are what a
    resident reads in documents and notices (a rule's and a department's ``legal_basis`` too: a
    citation in the reader's language), and never change a score. The plain fields are the
    catalog's own wording, used for any language the item has no translation for, so a catalog
    written before translations existed still loads and still reads.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    TRANSLATABLE: ClassVar[tuple[str, ...]] = ("description",)

    description: str = ""
    notes: str = ""
    translations: dict[str, dict[str, str]] = {}

    @field_validator("translations", mode="before")
    @classmethod
    def _no_translations_is_empty(cls, value: Any) -> Any:
        return {} if value is None else value

    @field_validator("translations")
    @classmethod
    def _translations_are_words(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        """Each key a language tag, each entry a text field this kind of item has, never empty.

        A misspelt field (``nmae``) would otherwise leave the resident reading the fallback
        wording without anyone noticing.
        """
        for tag, words in value.items():
            if not _LANGUAGE_TAG.fullmatch(tag):
                raise ValueError(f"{tag!r} is not a language tag (write it like zh-CN or en)")
            for name, text in words.items():
                if name not in cls.TRANSLATABLE:
                    raise ValueError(
                        f"{tag}.{name} cannot be translated here (translate {', '.join(cls.TRANSLATABLE)})"
                    )
                if not text.strip():
                    raise ValueError(f"{tag}.{name} is empty (leave it out to use the catalog's own words)")
        return value

    def text(self, name: str, lang: str) -> str:
        """The text field ``name`` in ``lang``: its translation for that tag, else for the tag's
        primary language (``zh`` serves ``zh-CN``), else the item's own wording (may be empty)."""
        wanted = lang.lower()
        for match in (lambda t: t.lower() == wanted, lambda t: primary(t) == primary(wanted)):
            for tag, words in self.translations.items():
                if match(tag) and words.get(name):
                    return words[name]
        own = getattr(self, name, "")
        return own if isinstance(own, str) else ""


class Scheme(CatalogItem):
    TRANSLATABLE = ("name", "description")

    name: str
    base: int
    min: int
    max: int
    max_points_per_record: int = Field(gt=0)
    timezone: str = DEFAULT_TIMEZONE  # what "today" and a day mean (checked by catalog_parsing)
    retention_years: int = Field(default=5, ge=1)


class Category(CatalogItem):
    TRANSLATABLE = ("name", "description")

    code: str
    name: str = ""
    max_gain_per_year: int | None = Field(default=None, ge=0)
    max_loss_per_year: int | None = Field(default=None, ge=0)


class Agreement(CatalogItem):
    """A department's data-sharing agreement (spec sections 1 and 3); absent: active, open-ended."""

    status: AgreementStatus = "active"
    valid_from: dt.date | None = None  # None: since always
    valid_to: dt.date | None = None  # exclusive; None: open
    frequency_days: int | None = Field(default=None, ge=1)  # how often data was promised

    def state_on(self, day: dt.date) -> str:
        """``in_force``, else why not: ``suspended``, ``ended``, ``not_yet_valid`` or ``expired``."""
        if self.status != "active":
            return self.status
        if self.valid_from is not None and day < self.valid_from:
            return "not_yet_valid"
        if self.valid_to is not None and day >= self.valid_to:
            return "expired"
        return "in_force"

    def in_force(self, day: dt.date) -> bool:
        """``status`` is active and ``valid_from <= day < valid_to``: the department may submit."""
        return self.state_on(day) == "in_force"


class Department(CatalogItem):
    TRANSLATABLE = ("name", "legal_basis", "description")

    code: str
    name: str = ""
    legal_basis: str
    metrics: list[str] = []
    agreement: Agreement = Agreement()

    @field_validator("agreement", mode="before")
    @classmethod
    def _none_is_default(cls, value: Any) -> Any:
        return {} if value is None else value


class Metric(CatalogItem):
    TRANSLATABLE = ("name", "description")

    code: str
    name: str = ""
    category: str | None = None
    kind: Literal["event", "listing"] = "event"
    protected: bool = False
    fields: dict[str, FieldType] = {}


class Rule(CatalogItem):
    """A scoring rule; ``name`` and ``why`` are what a resident reads (the id is for staff).

    ``why`` says in one sentence why a record under this rule gains or loses points ("the fine
    for a traffic offence was not paid"); documents add the points and the days from the engine.
    """

    TRANSLATABLE = ("name", "why", "legal_basis", "description")

    id: str
    metric: str
    name: str = ""
    why: str = ""
    when: dict[str, Any] = {}
    points: int
    valid_days: int | None = Field(default=None, ge=1)
    notice_days: int = Field(default=0, ge=0)
    effective_from: dt.date
    effective_to: dt.date | None = None
    legal_basis: str = ""

    @field_validator("when", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return {} if value is None else value

    def conditions(self) -> list[tuple[str, str, Any]]:
        """The ``when`` clause as (field, operator, value); a bare value means ``eq``."""
        out: list[tuple[str, str, Any]] = []
        for name, cond in self.when.items():
            if isinstance(cond, dict):
                out.extend((name, op, value) for op, value in cond.items())
            else:
                out.append((name, "eq", cond))
        return out


class Perk(CatalogItem):
    TRANSLATABLE = ("name", "benefit", "description")

    code: str
    name: str = ""
    provider: str
    min_score: int
    clean_record_required: bool = False
    consent_required: bool = False  # the provider learns eligibility only with the resident's consent
    benefit: str = ""


class Catalog(CatalogItem):
    """A validated catalog. Construct it with :func:`parse_catalog`."""

    scheme: Scheme
    categories: list[Category] = []
    departments: list[Department] = []
    metrics: list[Metric] = []
    rules: list[Rule] = []
    perks: list[Perk] = []
    prohibited_attributes: list[str] = []

    @cached_property
    def metric_by_code(self) -> dict[str, Metric]:
        return {m.code: m for m in self.metrics}

    @cached_property
    def department_by_code(self) -> dict[str, Department]:
        return {d.code: d for d in self.departments}

    @cached_property
    def category_by_code(self) -> dict[str, Category]:
        return {c.code: c for c in self.categories}

    @cached_property
    def perk_by_code(self) -> dict[str, Perk]:
        return {p.code: p for p in self.perks}

    @cached_property
    def rule_by_id(self) -> dict[str, Rule]:
        return {r.id: r for r in self.rules}

    @cached_property
    def field_columns(self) -> dict[tuple[str, str], str]:
        """Wide column name for every (field name, type) pair any metric declares."""
        pairs = {(n, t) for m in self.metrics for n, t in m.fields.items()}
        return {pair: f"f_{pair[1]}_{pair[0]}" for pair in sorted(pairs)}

    def is_prohibited(self, name: str) -> bool:
        return is_prohibited(name, self.prohibited_attributes)

    @cached_property
    def digest(self) -> str:
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()


def condition_value_ok(ftype: str, value: Any) -> bool:
    """Whether a ``when`` value is written in the field's type."""
    if ftype == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if ftype == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if ftype == "bool":
        return isinstance(value, bool)
    if ftype == "date":
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return True
        try:
            dt.date.fromisoformat(str(value))
        except ValueError:
            return False
        return len(str(value)) == 10
    return isinstance(value, str)


def condition_value(ftype: str, value: Any) -> Any:
    """A ``when`` value converted to the Python type the engine compares with."""
    if ftype == "date" and not isinstance(value, dt.date):
        return dt.date.fromisoformat(str(value))
    if ftype == "number":
        return float(value)
    return value
