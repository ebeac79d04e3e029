"""python -m qa.eval.fit with a swapped embedder: run_fit_emb.py <minilm|e5|mpnet> --set ... --data ..."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
which = sys.argv.pop(1)
if which != 'minilm':
    import embedders
    import index.build as B
    import qa.eval.fit as F

    embedders.swap_embedder(which)
    F.index_corpus = B.index_corpus
from qa.eval.fit import main

sys.exit(main(sys.argv[1:]))
