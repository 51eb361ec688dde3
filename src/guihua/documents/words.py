"""Words a resident reads, in one language: the catalog's names and the scheme's fixed sentences.

Every document and notice (the report, the certificate, the notices, and the portal's pages)
names things through :class:`Words`, so a rule is called the same everywhere: by its name in
words, with its id in brackets for the counter, and with the catalog's ``why`` sentence. Where
a catalog gives no words (one written before translations existed), the fallbacks still say
something true in the reader's language: the metric's name for a rule, and a sentence built from
what was recorded for ``why``.

Nothing here decides a point: points, days and statuses come from the engine; this module only
puts them into sentences.
"""

from __future__ import annotations

from collections.abc import Sequence

from guihua.core.catalog import Catalog, Rule
from guihua.core.languages import DEFAULT_LANGUAGE, Language
from guihua.core.statement import AUTHORITY, Finding
from guihua.documents.i18n import Translator
from guihua.kit.urls import portal_url


class Words(Translator):
    """The catalog's words and the fixed sentences of one language (``_``, ``n_`` are the latter)."""

    def __init__(self, catalog: Catalog, lang: Language = DEFAULT_LANGUAGE) -> None:
        super().__init__(lang)
        self.catalog = catalog
        self.portal = portal_url()

    def sentences(self, parts: Sequence[str]) -> str:
        """Sentences one after the other: with a space in English, none in Chinese (as it is written)."""
        return ("" if self.lang == "zh-CN" else " ").join(p for p in parts if p)

    # ------------------------------------------------------------------ the catalog's words

    def scheme(self) -> str:
        return self.catalog.scheme.text("name", self.lang)

    def department(self, code: str | None) -> str:
        """The department's name (its code when the catalog no longer has it)."""
        dept = self.catalog.department_by_code.get(code or "")
        return (dept.text("name", self.lang) if dept else "") or (code or "")

    def department_basis(self, code: str | None) -> str:
        dept = self.catalog.department_by_code.get(code or "")
        return dept.text("legal_basis", self.lang) if dept else ""

    def metric(self, code: str | None) -> str:
        """What kind of record it is, in words (``Road traffic offence``)."""
        metric = self.catalog.metric_by_code.get(code or "")
        found = metric.text("name", self.lang) if metric else ""
        return found or (code or self._("a record"))

    def category(self, code: str | None) -> str:
        category = self.catalog.category_by_code.get(code or "")
        return (category.text("name", self.lang) if category else "") or (code or "-")

    def _rule(self, rule_id: str | None) -> Rule | None:
        return self.catalog.rule_by_id.get(rule_id or "")

    def rule(self, rule_id: str | None, metric: str | None = None) -> str:
        """The rule's name in words; a rule without one is called after its metric."""
        rule = self._rule(rule_id)
        name = rule.text("name", self.lang) if rule else ""
        return name or self.metric(rule.metric if rule else metric)

    def rule_ref(self, rule_id: str | None, metric: str | None = None) -> str:
        """``“Traffic fine left unpaid” (rule TRF-UNPAID)``: the words first, the id for the counter."""
        if not rule_id:
            return self._("no rule applies")
        return self._("“{name}” (rule {id})", name=self.rule(rule_id, metric), id=rule_id)

    def rule_basis(self, rule_id: str | None) -> str:
        rule = self._rule(rule_id)
        return rule.text("legal_basis", self.lang) if rule else ""

    def why(self, rule_id: str | None, department: str | None, metric: str | None, day: str) -> str:
        """One sentence on why the rule gives or takes points: the catalog's ``why``, else what happened."""
        rule = self._rule(rule_id)
        said = rule.text("why", self.lang) if rule else ""
        if said:
            return said
        return self._(
            "{department} recorded “{metric}” on {day}, and the scheme's rule “{rule}” applies to it.",
            department=self.department(department),
            metric=self.metric(metric),
            day=day,
            rule=self.rule(rule_id, metric),
        )

    def perk(self, code: str) -> str:
        perk = self.catalog.perk_by_code.get(code)
        return (perk.text("name", self.lang) if perk else "") or code

    # ------------------------------------------------------------------ sentences about points

    def points(self, n: int) -> str:
        """``3 points`` (the absolute value: the verb says which way)."""
        return self.n_("{n} point", "{n} points", abs(n))

    def effect(
        self, rule_id: str | None, metric: str | None, points: int, start: str, end: str | None
    ) -> str:
        """What the rule does to the score and for how long, from the engine's points and days."""
        rule, amount = self.rule(rule_id, metric), self.points(points)
        if points >= 0:
            if end:
                return self._(
                    "Under the rule “{rule}” it adds {points} to your score from {start}; "
                    "it stops counting on {end}.",
                    rule=rule,
                    points=amount,
                    start=start,
                    end=end,
                )
            return self._(
                "Under the rule “{rule}” it adds {points} to your score from {start}, with no end date.",
                rule=rule,
                points=amount,
                start=start,
            )
        if end:
            return self._(
                "Under the rule “{rule}” it takes {points} off your score from {start}; "
                "it stops counting on {end}.",
                rule=rule,
                points=amount,
                start=start,
                end=end,
            )
        return self._(
            "Under the rule “{rule}” it takes {points} off your score from {start}, until the case is "
            "resolved or the record no longer counts.",
            rule=rule,
            points=amount,
            start=start,
        )

    def caps(self, caps: Sequence[str], category: str | None) -> str:
        """Which yearly cap of the category limited this record's group, in words (or a dash)."""
        if not caps:
            return "-"
        name = self.category(category)
        said = {
            "gain": self._("the yearly cap on gains for “{category}” was reached", category=name),
            "loss": self._("the yearly cap on losses for “{category}” was reached", category=name),
        }
        return self._("; ").join(said.get(c, c) for c in caps)

    # ------------------------------------------------------------------ how to object

    def how_to_object(self, department: str | None, source_id: str) -> str:
        """Where and how to object to a record (the portal, the counter), and what happens then."""
        return self._(
            "If you think this record is wrong, you can object to it: on the portal at {portal} "
            "(sign in and open the record), or at any service centre counter (bring your identity card "
            "and say it is record {source_id} of {department}). While a reviewer looks at it the record "
            "is marked disputed and still counts; if no decision is made within 30 days of your "
            "objection, it stops counting until one is.",
            portal=self.portal,
            source_id=source_id,
            department=self.department(department),
        )

    def object_line(self, department: str | None, source_id: str) -> str:
        """The short form for a record in a list: where to object, naming the record."""
        return self._(
            "Wrong? Object on the portal at {portal} or at a service centre counter "
            "(record {source_id} of {department}).",
            portal=self.portal,
            source_id=source_id,
            department=self.department(department),
        )

    # ------------------------------------------------------------------ certificates

    def authority(self, signed: str = AUTHORITY) -> str:
        """The issuing authority as the statement names it, in this language when it is ours."""
        return self._("Suzhou Public Credit Centre") if signed == AUTHORITY else signed

    def certificate_status(self, status: str) -> str:
        said = {
            "not_listed": self._("NOT ON THE DEFAULTER LIST"),
            "resolved": self._("NOT ON THE DEFAULTER LIST (earlier cases resolved)"),
            "listed": self._("ON THE DEFAULTER LIST"),
        }
        return said.get(status, status)

    def certificate_statement(self, finding: Finding, subject: str, at: str, scheme: str) -> str:
        """The certified sentence in this language (the signed statement keeps its own, in English).

        ``scheme`` is the name the statement was signed with; it is shown in this language when the
        catalog still calls its scheme so.
        """
        name = self.scheme() if scheme == self.catalog.scheme.name else scheme
        if finding.status == "not_listed":
            return self._(
                "Resident {subject} is not on the defaulter list of the {scheme} on {day}.",
                subject=subject,
                scheme=name,
                day=at,
            )
        if finding.status == "resolved":
            done = self._("; ").join(
                self._(
                    "case {case} ({department}) resolved on {day}",
                    case=c.case_id,
                    department=self.department(c.department) or c.department_name,
                    day=c.resolved_on or "-",
                )
                for c in finding.cases
            )
            return self._(
                "Resident {subject} is not on the defaulter list of the {scheme} on {day}: {cases}.",
                subject=subject,
                scheme=name,
                day=at,
                cases=done,
            )
        parts = [
            self._(
                "since {listed} for case {case} ({department})",
                listed=c.listed_on,
                case=c.case_id,
                department=self.department(c.department) or c.department_name,
            )
            for c in finding.cases
            if c.resolved_on is None
        ]
        parts += [
            self._("case {case} resolved on {day}", case=c.case_id, day=c.resolved_on)
            for c in finding.cases
            if c.resolved_on is not None
        ]
        return self._(
            "Resident {subject} is on the defaulter list of the {scheme} on {day}: {cases}.",
            subject=subject,
            scheme=name,
            day=at,
            cases=self._("; ").join(parts),
        )

    # ------------------------------------------------------------------ states in words

    def record_status(self, status: str) -> str:
        """A record's status at the report's date (the engine's code) in words."""
        said = {
            "counting": self._("counts"),
            "disputed": self._("disputed: an objection is open; it still counts"),
            "suspended": self._("suspended: the objection was not decided within 30 days"),
            "revoked": self._("revoked after an objection: it no longer counts"),
            "expired": self._("expired: it no longer counts"),
            "pending": self._("not yet counting: in its notice period"),
            "retracted": self._("RETRACTED by the department: it no longer counts"),
            "no_rule": self._("no rule applies: it does not change the score"),
            "protected": self._("kept for fairness audits only: never scored"),
            "moved": self._("moved to another resident by a correction"),
        }
        return said.get(status, status)

    def objection_state(self, state: str) -> str:
        said = {
            "open": self._("open: a reviewer is looking at it"),
            "suspended": self._("undecided after 30 days: the record does not count until a decision"),
            "upheld": self._("upheld: the record stands"),
            "corrected": self._("corrected: a corrected version replaces the record"),
            "revoked": self._("revoked: the record no longer counts"),
        }
        return said.get(state, state)

    def decision(self, outcome: str) -> str:
        """A reviewer's decision as the resident is told it."""
        said = {
            "upheld": self._("upheld (the record stands as it was)"),
            "corrected": self._("corrected (a corrected version of the record replaces it)"),
            "revoked": self._("revoked (the record no longer counts)"),
        }
        return said.get(outcome, outcome)

    def decision_short(self, outcome: str) -> str:
        said = {"upheld": self._("upheld"), "corrected": self._("corrected"), "revoked": self._("revoked")}
        return said.get(outcome, outcome)

    def notice_kind(self, kind: str) -> str:
        said = {
            "penalty": self._("penalty"),
            "listing": self._("defaulter list"),
            "repair": self._("case resolved"),
            "decision": self._("objection decided"),
        }
        return said.get(kind, kind)

    def delivery(self, channel: str, status: str) -> str:
        channels = {"email": self._("e-mail"), "webhook": self._("city notification service")}
        states = {
            "delivered": self._("delivered"),
            "pending": self._("waiting to be sent"),
            "no_address": self._("no address given yet"),
        }
        return f"{channels.get(channel, channel)}: {states.get(status, status)}"

    def role(self, role: str) -> str:
        said = {
            "resident": self._("you (resident)"),
            "service_desk": self._("service centre counter"),
            "reviewer": self._("objection reviewer"),
            "auditor": self._("auditor"),
            "admin": self._("administrator"),
            "department": self._("department"),
            "provider": self._("perk provider"),
            "public": self._("the public (certificate check)"),
            "cli": self._("credit centre staff"),
        }
        return said.get(role, role)

    def action(self, action: str) -> str:
        """An audit entry's action in words (an unknown one as its code)."""
        said = {
            "subject.score": self._("read the score"),
            "subject.explain": self._("read the explanation of the score"),
            "subject.report": self._("made this report"),
            "subject.notices": self._("read the notices"),
            "subject.objections": self._("read the objections"),
            "subject.perks": self._("checked the perks"),
            "subject.access_log": self._("read who accessed the data"),
            "perk.eligibility": self._("a perk provider checked eligibility"),
            "contact.set": self._("changed the contact address"),
            "contact.read": self._("read the contact address"),
            "certificate.issue": self._("issued a certificate"),
            "certificate.check": self._("checked a certificate"),
            "objection.file": self._("filed an objection"),
            "objection.decide": self._("decided an objection"),
            "records.ingest": self._("stored records"),
            "records.submit": self._("stored records"),
            "records.retract": self._("retracted a record"),
            "records.purge": self._("deleted old records (retention)"),
            "defaulters.list": self._("read the defaulter list"),
            "sign_in.code": self._("sent a sign-in code"),
            "sign_in.counter_code": self._("printed a sign-in code at the counter"),
        }
        return said.get(action, action)

    def outcome(self, outcome: str) -> str:
        said = {"ok": self._("done"), "refused": self._("refused")}
        return said.get(outcome, outcome)

    def yes_no(self, value: bool) -> str:
        return self._("yes") if value else self._("no")
