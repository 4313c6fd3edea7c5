# The placeportrait image: the CLI (loader) now, the Dash app under gunicorn later.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PLACEPORTRAIT_HOME=/data
WORKDIR /opt/placeportrait
COPY pyproject.toml README.md ./
COPY src ./src
COPY boundaries ./boundaries
COPY indicators ./indicators
RUN pip install --no-cache-dir -e . && useradd --create-home --uid 10001 placeportrait \
    && mkdir -p /data && chown placeportrait /data
USER placeportrait
ENTRYPOINT ["placeportrait"]
CMD ["--help"]
