"""Evaluation: fixed questions run through the real pipeline(s) and scored deterministically.

    pairs.yaml   the shipped pairs about seeds/ (format and `answers` semantics documented at its top)
    sets/        outside and written sets in the SQuAD-style questions.json format (sets/README.md)
    pairs.py     load and validate either format; reproducible stratified samples
    metrics.py   pure scoring: answer accuracy, citation validity/support/precision, evidence hit,
                 retrieval recall@k and MRR by sentence id, refusals, latency percentiles
    short.py     short-answer metrics: exact match, token F1, gold containment, gold-span coverage,
                 fooled by a plausible answer, answer length
    standin.py   the capable-model stand-in's script (modes per question) and its metrics
    extractive.py  the no-model floor: the best-ranked retrieved sentence, quoted
    baseline.py  a plain LlamaIndex CitationQueryEngine with the same model and embeddings
    run.py       `qa eval`: index, ask every pair, score, print, write results.json/report.md/chart.png
    report.py    the printed table, report.md and the chart

Scoring is deterministic: no model judges another model.
"""
