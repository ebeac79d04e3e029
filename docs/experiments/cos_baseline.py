"""Reference for nli_eval: the same AUCs from signals the product already has (MiniLM cosine of
question and cited sentence; question-word overlap)."""
import os
import json, sys, re
import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nli_eval_auc import auc
from index.embed import OnnxMiniLM
m = OnnxMiniLM(threads=1)
W = re.compile(r"\w+")
for path in sys.argv[1:]:
    recs = [r for r in json.load(open(path))['records'] if not r['refused'] and r['citations']]
    q = m.embed([r['question'] for r in recs]); p = m.embed([r['citations'][0]['quote'] for r in recs])
    cos = (q * p).sum(1)
    ov = np.array([len(set(W.findall(r['question'].lower())) & set(W.findall(r['citations'][0]['quote'].lower()))) / max(1, len(set(W.findall(r['question'].lower())))) for r in recs])
    ans = np.array([r['answerable'] for r in recs]); ok = np.array([bool(r['metrics']['correct']) for r in recs])
    for name, v in (('minilm cos(q,sent)', cos), ('word overlap', ov)):
        print(f"{path.split('/')[-2]} {name:20s} correct-vs-wrong {auc(v[ans&ok], v[ans&~ok]):.3f} | answerable-vs-unanswerable {auc(v[ans], v[~ans]):.3f} | correct-vs-rest {auc(v[ans&ok], v[~ans|~ok]):.3f}")
