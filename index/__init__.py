"""Corpus → sentences → embeddings → store."""
