"""Duplicates and variants: the catalog, the candidates or a supplier file, and named pairs of titles.

The entry the CLI and the agent call lives in ``workspace``: ``run_dedup``, which gives a
``DedupReport`` (the mined pairs and groups from ``index`` with the sales each group
splits). ``report.write_report`` writes it as HTML, CSV, JSON or Markdown;
``match.match_in_workspace`` scores pairs a merchant names with the same decision.
"""
