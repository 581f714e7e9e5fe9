"""PostgreSQL plan caching: custom plans by default, generic plans for writes.

With `DATABASE_PREPARED_STATEMENTS` (the default) psycopg prepares a statement after it ran 5
times on a connection. PostgreSQL may then reuse one generic plan for it, skipping the planner
(most of the database time of a sale's short statements, whose row-level-security predicate
makes each one costly to plan). A generic plan cannot see which company it runs for, though:
for a list of a company with 100,000 invoices it picks the plan fit for an average one and
sorts the whole company (130 ms instead of 0.1 ms). So connections plan every execution
(`plan_cache_mode = force_custom_plan`, see settings) and a write request, whose statements
go to rows by key, allows generic plans for its own transaction only.
"""

from django.db import DEFAULT_DB_ALIAS, connections


def allow_generic_plans(*, using: str = DEFAULT_DB_ALIAS) -> None:
    """Let PostgreSQL reuse generic plans until the current transaction ends."""
    connection = connections[using]
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('plan_cache_mode', 'auto', true)")
