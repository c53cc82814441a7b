"""Forecasters, backtests and the per-series choice on series whose structure the tests made."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nextdrop.tools.backtests.forecast import backtest, mase, mase_scale, origins, wape
from nextdrop.tools.forecasting.forecast import forecast_panel
from nextdrop.tools.forecasting.global_model import GlobalBoost, winsorise
from nextdrop.tools.forecasting.holidays import holiday_calendar, measure_effects
from nextdrop.tools.forecasting.intermittent import TSB, Croston
from nextdrop.tools.forecasting.models import (
    SeasonalNaive,
    StatsForecastModel,
    WindowAverage,
    WindowMedian,
    adida,
    auto_ets,
    croston,
)
from nextdrop.tools.forecasting.orders import compound_median, line_features, order_medians
from nextdrop.tools.forecasting.series import Panel, build_panel

H = 4


def make_panel(values: np.ndarray, first: list[int] | None = None, start: str = "2023-01-02") -> Panel:
    """A weekly panel from a matrix, from the week of ``start``; ``first`` defaults to the first non-zero period."""
    values = np.asarray(values, dtype=float)
    periods = pd.date_range(start, periods=values.shape[1], freq="W-MON")
    if first is None:
        first = [int(np.argmax(row > 0)) if row.any() else values.shape[1] for row in values]
    return Panel(np.array([f"s{i}" for i in range(len(values))]), periods, values, np.array(first), "W")


def awkward_panel() -> Panel:
    """Regular, intermittent, all-zero, one-point and a few-weeks-old series side by side."""
    rng = np.random.default_rng(0)
    T = 120
    regular = 20 + 5 * np.sin(np.arange(T) * 2 * np.pi / 52) + rng.normal(0, 1, T)
    intermittent = np.where(rng.random(T) < 0.2, rng.integers(1, 6, T), 0)
    young = np.r_[np.zeros(T - 3), [4, 6, 5]]
    one_point = np.r_[np.zeros(T - 1), [3]]
    return make_panel(np.vstack([regular, intermittent, np.zeros(T), one_point, young]))


MODELS = [WindowAverage(8), WindowMedian(8), SeasonalNaive(), Croston(), TSB(), croston(), adida(), auto_ets(),
          GlobalBoost(h=H, n_estimators=30)]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.alias)
def test_every_model_forecasts_every_kind_of_series(model) -> None:
    panel = awkward_panel()
    pred = model.fit(panel).predict(panel, H)
    assert pred.shape == (len(panel), H)
    assert np.isfinite(pred).all() and (pred >= 0).all()
    assert np.allclose(pred[2], 0.0), "a series that never sold forecasts zero"
    assert pred[0].mean() == pytest.approx(20, abs=8), "a steady seller is forecast near its level"


def test_intermittent_models_give_statsforecasts_numbers() -> None:
    """All series at once, the same forecasts as statsforecast's loop, at every backtest origin."""
    from statsforecast.models import TSB as StatsTSB

    rng = np.random.default_rng(3)
    T = 60
    first = rng.integers(0, T + 1, 200)
    values = np.where(rng.random((200, T)) < 0.3, rng.integers(1, 20, (200, T)), 0).astype(float)
    values[np.arange(T)[None, :] < first[:, None]] = 0
    values[first < T, first[first < T]] += 1  # a series' first period is its first sale
    panel = make_panel(np.vstack([values, awkward_panel().values[:, -T:]]))
    pairs = [(Croston(), croston()), (TSB(), StatsForecastModel(StatsTSB(alpha_d=0.2, alpha_p=0.2), "tsb"))]
    for t in (1, 2, 20, T):
        known = panel.head(t)
        for mine, reference in pairs:
            assert np.allclose(mine.predict(known, H), reference.predict(known, H), rtol=1e-9, atol=1e-9), mine.alias


def test_backtest_origins_and_no_look_ahead() -> None:
    assert origins(100, 8, 3) == [76, 84, 92]
    assert origins(10, 8, 3) == [2]

    seen: list[int] = []

    class Spy(WindowAverage):
        def predict(self, panel: Panel, h: int) -> np.ndarray:
            seen.append(panel.values.shape[1])
            return super().predict(panel, h)

    panel = make_panel(np.ones((2, 40)))
    spy = Spy(4)
    res, _ = backtest(panel, spy, 8, windows=2)
    assert seen == [24, 32], "each window sees only what was known at its origin"
    assert res.actual.shape == (2, 2, 8)
    assert np.allclose(res.mae, 0.0), "a constant series is forecast exactly by a moving average"


