"""nextdrop: a local-first launch assistant for e-commerce merchants.

The package is laid out by job: ``store`` (workspace and ingestion), ``index``
(embeddings, FAISS, duplicate mining), ``tools`` (``forecasting``, ``dedup``,
``backtests``, ``planning``, each entered through its ``workspace`` module),
``agent`` (LangChain wiring), ``render`` (terminal and HTML output) and ``cli``
(the typer front end).
"""

from nextdrop.errors import NextdropError

__version__ = "0.1.0"
__all__ = ["NextdropError", "__version__"]
