"""Scores: ``guihua score``, ``explain``, ``perks``, ``export scores``, ``report distribution``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from guihua.cli import render
from guihua.cli.options import At, Db, Engine, Json, Purpose, SparkMaster, WorkDir, at_date


def register(app: typer.Typer, export_app: typer.Typer, report_app: typer.Typer) -> None:
    app.command("score")(score_cmd)
    app.command("explain")(explain_cmd)
    app.command("perks")(perks_cmd)
    export_app.command("scores")(export_scores)
    report_app.command("distribution")(report_distribution)


def score_cmd(
    subject_id: Annotated[str, typer.Argument(help="The resident's identity number.")],
    at: At = None,
    purpose: Purpose = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """A resident's score at a date."""
    from guihua.store.database import open_store
    from guihua.usecases import scores

    s = scores.subject_score(open_store(db, create=False), subject_id, at_date(at), purpose=purpose)
    if as_json:
        render.print_json(s.as_dict())
    else:
        render.score_line(s)


def explain_cmd(
    subject_id: Annotated[str, typer.Argument(help="The resident's identity number.")],
    at: At = None,
    purpose: Purpose = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Every record behind a score: department, rule, points, dates, caps and legal basis."""
    from guihua.store.database import open_store
    from guihua.usecases import scores

    e = scores.explain(open_store(db, create=False), subject_id, at_date(at), purpose=purpose)
    if as_json:
        render.print_json(e.as_dict())
    else:
        render.explanation(e)


def perks_cmd(
    subject_id: Annotated[str, typer.Argument(help="The resident's identity number.")],
    at: At = None,
    purpose: Purpose = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Each perk with eligible yes/no and the reason."""
    from guihua.store.database import open_store
    from guihua.usecases import scores

    s, items = scores.perks(open_store(db, create=False), subject_id, at_date(at), purpose=purpose)
    if as_json:
        render.print_json({**s.as_dict(), "perks": [vars(p) for p in items]})
    else:
        render.perks(s, items)


def export_scores(
    out: Annotated[Path, typer.Option("--out", help="Output .csv or .parquet file.")],
    at: At = None,
    engine: Engine = "duckdb",
    spark_master: SparkMaster = None,
    work_dir: WorkDir = None,
    perks: Annotated[
        bool, typer.Option("--perks", help="Add one column per perk, perk_CODE: eligible at the date.")
    ] = False,
    purpose: Purpose = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Write subject_id, score, defaulter, at for every resident with a current record (audited)."""
    from guihua.store.database import open_store
    from guihua.usecases import scores

    with render.working(f"scoring every resident on {engine} into {out.name}"):
        n = scores.export_scores(
            open_store(db, create=False),
            out,
            at_date(at),
            purpose=purpose,
            engine=engine,
            perks=perks,
            spark_master=spark_master,
            work_dir=work_dir,
        )
    if as_json:
        render.print_json({"out": str(out), "scores": n, "engine": engine})
    else:
        render.console.print(f"wrote {n:,} scores to {out} ({engine})")


def report_distribution(at: At = None, db: Db = None, as_json: Json = False) -> None:
    """Above / at / below base, defaulters, and a histogram."""
    from guihua.store.database import open_store
    from guihua.usecases import scores

    with render.working("scoring every resident"):
        d = scores.distribution(open_store(db, create=False), at_date(at))
    if as_json:
        render.print_json(d.as_dict())
    else:
        render.distribution(d)
