"""Backtests: how accurate the forecasts and the launch picks would have been on a store's own past.

The entries the CLI and the agent call live in ``workspace``: ``backtest_forecast``,
``backtest_new_products`` and ``backtest_workspace_launches``. ``forecast`` holds the
rolling-origin backtest and the error measures (WAPE, MASE, Spearman) the forecasting's
model choice rests on; ``report`` sets nextdrop beside simple references on held-out
periods or new products; ``launches`` ranks the products a store in fact launched after
a date, from before it, against random and naive picks.
"""
