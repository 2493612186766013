"""The Havens linkage model as a Splink 5 settings dictionary.

The model is defined once, in ``features.py`` (comparison levels as SQL) and ``model.py`` (m and u
per level, the prior, term-frequency weighting on the given name and the lineage). This module
writes it in Splink's terms so that Splink runs exactly that model on any of its back ends (the
Spark engine uses it; ``tests/linkage/test_spark.py`` checks that Splink on DuckDB gives Havens'
probabilities to 1e-9):

* each comparison becomes a Splink comparison with one level per Havens level, highest first;
  a level's condition is the Havens CASE branches that give it (parsed with sqlglot), with
  ``l.col``/``r.col`` written ``col_l``/``col_r``; level -1 (a value missing on either side) is
  Splink's null level;
* m and u are the trained values (floored as Havens floors them, so the Bayes factors agree);
* the top level of ``given`` and ``lineage`` is adjusted by term frequency: Splink's weight there
  is log2(m / max(tf_l, tf_r)), which is Havens' (``disable_tf_exact_match_detection`` makes
  Splink use the level's own u, as Havens does; the floor is ``tf_minimum_u_value``);
* the prior is ``probability_two_random_records_match``.

Records given to Splink carry the feature columns (``features.build_features``) plus
``lineage_line`` (father's and family name keys, the value the lineage's term frequency is
counted on); the term-frequency tables are registered from Havens' own counts.
"""

from __future__ import annotations

from typing import Any

from havens.linkage.features import COMPARISONS, PART_FIELDS, Comparison, name_level_sql
from havens.linkage.model import _EPS, TF_FIELDS, TF_FLOOR, FieldParams, Model

#: The record column whose term frequency weighs the top level of each TF field.
TF_COLUMNS = {"given": "given_key", "lineage": "lineage_line"}
#: SQL (DuckDB and Spark alike) of ``lineage_line`` over a feature table: one value per
#: (father, family) pair of keys, a missing key ("-") kept apart from an empty one ("=").
LINEAGE_LINE_SQL = "coalesce('=' || father_key, '-') || '|' || coalesce('=' || family_key, '-')"


def _case(sql: str) -> Any:
    """The Havens level SQL as a sqlglot CASE, in Splink's column names.

    ``l.x``/``r.x`` become ``x_l``/``x_r``; the name-part levels ``x_<part>`` the lineage is
    built from are written out in full.
    """
    import sqlglot
    from sqlglot import exp

    def rename(node: Any) -> Any:
        if isinstance(node, exp.Column):
            if node.table in ("l", "r"):
                return exp.column(f"{node.name}_{node.table}")
            if node.name.startswith("x_") and node.name[2:] in PART_FIELDS:
                return exp.paren(_case(name_level_sql(node.name[2:])))
        return node

    tree = sqlglot.parse_one(sql, read="duckdb").transform(rename)
    if not isinstance(tree, exp.Case):
        raise ValueError(f"comparison SQL is not a CASE expression: {sql[:60]}…")
    return tree


def _branches(c: Comparison, dialect: str) -> dict[int, str]:
    """Each level's condition: the OR of the CASE branches giving it.

    Splink tests its levels in order, highest first, as the CASE tests its branches; the two
    agree because, after the missing-value branch, the branches' levels never increase down the
    CASE (checked here).
    """
    tree = _case(c.sql)
    found: dict[int, list[str]] = {}
    last = None
    for branch in tree.args["ifs"]:
        level = int(branch.args["true"].sql())
        if last is not None and last >= 0 and level > last:
            raise ValueError(f"{c.name}: CASE levels must not increase ({last} then {level})")
        found.setdefault(level, []).append(branch.this.sql(dialect=dialect))
        last = level
    default = tree.args.get("default")
    if default is None or int(default.sql()) != 0 or found.get(-1) is None:
        raise ValueError(f"{c.name}: CASE must test missing values first and end ELSE 0")
    out = {k: " OR ".join(f"({x})" for x in v) for k, v in found.items()}
    out[0] = "TRUE"  # reached only when every higher level failed, as the CASE's ELSE
    return out


def _levels(c: Comparison, fp: FieldParams | None, dialect: str) -> list[dict[str, Any]]:
    conditions = _branches(c, dialect)
    levels: list[dict[str, Any]] = [{"sql_condition": conditions[-1], "is_null_level": True,
                                     "label_for_charts": "missing"}]
    top = len(c.levels) - 1
    for k in range(top, -1, -1):
        level: dict[str, Any] = {"sql_condition": conditions.get(k, "FALSE"),
                                 "label_for_charts": c.levels[k]}
        if fp is not None:
            level["m_probability"] = max(fp.m[k], _EPS)
            level["u_probability"] = max(fp.u[k], _EPS)
        if c.name in TF_FIELDS and k == top:
            level.update(tf_adjustment_column=TF_COLUMNS[c.name], tf_adjustment_weight=1.0,
                         tf_minimum_u_value=TF_FLOOR, disable_tf_exact_match_detection=True)
        levels.append(level)
    return levels


def comparisons(model: Model | None = None, *, dialect: str = "spark") -> list[dict[str, Any]]:
    """Splink comparison dictionaries of every Havens comparison (with m/u if ``model``)."""
    params = {fp.name: fp for fp in model.fields} if model else {}
    return [{"output_column_name": c.name, "comparison_description": c.name,
             "comparison_levels": _levels(c, params.get(c.name), dialect)}
            for c in COMPARISONS]


def settings(model: Model | None = None, *, prior: float = 1e-4, keep_levels: bool = False,
             dialect: str = "spark") -> dict[str, Any]:
    """A Splink 5 settings dictionary for records keyed ``rid`` (pairs are given to Splink).

    ``keep_levels``: predictions keep each comparison's level (``gamma_<name>``, with the
    compared values) — what training counts.
    """
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "rid",
        "probability_two_random_records_match": prior,
        "comparisons": comparisons(model, dialect=dialect),
        "blocking_rules_to_generate_predictions": [],
        "retain_matching_columns": keep_levels,
        "retain_intermediate_calculation_columns": True,
        "additional_columns_to_retain": [],
    }