def test_seasonal_series_is_won_by_seasonal_naive_and_flat_by_moving_average() -> None:
    T = 52 * 3
    season = np.tile(np.r_[np.full(26, 5.0), np.full(26, 50.0)], 3)[:T]
    flat = np.full(T, 12.0) + np.random.default_rng(1).normal(0, 0.5, T)
    panel = make_panel(np.vstack([season, flat]))
    result = forecast_panel(panel, 8, models=[WindowAverage(8), SeasonalNaive()], windows=3, margin=0.1)
    assert result["s0"].model == "seasonal_naive"
    assert result["s1"].model == "ma8"
    assert result["s0"].backtest_mae == pytest.approx(0.0)
    truth = np.tile(np.r_[np.full(26, 5.0), np.full(26, 50.0)], 4)[T:T + 8]
    assert np.allclose(result["s0"].mean, truth)


def test_forecast_result_carries_intervals_and_evidence() -> None:
    panel = awkward_panel()
    result = forecast_panel(panel, H, models=[WindowAverage(8), croston()])
    for s in result.series:
        assert (s.lower[95] <= s.lower[80] + 1e-9).all() and (s.lower[80] <= s.mean + 1e-9).all()
        assert (s.mean <= s.upper[80] + 1e-9).all() and (s.upper[80] <= s.upper[95] + 1e-9).all()
    assert "never sold" in result["s2"].note
    assert f"too young to backtest {H} periods ahead" in result["s3"].note and np.isnan(result["s3"].backtest_mae)
    assert not np.isnan(result["s0"].backtest_mase)
    frame = result.to_frame()
    assert {"id", "period", "model", "mean", "lo80", "hi95", "backtest_mae"} <= set(frame.columns)
    assert sum(result.wins.values()) == len(panel)
    assert len(frame) == len(panel) * H
    s0 = frame[frame["id"] == "s0"]  # the long table and the per-series view say the same
    assert np.allclose(s0["mean"], result["s0"].mean) and np.allclose(s0["hi95"], result["s0"].upper[95])
    assert (s0["model"] == result["s0"].model).all() and s0["period"].tolist() == list(result["s0"].periods)
    with pytest.raises(KeyError):
        result["no such series"]


def test_metrics_on_known_numbers() -> None:
    actual = np.array([[10.0, 0.0], [5.0, 5.0]])
    pred = np.array([[8.0, 2.0], [5.0, 5.0]])
    assert wape(actual, pred) == pytest.approx(4 / 20)
    panel = make_panel(np.array([[1.0, 3.0, 1.0, 3.0], [2.0, 2.0, 2.0, 2.0]]))
    assert mase_scale(panel).tolist() == [2.0, 1.0]  # a constant history gets scale 1, not a division by 0
    late = make_panel(np.array([[0.0, 0.0, 4.0, 1.0, 4.0], [0.0, 0.0, 0.0, 0.0, 7.0], [0.0] * 5]))
    assert mase_scale(late).tolist() == [3.0, 1.0, 1.0]  # only changes since the first sale count
    assert mase(actual, pred, np.array([2.0, 1.0])) == pytest.approx((2 / 2 + 0) / 2)


def test_build_panel_nets_returns_and_drops_a_partial_last_week() -> None:
    sales = pd.DataFrame({
        "date": ["2024-01-01", "2024-01-02", "2024-01-09", "2024-01-10", "2024-01-16"],
        "product_id": ["a", "a", "a", "b", "a"],
        "quantity": [5, -2, 4, 7, 9],
    })
    panel = build_panel(sales, "W")
    assert list(panel.ids) == ["a", "b"]
    assert panel.values.tolist() == [[3.0, 4.0], [0.0, 7.0]], "the week of 2024-01-15 is incomplete"
    assert panel.first.tolist() == [0, 1]
    assert panel.lines.tolist() == [[1.0, 1.0], [0.0, 1.0]], "a return is not an order"
    assert panel.squares.tolist() == [[25.0, 16.0], [0.0, 49.0]]
    assert panel.head(1).lines.tolist() == [[1.0], [0.0]]
    assert panel.subset(np.array([False, True])).squares.tolist() == [[0.0, 49.0]]


