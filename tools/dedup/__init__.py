"""Duplicates and variants: the catalog, the candidates or a supplier file, and named pairs of titles.

The entries the CLI and the agent call live in ``workspace``: ``run_dedup``, which gives a
``DedupReport`` (the mined pairs and groups from ``index`` with the sales each group
splits), and ``match_in_workspace``, which scores pairs a merchant names with the same
decision (``match.match_pairs``, no workspace needed). ``report.write_report`` writes a
``DedupReport`` as HTML, CSV, JSON or Markdown.
"""
