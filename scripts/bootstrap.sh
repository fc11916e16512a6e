#!/usr/bin/env bash
# Creates the project's virtual environment (.venv) on Python 3.10 and installs
# the pinned dependencies. Rasa 3.6 runs on Python 3.8 to 3.10 only: on 3.11
# `pip install rasa` quietly resolves to rasa 1.10 and fails, so we refuse early.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  local candidate
  for candidate in "${PYTHON:-}" python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 \
      && "$candidate" -c 'import sys, venv; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    local version
    for version in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.10(\.[0-9]+)?$' | sort -rV); do
      candidate="$(pyenv prefix "$version")/bin/python3.10"
      [ -x "$candidate" ] && { echo "$candidate"; return 0; }
    done
  fi
  return 1
}

if ! PYTHON_310="$(find_python)"; then
  cat >&2 <<'MSG'
Rapport needs Python 3.10 (Rasa 3.6 runs on Python 3.8 to 3.10 only), and none was found.
Install it, then run the same make command again. Any one of these works:
  pyenv install 3.10.13                        # with pyenv
  apt-get install python3.10 python3.10-venv   # Debian/Ubuntu with a 3.10 package
or point to an existing interpreter:  make PYTHON=/path/to/python3.10 ...
MSG
  exit 1
fi

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))'; then
  echo "Creating .venv with $PYTHON_310"
  rm -rf .venv
  "$PYTHON_310" -m venv .venv
fi
echo "Installing the pinned dependencies (the first time takes a few minutes)"
.venv/bin/python -m pip install --quiet --disable-pip-version-check "pip==23.2.1"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
.venv/bin/python -m pip check
