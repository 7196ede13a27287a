"""Drift in words for the operations the corpus (tests/migrations/test_drift_corpus.py) does not
produce: unique constraints, an index whose columns changed, a foreign key pointing elsewhere,
comments; and never a Python repr, whatever the operation."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.operations import ops
from sqlalchemy.dialects import postgresql

from pixcrawler.migrator.differences import describe

DIALECT = postgresql.dialect()


def tables():
    metadata = sa.MetaData()
    users = sa.Table("users", metadata, sa.Column("id", sa.Integer, primary_key=True))
    teams = sa.Table("teams", metadata, sa.Column("id", sa.Integer, primary_key=True))
    items = sa.Table(
        "items",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("owner_id", sa.Integer),
        sa.Column("code", sa.String(20)),
        sa.Column("kind", sa.String(20)),
    )
    return users, teams, items


def lines(*items: ops.MigrateOperation) -> list[str]:
    return describe(ops.UpgradeOps(ops=[ops.ModifyTableOps("items", list(items))]), DIALECT)


def test_unique_constraints_added_removed_and_changed():
    *_, items = tables()
    new = sa.UniqueConstraint(items.c.code, items.c.kind, name="uq_items_code")
    old = sa.UniqueConstraint(items.c.code, name="uq_items_code")
    other = sa.UniqueConstraint(items.c.kind, name="uq_items_kind")
    assert lines(ops.AddConstraintOp.from_constraint(other)) == [
        "items: unique constraint uq_items_kind (kind) in the models, not in the database"
    ]
    assert lines(ops.DropConstraintOp.from_constraint(other)) == [
        "items: unique constraint uq_items_kind (kind) in the database, not in the models"
    ]
    changed = [ops.DropConstraintOp.from_constraint(old), ops.AddConstraintOp.from_constraint(new)]
    assert lines(*changed) == [
        "items: unique constraint uq_items_code (code, kind) in the models, "
        "unique constraint uq_items_code (code) in the database"
    ]


def test_an_index_whose_columns_changed_is_one_line():
    *_, items = tables()
    old = sa.Index("ix_items_code", items.c.code)
    new = sa.Index("ix_items_code", items.c.code, items.c.kind, unique=True)
    assert lines(ops.DropIndexOp.from_index(old), ops.CreateIndexOp.from_index(new)) == [
        "items: index ix_items_code UNIQUE (code, kind) in the models, (code) in the database"
    ]


def test_a_foreign_key_pointing_elsewhere():
    users, teams, items = tables()
    old = sa.ForeignKeyConstraint([items.c.owner_id], [users.c.id], name="fk_items_owner")
    new = sa.ForeignKeyConstraint(
        [items.c.owner_id], [teams.c.id], name="fk_items_owner", ondelete="CASCADE"
    )
    assert lines(
        ops.DropConstraintOp.from_constraint(old), ops.AddConstraintOp.from_constraint(new)
    ) == [
        "items: foreign key fk_items_owner (owner_id) → teams.id ON DELETE CASCADE in the "
        "models, (owner_id) → users.id ON DELETE NO ACTION in the database"
    ]


def test_column_changes_each_on_their_own_line():
    alter = ops.AlterColumnOp(
        "items",
        "code",
        existing_type=sa.String(20),
        existing_nullable=True,
        existing_server_default=sa.DefaultClause(sa.text("'x'::character varying")),
        modify_nullable=False,
        modify_server_default=None,
        modify_comment="the item's code",
        existing_comment=None,
    )
    assert lines(alter) == [
        "items.code: NOT NULL in the models, NULL allowed in the database",
        "items.code: server default none in the models, 'x' in the database",
        'items.code: comment "the item\'s code" in the models, none in the database',
    ]


def test_an_operation_it_does_not_know_is_named_not_printed():
    class SomethingNew(ops.MigrateOperation):
        table_name = "items"

    [line] = lines(SomethingNew())
    assert line == "items: SomethingNew" and " object at 0x" not in line
