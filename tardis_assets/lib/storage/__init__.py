"""Storage: table contracts, the Parquet lake of immutable partition files, the DuckDB catalog."""
