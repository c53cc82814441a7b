"""Embeddings, the FAISS catalog index, and duplicate mining and grouping (no sales, no LLMs)."""
