# Matrix end-to-end test (tests/matrix, docs/integrations/matrix.md). Included by the Makefile.
# Synapse and synapse-http-antispam get a virtualenv of their own: their pins are not Vigie's.
# When they cannot be installed, `make test` goes on and the Matrix test skips saying why
# (under CI=true it fails instead).
#   make synapse    build .venv-synapse (once)
SYNAPSE_VENV := .venv-synapse
SYNAPSE_STAMP := $(SYNAPSE_VENV)/.installed
SYNAPSE_PINS := "matrix-synapse==1.163.2" "synapse-http-antispam==0.5.1"

.PHONY: synapse
synapse: $(SYNAPSE_STAMP)

$(SYNAPSE_STAMP):
	@$(PYTHON) -m venv $(SYNAPSE_VENV) && \
	$(SYNAPSE_VENV)/bin/pip install --quiet $(SYNAPSE_PINS) && touch $@ || \
	echo "Synapse could not be installed: tests/matrix will skip (make synapse to retry)"

test: synapse
