# The Lookalike image used by compose.yaml (api and ui services). CPU-only PyTorch.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    LOOKALIKE_DATA=/app/data

WORKDIR /app

# The big, rarely changing layer first.
RUN pip install torch==2.14.1 torchvision==0.29.1 --index-url https://download.pytorch.org/whl/cpu

COPY pyproject.toml README.md ./
COPY lookalike/ lookalike/
COPY core/ core/
COPY ingest/ ingest/
COPY catalogue/ catalogue/
COPY embed/ embed/
COPY store/ store/
COPY recommend/ recommend/
COPY events/ events/
COPY experiments/ experiments/
COPY ranker/ ranker/
COPY simulate/ simulate/
COPY service/ service/
COPY api/ api/
COPY ui/ ui/
COPY bench/ bench/
RUN pip install .

EXPOSE 8000 7860
CMD ["lookalike", "--help"]
