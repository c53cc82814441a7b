"""Launch planning: scoring, cadence, the plan with order quantities, launch reviews.

The entries the CLI and the agent call live in ``workspace``: ``plan_launches``,
``explain_candidate``, ``workspace_cadence``, ``review_launches``,
``backtest_workspace_launches``. Everything else is plain functions over
dataclasses, usable without a workspace.
"""
