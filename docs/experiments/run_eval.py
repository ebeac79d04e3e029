"""Run the product's `qa eval` with a stub LLM (llama-cpp not installed; QA_REFINE=never never calls it)."""
import sys
import qa.llm as L
from qa.llm import Choice

class StubLLM:
    backend = "llamacpp"
    name = "stub"
    stats: dict = {}
    def __init__(self, settings=None): pass
    def count_tokens(self, text): return len(text.split())
    def stream(self, system, user, max_tokens):
        raise RuntimeError("stub LLM called")

def make_llm(settings):
    return StubLLM(), Choice("llamacpp", "stub (QA_REFINE=never)")
L.make_llm = make_llm
import qa.pipeline as P
P.make_llm = make_llm
from qa.cli import main
sys.exit(main(sys.argv[1:]))
