"""news_etl: discover → fetch → parse → normalize → deduplicate → load → report.

Importable without Airflow; the DAGs in ``dags/`` only call into it.
"""

__version__ = "0.1.0"
