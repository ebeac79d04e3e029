import json, sys
keys = ['answer accuracy (answerable)','retrieval recall@5','retrieval recall@20','retrieval MRR','true refusals','false refusals','refusal accuracy','exact match','short-answer F1','fooled by','latency retrieve','latency embed','latency total']
runs = sys.argv[1:]
rows = {}
for r in runs:
    for line in open(f'/tmp/models/out/{r}/report.md'):
        for k in keys:
            if line.startswith('| ' + k):
                rows.setdefault(k, {})[r] = line.split('|')[2].strip()
print('| metric | ' + ' | '.join(runs) + ' |'); print('|---' * (len(runs) + 1) + '|')
for k in keys:
    print(f'| {k} | ' + ' | '.join(rows.get(k, {}).get(r, '') for r in runs) + ' |')
