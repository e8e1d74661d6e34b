# sckb developer entry points. `make demo` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
SCKB   := $(VENV)/bin/sckb
OUT    ?= out
STAMP  := $(VENV)/.installed
LOCK   := requirements.lock
# compliance-trestle 5 (OSCAL 1.2) in a venv of its own: .venv pins trestle 3.12 (OSCAL 1.1.3)
T5_VENV  ?= .venv-trestle5
T5_STAMP := $(T5_VENV)/.installed
T5_LOCK  := requirements-trestle5.lock

.PHONY: demo test fuzz lint bench venv venv-trestle5 clean report-look lock system-run system-test

# the exact versions (with hashes) in requirements.lock; sckb itself on top, editable, with no
# dependency resolution of its own, so what is installed is what the lock says
$(STAMP): pyproject.toml $(LOCK)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --require-hashes --no-deps -r $(LOCK)
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	@touch $(STAMP)

venv: $(STAMP)

# the second venv: only the test that loads `kb export --format oscal-mapping` with trestle 5's mapping model
# uses it (it is skipped, with the reason, when the venv is absent); pinned and hash-checked like the main one
$(T5_STAMP): $(T5_LOCK)
	@test -x $(T5_VENV)/bin/python || $(PYTHON) -m venv $(T5_VENV)
	$(T5_VENV)/bin/python -m pip install -q --require-hashes --no-deps -r $(T5_LOCK)
	@touch $(T5_STAMP)

venv-trestle5: $(T5_STAMP)

# refresh requirements.lock from pyproject.toml's ranges (newest versions that satisfy them), and
# requirements-trestle5.lock from requirements-trestle5.in
lock:
	@test -x $(VENV)/bin/uv || { test -x $(PY) || $(PYTHON) -m venv $(VENV); $(PY) -m pip install -q uv; }
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
	  --generate-hashes --upgrade --quiet --custom-compile-command "make lock" -o $(LOCK)
	$(VENV)/bin/uv pip compile requirements-trestle5.in --universal --python-version 3.11 \
	  --generate-hashes --upgrade --quiet --custom-compile-command "make lock" -o $(T5_LOCK)

# Debian packages from tools/system-packages.tsv (installed as root, otherwise the command is printed)
system-run:
	@tools/setup-system.sh run

system-test:
	@tools/setup-system.sh test

demo: system-run $(STAMP)
	@mkdir -p $(OUT)
	$(SCKB) kb validate
	$(SCKB) kb export --format json --out $(OUT)/kb-graph.json
	$(SCKB) kb export --format graphml --out $(OUT)/kb-graph.graphml
	$(SCKB) kb export --format csv --out $(OUT)/kb-csv
	$(SCKB) query risk SAS-4
	rm -rf $(OUT)/workspace
	$(SCKB) --workspace $(OUT)/workspace --now 2026-12-01 evidence ingest examples/phi-app/evidence --scan-time 2026-11-30T09:30:00Z
	$(SCKB) --workspace $(OUT)/workspace --now 2026-12-01 design check examples/phi-app/template.yaml --evidence
	$(SCKB) --workspace $(OUT)/workspace --now 2026-12-01 assess determine --file examples/phi-app/determinations.yaml
	$(SCKB) --workspace $(OUT)/workspace --now 2026-12-01 evidence triage --file examples/phi-app/triage.yaml
	$(SCKB) --workspace $(OUT)/workspace evidence verify
	$(SCKB) --workspace $(OUT)/workspace evidence list --status open
	$(SCKB) --workspace $(OUT)/workspace --now 2026-12-01 system add examples/phi-app/system.yaml
	$(SCKB) --workspace $(OUT)/workspace system show phi-app
	@# control statements with FedRAMP values for the report (needs the network; the demo goes on without them)
	$(SCKB) --workspace $(OUT)/workspace catalog fetch || echo "demo: no network, so the report shows no control statements (sckb catalog import FILE adds them)"
	$(SCKB) --workspace $(OUT)/workspace --now 2026-12-01 assess --system phi-app --scope fedramp-moderate --scope hipaa --design examples/phi-app/template.yaml --summary-out $(OUT)/assessment.md
	$(SCKB) --workspace $(OUT)/workspace assess explain AC-6
	$(SCKB) --workspace $(OUT)/workspace --now 2026-12-01 export ssp --design examples/phi-app/template.yaml --scope fedramp-moderate --system phi-app --assessment latest --results-href oscal/assessment-results.json --out $(OUT)/ssp.json --markdown $(OUT)/ssp-todo.md
	$(SCKB) --workspace $(OUT)/workspace export oscal --system phi-app --ssp $(OUT)/ssp.json --marking CUI --out $(OUT)/oscal
	$(SCKB) --workspace $(OUT)/workspace export poam --system phi-app --out $(OUT)/poam.xlsx
	$(SCKB) --workspace $(OUT)/workspace --now 2026-12-01 report pdf --system phi-app --out $(OUT)/report.pdf --system-name "PHI demo app" --organization "Example Health" --assessor "Example Assurance (demo)" --pdf-variant pdf/a-3b --attach --ssp $(OUT)/ssp.json
	$(SCKB) --workspace $(OUT)/workspace site build --system phi-app --out $(OUT)/site --assessment latest
	@echo "demo outputs are in $(OUT)/"

# render the report's first pages to PNG for a person to look at (needs poppler-utils: pdftoppm)
report-look: $(OUT)/report.pdf
	pdftoppm -r 70 -png -f 1 -l 10 $(OUT)/report.pdf $(OUT)/report-page
	@echo "look at $(OUT)/report-page-*.png"

$(OUT)/report.pdf:
	$(MAKE) demo

# screenshots of the guidance site (home, a control, a risk, a search, the dashboard when built with one) to look at (Debian chromium)
screenshots: $(STAMP)
	@test -f $(OUT)/site/index.html || $(SCKB) site build --out $(OUT)/site
	$(PY) -m compliance.site.screenshot $(OUT)/site $(OUT)/screenshots

# test files spread over the cores (pytest-xdist; a file's tests stay in one worker so its module fixtures
# are built once); TEST_JOBS=0 runs them in one process
TEST_JOBS ?= auto
test: system-test $(STAMP) $(T5_STAMP)
	$(PY) -m pytest -q -n $(TEST_JOBS) --maxprocesses=4 --dist loadfile

# the property-based fuzz suite at length (random, 200 inputs per target; `make test` runs 6 each), printing
# how many inputs each target tried
fuzz: $(STAMP)
	$(PY) -m pytest -q -s tests/test_fuzz.py --hypothesis-profile=fuzz --hypothesis-show-statistics -p no:cacheprovider

lint: $(STAMP)
	$(VENV)/bin/ruff check compliance tests benchmarks tools
	$(VENV)/bin/ruff format --check compliance
	$(VENV)/bin/mypy compliance

bench: $(STAMP)
	$(PY) benchmarks/run.py

clean:
	rm -rf $(OUT) build dist .pytest_cache .mypy_cache .ruff_cache
