# Sourced by the test scripts: ensure_venv DIR REQUIREMENTS creates the Python venv DIR and fills it
# from the REQUIREMENTS file when it is missing or the file changed (a stamp holds the file's hash).
ensure_venv() {
  local venv=$1 requirements=$2
  local python=${PYTHON:-python3}
  local stamp=$venv/.requirements.sha256
  local want
  want=$(sha256sum "$requirements" | cut -d' ' -f1)
  if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "-- creating $venv with $requirements"
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    echo "$want" > "$stamp"
  fi
}
