# genlib studio as a hosted demo for strangers: CPU PyTorch, a non-root user, hosted mode on.
#   docker build -t genlib-studio .
#   docker run -p 8501:8501 -e GENLIB_SECRET=$(openssl rand -hex 32) -v genlib-data:/data genlib-studio
# Settings (environment): PORT, GENLIB_SECRET (signs visitor cookies; set it so visitors keep their
# work across restarts), GENLIB_RETENTION_HOURS, GENLIB_MAX_JOBS, GENLIB_JOB_SECONDS,
# GENLIB_GALLERY (a folder of bundle files to publish at start). README.md, "Hosting", says more.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    OMP_NUM_THREADS=1 \
    PORT=8501 \
    GENLIB_HOSTED=1 \
    GENLIB_DATA_DIR=/data \
    GENLIB_RUNS_DIR=/data/runs

RUN useradd --create-home --uid 10001 genlib && mkdir -p /data && chown genlib:genlib /data

WORKDIR /app
COPY requirements.txt .
# PyTorch's CPU-only build first (the default Linux wheel carries CUDA: gigabytes a CPU host never uses)
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu \
 && pip install -r requirements.txt
COPY --chown=genlib:genlib . .

USER genlib
VOLUME /data
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/_stcore/health' % os.environ['PORT'], timeout=4)"
CMD ["sh", "-c", "exec streamlit run app.py --server.port=${PORT} --server.address=0.0.0.0 --server.headless=true --browser.gatherUsageStats=false --client.showErrorDetails=false"]
