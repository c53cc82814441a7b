"""Launch planning: scoring, cadence, the plan with order quantities, launch reviews.

The entries the CLI and the agent call live in ``workspace``: ``plan_launches``,
``explain_candidate``, ``workspace_cadence``, ``review_launches``. Everything else
is plain functions over dataclasses, usable without a workspace (the launch backtest,
``backtests.launches``, scores past launches with ``score``).
"""
