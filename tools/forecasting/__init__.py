"""Demand forecasting: per-product and category forecasts, and launch curves of products never sold.

The entries the CLI and the agent call live in ``workspace``: ``forecast_product``,
``forecast_category``, ``forecast_candidate`` and ``store_history`` (what analogs are
drawn from), over the workspace's sales with a cache. Everything else works on a
``series.Panel`` without a workspace: ``forecast`` picks a model per series by
backtest, ``newproduct`` forecasts launches from analogs, ``chart`` draws either.
"""
