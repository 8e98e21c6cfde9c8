"""Operations on a running Dagster: a private ``dagster dev``, its GraphQL API, CLI backfills."""
