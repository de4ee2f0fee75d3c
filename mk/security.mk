# Supply chain and the security suite (docs/security.md). Included by the Makefile (mk/*.mk).
#   make lock           regenerate requirements.lock (pinned, with hashes) from pyproject.toml
#   make install-locked install exactly the locked, hash-checked versions, then Vigie itself
#   make audit          pip-audit the lock file against the PyPI vulnerability database
#   make security       the security test suite (includes the audit when the service answers)
.PHONY: lock install-locked audit security

LOCK := requirements.lock

lock: $(BIN)/python
	$(BIN)/pip install --quiet "pip-tools>=7.4,<8"
	$(BIN)/pip-compile --generate-hashes --extra dev --allow-unsafe --strip-extras \
	  --no-emit-index-url --no-emit-find-links --quiet -o $(LOCK) pyproject.toml

install-locked: $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps -e . -e clients/python

audit: install
	$(BIN)/pip-audit -r $(LOCK) --disable-pip --progress-spinner off

security: install
	$(BIN)/pytest tests/security
