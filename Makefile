# sckb developer entry points. `make demo` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
SCKB   := $(VENV)/bin/sckb
OUT    ?= out
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench venv clean report-look

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	@mkdir -p $(OUT)
	$(SCKB) kb validate
	$(SCKB) kb export --format json --out $(OUT)/kb-graph.json
	$(SCKB) kb export --format graphml --out $(OUT)/kb-graph.graphml
	$(SCKB) kb export --format csv --out $(OUT)/kb-csv
	$(SCKB) query risk SAS-4
	rm -rf $(OUT)/workspace
	$(SCKB) --workspace $(OUT)/workspace --now 2026-12-01 evidence ingest examples/phi-app/evidence
	$(SCKB) --workspace $(OUT)/workspace evidence verify
	$(SCKB) --workspace $(OUT)/workspace evidence list --status open
	$(SCKB) --workspace $(OUT)/workspace --now 2026-12-01 assess --scope fedramp-moderate --scope hipaa --summary-out $(OUT)/assessment.md
	$(SCKB) --workspace $(OUT)/workspace assess explain AC-6
	$(SCKB) --workspace $(OUT)/workspace export oscal --out $(OUT)/oscal
	$(SCKB) --workspace $(OUT)/workspace --now 2026-12-01 report pdf --out $(OUT)/report.pdf --system-name "PHI demo app" --organization "Example Health" --pdf-variant pdf/a-3b --attach
	$(SCKB) --workspace $(OUT)/workspace site build --out $(OUT)/site --assessment latest
	@echo "demo outputs are in $(OUT)/"

# render the report's first pages to PNG for a person to look at (needs poppler-utils: pdftoppm)
report-look: $(OUT)/report.pdf
	pdftoppm -r 70 -png -f 1 -l 8 $(OUT)/report.pdf $(OUT)/report-page
	@echo "look at $(OUT)/report-page-*.png"

$(OUT)/report.pdf:
	$(MAKE) demo

# screenshots of the guidance site (home, a control, a risk) for a person to look at (needs Debian chromium)
screenshots: $(STAMP)
	@test -f $(OUT)/site/index.html || $(SCKB) site build --out $(OUT)/site
	$(PY) -m compliance.site.screenshot $(OUT)/site $(OUT)/screenshots

test: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check compliance tests benchmarks
	$(VENV)/bin/ruff format --check compliance
	$(VENV)/bin/mypy compliance

bench: $(STAMP)
	$(PY) benchmarks/run.py

clean:
	rm -rf $(OUT) build dist .pytest_cache .mypy_cache .ruff_cache