def test_order_medians_tell_a_few_big_orders_from_many_small_ones() -> None:
    T = 52
    units = np.zeros((3, T))
    lines = np.zeros((3, T))
    units[0, 3::4], lines[0, 3::4] = 100.0, 1.0  # one order of 100 every 4 weeks
    units[1], lines[1] = 25.0, 5.0  # five orders of 5 every week: the same 25 units a week
    squares = np.where(lines > 0, units**2 / np.maximum(lines, 1), 0.0)  # every order of a week equal
    medians = order_medians(units, lines, squares, T, 52)
    assert medians[0].tolist() == [0.0, 0.0, 0.0], "one order in four weeks: most weeks sell nothing"
    assert np.allclose(medians[1], 25.0, rtol=0.1)
    assert medians[2].tolist() == [0.0, 0.0, 0.0], "never sold"


def test_compound_median_follows_a_simulation() -> None:
    rng = np.random.default_rng(0)
    sizes, p = np.array([1.0, 6.0, 12.0, 48.0, 200.0]), np.array([0.2, 0.3, 0.3, 0.15, 0.05])
    mean, second = (sizes * p).sum(), (sizes**2 * p).sum()
    rates = np.array([0.6, 0.75, 3.0, 8.0, 30.0])
    medians = compound_median(rates, mean, second)
    assert medians[0] == 0.0 and medians[1] > 0.0, "zero exactly while no order is at least even odds (rate < ln 2)"
    assert np.all(np.diff(medians) > 0)
    for rate, median in zip(rates[2:], medians[2:], strict=True):
        simulated = np.median([rng.choice(sizes, k, p=p).sum() for k in rng.poisson(rate, 20_000)])
        assert median == pytest.approx(simulated, rel=0.25)


def test_line_features_know_last_season_only_when_it_is_in_the_data() -> None:
    lines = np.full((2, 80), 2.0)
    lines[1, 24:40] = 8.0  # a peak a season before the horizon
    feats, level = line_features(lines, 78, 4, 52)
    assert level.tolist() == pytest.approx([2.1, 2.1])
    assert feats[0, :, -1].tolist() == pytest.approx([1.0] * 4), "flat last season: ratio 1"
    assert (feats[1, :, -1] > 2.0).all(), "the peak shows"
    early, _ = line_features(lines, 30, 4, 52)
    assert np.isnan(early[:, :, -1]).all(), "no season back yet"


def test_global_model_tells_rare_big_orders_from_many_small_ones() -> None:
    """Same units per week on average; only the order counts say that most weeks of one sell nothing."""
    rng = np.random.default_rng(1)
    weeks = pd.date_range("2022-01-03", periods=80, freq="W-MON")
    rows = []
    for product in range(40):
        for week in weeks:
            # odd products: one order of 100 about every four weeks; even: about five orders of 5 a week
            orders = [100.0] * int(rng.random() < 0.25) if product % 2 else [5.0] * rng.poisson(5)
            rows += [(week + pd.Timedelta(days=1), f"p{product}", q) for q in orders]
    panel = build_panel(pd.DataFrame(rows, columns=["date", "product_id", "quantity"]), "W")
    model = GlobalBoost(h=4, n_estimators=40).fit(panel)
    assert model.order_model is not None
    pred = model.predict(panel, 4)
    assert np.median(pred[1::2]) < 5.0 < 15.0 < np.median(pred[0::2]) < 35.0


def test_promotion_uplift_is_recovered_and_shifts_the_forecast() -> None:
    rng = np.random.default_rng(3)
    T = 110
    promo_weeks = [15, 37, 58, 81, 100]
    base = rng.poisson(20, (30, T + 8)).astype(float)
    base[:, [*promo_weeks, T + 3]] *= 2.0
    panel = make_panel(base[:, :T])
    dates = panel.periods.append(panel.future_periods(8))
    events = pd.DataFrame({"date": dates[[*promo_weeks, T + 3]] + pd.Timedelta(days=2), "name": "Spring Sale",
                           "kind": "promo"})
    (effect,) = measure_effects(panel, events)
    assert effect.factor == pytest.approx(2.0, rel=0.1) and effect.seen == 5
    plain = forecast_panel(panel, 8, models=[WindowMedian(8)])
    shifted = forecast_panel(panel, 8, models=[WindowMedian(8)], events=events)
    ratio = shifted.means()[:, 3].sum() / plain.means()[:, 3].sum()
    assert ratio == pytest.approx(2.0, rel=0.1)
    assert np.allclose(shifted.means()[:, [0, 1, 2, 4]], plain.means()[:, [0, 1, 2, 4]])
    assert "Spring Sale" in shifted.series[0].note
    truth = base[:, T:T + 8]
    assert wape(truth, shifted.means()) < wape(truth, plain.means())


