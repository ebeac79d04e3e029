"""Evaluation: fixed Q&A pairs about the seed articles, run through the real pipeline and scored.

    pairs.yaml   the shipped pairs (format and `answers` semantics documented at its top)
    pairs.py     load and validate a pairs file
    metrics.py   pure scoring: answer accuracy, citation validity/support/precision, evidence hit,
                 retrieval recall@k and MRR by sentence id, refusals, latency percentiles
    baseline.py  a plain LlamaIndex CitationQueryEngine with the same model and embeddings
    run.py       `qa eval`: index, ask every pair, score, print, write results.json/report.md/chart.png
    report.py    the printed table, report.md and the chart

Scoring is deterministic: no model judges another model.
"""
