"""A capable-model stand-in behind Ollama's wire protocol: a strong instruct model, scripted.

It is `tests/ollama_server.OllamaTestServer` (the same HTTP surface: /api/version, /api/tags, /api/show,
/api/chat and /api/generate streaming NDJSON, /_control, the error bodies) with a different brain: instead
of decoding with the packaged model it reads the numbered evidence and the question from the prompt and
answers tersely from a script of gold answers (`qa.eval.standin.Script`: which mode it plays per question,
and how, is documented there). It loads no model, so it answers in milliseconds.

    script = Script.from_pairs(load_pairs(Path("qa/eval/sets/squad2-rhine/questions.json")), seed=1)
    with StandinServer(script) as srv:          # QA_LLM=ollama QA_OLLAMA_HOST=srv.url QA_OLLAMA_MODEL=standin
        ...
        srv.take_log()                          # what it answered since the last call (Reply.as_dict())

`GET /_control` also returns the log under `standin`. From a shell:

    .venv/bin/python -m tests.standin --set qa/eval/sets/squad2-rhine [--port 11435] [--seed 1]
    QA_LLM=ollama QA_OLLAMA_HOST=http://127.0.0.1:11435 QA_OLLAMA_MODEL=standin \\
        .venv/bin/qa ask --corpus qa/eval/sets/squad2-rhine/corpus "How long is the Rhine?"

`qa eval --pipeline standin` starts one in process on a free port by itself.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from qa.eval.pairs import load_pairs
from qa.eval.standin import DEFAULT_MIX, Script, parse_mix
from tests.ollama_server import OllamaTestServer, Options, Stats

MODEL = "standin"
CONTEXT_LENGTH = 32768
# Ollama's runner counts tokens; a stand-in only needs a count on the low side of the client's estimate.
CHARS_PER_TOKEN = 4


class StandinServer(OllamaTestServer):
    """An Ollama-compatible server on 127.0.0.1 whose one model, `standin`, answers from a script."""

    def __init__(self, script: Script, model: str = MODEL, port: int = 0) -> None:
        super().__init__(models=[model], port=port)
        self.script = script
        self._log: list[dict[str, Any]] = []
        self._log_lock = threading.Lock()

    def _pieces(
        self,
        messages: list[dict[str, str]],
        raw: bool,
        prefix: Sequence[int],
        opts: Options,
        fmt: Any,
        stats: Stats,
        cancelled: Callable[[], bool],
    ) -> Iterator[str]:
        reply = self.script.reply(messages)
        with self._log_lock:
            self._log.append(reply.as_dict())
        words = reply.text.split(" ")
        pieces = [w if i == 0 else " " + w for i, w in enumerate(words)]

        def gen() -> Iterator[str]:
            start = time.perf_counter()
            stats.prompt_eval_count = sum(len(m["content"]) for m in messages) // CHARS_PER_TOKEN + 1
            stats.done_reason = "stop"
            try:
                for p in pieces:
                    if cancelled():
                        return
                    yield p
            finally:
                stats.eval_count = len(pieces)
                stats.eval_duration = int((time.perf_counter() - start) * 1e9)

        return gen()

    def take_log(self) -> list[dict[str, Any]]:
        """The replies logged since the last call, oldest first, and forget them."""
        with self._log_lock:
            out, self._log = self._log, []
        return out

    # what /api/tags and /api/show report: a generic model, no GGUF read ---------------------------------

    def _details(self, name: str) -> dict[str, Any]:
        return {
            "parent_model": "",
            "format": "gguf",
            "family": "standin",
            "families": ["standin"],
            "parameter_size": "scripted",
            "quantization_level": "none",
        }

    def _size(self, name: str) -> int:
        return 1

    def _show(self, name: str) -> dict[str, Any]:
        template = "{{ .Prompt }}"
        return {
            "modelfile": f'FROM {name}\nTEMPLATE """{template}"""\n',
            "parameters": "",
            "template": template,
            "details": self._details(name),
            "model_info": {"general.architecture": "standin", "standin.context_length": CONTEXT_LENGTH},
            "capabilities": ["completion"],
            "modified_at": "2025-01-01T00:00:00Z",
        }

    def _state(self) -> dict[str, Any]:
        with self._log_lock:
            log = list(self._log)
        return super()._state() | {
            "standin": {"seed": self.script.seed, "mix": str(self.script.mix), "log": log}
        }


def main(argv: list[str] | None = None) -> int:
    """Serve a set's stand-in until interrupted."""
    p = argparse.ArgumentParser(prog="python -m tests.standin", description=__doc__.split("\n\n")[0])
    p.add_argument("--set", required=True, help="a set folder with questions.json (or a pairs file)")
    p.add_argument("--port", type=int, default=11435)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--mix", default=str(DEFAULT_MIX), help="answerable weights;unanswerable weights")
    args = p.parse_args(argv)
    path = Path(args.set)
    pairs = load_pairs(path / "questions.json" if path.is_dir() else path)
    script = Script.from_pairs(pairs, seed=args.seed, mix=parse_mix(args.mix))
    with StandinServer(script, port=args.port) as srv:
        print(f"stand-in for {len(pairs)} questions at {srv.url} (model {MODEL!r}, seed {args.seed})")
        print(f"QA_LLM=ollama QA_OLLAMA_HOST={srv.url} QA_OLLAMA_MODEL={MODEL}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
