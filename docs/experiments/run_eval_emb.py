"""qa eval with a stub LLM and a swapped embedder: run_eval_emb.py <mpnet|e5> eval ..."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
which = sys.argv.pop(1)
import embedders

embedders.swap_embedder(which)
exec(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'run_eval.py')).read())
