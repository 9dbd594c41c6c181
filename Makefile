# Two commands for a new user: `make demo` and `make test`. Each sets up .venv when needed.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup demo test unit mutants notebooks lab lab-lecturer execute student nbgrader slides \
	chromium lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m nst_teach stylize --content data/content/tubingen.jpg \
		--style data/style/starry_night.jpg --out out/demo.png

# Tests never reach outside the machine: NST_TEACH_OFFLINE=1 makes the paper-image downloads
# fall back to the bundled images at once instead of waiting for a network that is not there.
TEST_ENV := NST_TEACH_FAST=1 NST_TEACH_OFFLINE=1 MPLBACKEND=Agg

test: $(STAMP) chromium
	$(TEST_ENV) $(PY) -m pytest tests
	$(TEST_ENV) $(PY) -m pytest --nbval-lax --nbval-current-env \
		--nbval-sanitize-with notebooks/sanitize.cfg -p no:cacheprovider notebooks

# The fast tier: the tests without the `slow` mark, no nbval (tests/README.md says what it covers).
unit: $(STAMP)
	$(TEST_ENV) $(PY) -m pytest -m "not slow" tests

# The notebooks alone, executed and compared with their saved outputs (the second half of `test`).
notebooks: $(STAMP)
	$(TEST_ENV) $(PY) -m pytest --nbval-lax --nbval-current-env \
		--nbval-sanitize-with notebooks/sanitize.cfg -p no:cacheprovider notebooks

# Mutation check of the core (tests/mutants.toml) on a copy of the checkout; prints the kill rate.
mutants: $(STAMP)
	$(PY) scripts/mutants.py

# Students work in student/ (no solutions); a copy that exists is never overwritten.
lab: $(STAMP) student
	$(VENV)/bin/jupyter lab student

# The lecturer's edition: the notebooks with their solutions, as committed.
lab-lecturer: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks

execute: $(STAMP)
	$(PY) scripts/execute_notebooks.py notebooks/*.ipynb

# Student copies of the notebooks; existing ones are kept. FORCE=1 rewrites them (answers lost).
student: $(STAMP)
	$(PY) scripts/editions.py student notebooks student $(if $(FORCE),--force)

# An nbgrader course directory (nbgrader/): one assignment per notebook. nbgrader runs alembic, so
# call it with the environment's bin/ on PATH: cd nbgrader && PATH=../.venv/bin:$$PATH nbgrader ...
nbgrader: $(STAMP)
	$(PY) scripts/make_nbgrader.py --out nbgrader

# Offline reveal.js decks for lecturers, one per notebook, as committed (not executed).
slides: $(STAMP)
	$(PY) scripts/export_slides.py --out slides

# Debian's Chromium for tests/test_browser.py, when missing and root; never fails the build.
chromium:
	@bash scripts/install_chromium.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check nst_teach tests benchmarks scripts notebooks

clean:
	rm -rf out slides
