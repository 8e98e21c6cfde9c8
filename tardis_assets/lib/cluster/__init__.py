"""Beyond one machine: what every process of a cluster must agree on (Celery settings, the
environment variables of each role). Process management is in ``tardis_assets/operate``."""
