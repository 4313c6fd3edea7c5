# The placeportrait image: the CLI (the loader) and the Dash app (gunicorn).
FROM python:3.11-slim
# WeasyPrint (ward reports) needs Pango at run time.
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
    fonts-dejavu-core && rm -rf /var/lib/apt/lists/*
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PLACEPORTRAIT_HOME=/data
WORKDIR /opt/placeportrait
COPY pyproject.toml README.md ./
COPY src ./src
COPY boundaries ./boundaries
COPY indicators ./indicators
COPY app ./app
RUN pip install --no-cache-dir -e . && useradd --create-home --uid 10001 placeportrait \
    && mkdir -p /data && chown placeportrait /data
USER placeportrait
# Secrets (the database URL's password, PLACEPORTRAIT_APP_PASSWORD) come from the
# environment at run time; none is baked into the image. The app (gunicorn, see
# docker-compose.yml) listens on 8050, never in debug mode.
EXPOSE 8050
ENTRYPOINT ["placeportrait"]
CMD ["--help"]