def test_built_in_calendar_follows_the_country() -> None:
    gb = holiday_calendar("GB", pd.Timestamp("2011-01-01"), pd.Timestamp("2011-12-31"))
    us = holiday_calendar("US", pd.Timestamp("2011-01-01"), pd.Timestamp("2011-12-31"))
    when = dict(zip(gb["name"], gb["date"].dt.date.astype(str), strict=True))
    assert when["Mother's Day"] == "2011-04-03" and when["Easter"] == "2011-04-24"
    assert when["Black Friday"] == "2011-11-25" and "Boxing Day" in when
    us_when = dict(zip(us["name"], us["date"].dt.date.astype(str), strict=True))
    assert us_when["Mother's Day"] == "2011-05-08" and "Thanksgiving" in us_when


def test_global_model_forecasts_the_same_in_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """A big store is forecast a block of series at a time; the store-wide features still see every series."""
    rng = np.random.default_rng(5)
    T = 120
    phase = rng.uniform(0, 2 * np.pi, (30, 1))
    season = 1.0 + 0.8 * np.sin(np.arange(T)[None, :] * 2 * np.pi / 52 + phase)
    panel = make_panel(rng.poisson(20 * season * rng.uniform(0.2, 3.0, (30, 1))))
    model = GlobalBoost(h=H, n_estimators=40).fit(panel)
    whole = model.predict(panel, H)
    monkeypatch.setattr("nextdrop.tools.forecasting.global_model.PREDICT_BLOCK", 4)
    assert np.allclose(model.predict(panel, H), whole, rtol=1e-12)


def test_global_model_falls_back_when_history_is_too_short() -> None:
    panel = make_panel(np.full((3, 12), 5.0))
    pred = GlobalBoost(h=8).fit(panel).predict(panel, 8)
    assert np.allclose(pred, 5.0)
    result = forecast_panel(panel, 8)
    assert result.means().shape == (3, 8)


def test_winsorise_caps_at_twice_the_90th_percentile_of_selling_periods() -> None:
    rng = np.random.default_rng(3)
    values = rng.poisson(2.0, size=(40, 30)) * rng.integers(1, 50, size=(40, 1)).astype(float)
    values[rng.random(values.shape) < 0.4] = 0.0
    values[0, :] = 0.0  # never sold
    values[1, :3] = [5.0, 0.0, 500.0]  # too few sales to judge: left alone
    values[2, 5] = 10_000.0  # one bulk order
    capped = winsorise(values)
    for row, raw in zip(capped, values, strict=True):
        sold = raw[raw > 0]
        cap = 2.0 * np.quantile(sold, 0.9) if len(sold) > 3 else np.inf
        assert np.allclose(row, np.minimum(raw, cap))
    assert capped[2, 5] < 10_000.0


def test_global_model_carries_last_years_peak_over_from_a_single_season() -> None:
    """History from one December to the next autumn, as Online Retail has: the peak seen once comes again.

    Half the products sell four times their level in ISO weeks 39-51, half are flat; the origin is
    the week before the peak. A session-10 candidate scored better on Online Retail and failed this:
    with a peak-affinity feature and a small network in the blend it forecast 1.4x, with the
    network alone 2.5x.
    """
    rng = np.random.default_rng(0)
    iso = pd.date_range("2021-11-29", periods=95, freq="W-MON").isocalendar().week.to_numpy()  # to week 38 of 2023
    lift = np.where((iso >= 39) & (iso <= 51), 4.0, 1.0)
    christmas = np.arange(40) % 2 == 0
    values = rng.poisson(rng.uniform(5, 30, (40, 1)) * np.where(christmas[:, None], lift[None, :], 1.0))
    panel = make_panel(values, first=[0] * 40, start="2021-11-29")
    forecast = GlobalBoost(h=8, n_estimators=60).fit(panel).predict(panel, 8)
    rise = forecast.mean(axis=1) / panel.values[:, -8:].mean(axis=1)
    assert np.median(rise[christmas]) > 2.5
    assert 0.8 < np.median(rise[~christmas]) < 1.25
