# The news-etl Airflow image: the official image of the Airflow version requirements.lock pins,
# the runtime-only lock (requirements-runtime.lock: no test, lint or benchmark tools) and the
# project. docker compose builds it (`make up` rebuilds when any of these changed).
FROM apache/airflow:3.3.2-python3.11

# The lock pins apache-airflow itself to the image's version, so pip never swaps Airflow.
COPY --chown=airflow:0 requirements-runtime.lock /opt/news_etl/
RUN pip install --no-cache-dir -r /opt/news_etl/requirements-runtime.lock

# The project (what .dockerignore lets through: library, DAGs, SQL, sources), installed in place:
# the library finds sql/ and the sources file beside it, and `news-etl` is on the PATH.
# docker compose mounts the checkout's dags/, plugins/ and sql/ instead (edits need no rebuild);
# a worker started elsewhere from this image runs the code it was built with.
COPY --chown=airflow:0 . /opt/news_etl/
RUN pip install --no-cache-dir --no-deps --editable /opt/news_etl \
    && python -c "import news_etl.pipeline" && news-etl --help >/dev/null
ENV AIRFLOW__CORE__DAGS_FOLDER=/opt/news_etl/dags
