"""`flask db impact`: what each pending revision will do to production's tables, and for how
long, before it runs.

Each revision's PostgreSQL SQL is split and parsed by pglast (`statements`, `alter_table`), each
statement's locks and work follow PostgreSQL's rules (`locks`, `column_rules`), the live catalog
gives the tables' sizes (`catalog`, `schema`), a probe of this server gives the throughput
(`probe`, `throughput`, `estimates`), and `report` turns it all into verdicts, JSON and the
`--fail-on` rule (`text` prints it for people). `analysis` runs the whole.

Imported only when `flask db impact` runs or the admin shows the Migrations page: pglast is not
needed to start `flask`.
"""
