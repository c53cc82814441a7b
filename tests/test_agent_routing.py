"""The offline brain's routing: merchant questions, each checked for the tool and the arguments it gets.

The router embeds with the real default model (its static vectors where they were distilled), the
one a merchant's question meets; the store's vocabulary is a fixed lexicon, so each expected
argument is known. The target is at least 95% right.
"""

from __future__ import annotations

from datetime import date

import pytest

from nextdrop.agent.offline import OfflineBrain
from nextdrop.agent.router import IntentRouter
from nextdrop.agent.slots import Lexicon

TODAY = date(2024, 11, 30)  # a Saturday: "next week" is the week of Monday 2 December
NEXT_WEEK = "2024-12-02"
LEXICON = Lexicon(
    categories=["Mugs & Cups", "Candles", "Kitchen Textiles", "Stationery", "Toys", "Jewellery", "Bags",
                "Home Decor", "Garden", "Bath & Body", "Christmas Decorations", "Lighting"],
    candidates={"C100": "Bohemian Charcoal Bath Bomb", "C101": "Linen Apron with Pockets",
                "C102": "Rustic Enamel Camping Mug", "C115": "Scandi Wooden Advent Calendar"},
    product_ids={"P10008", "85123A", "P20089", "22423"},
    today=TODAY,
)
ALL_TOOLS = frozenset({"plan", "explain", "cadence", "review", "find_duplicates", "forecast_product",
                       "forecast_category", "forecast_candidate", "search_catalog", "backtest_forecast",
                       "store_status"})

# (question, tool or None for a reply without tools, arguments that must be among the call's)
CASES: list[tuple[str, str | None, dict]] = [
    # launch plans, with dates, counts, budgets
    ("what should I launch next week?", "plan", {"week": NEXT_WEEK, "weeks": 1}),
    ("What should I launch next week", "plan", {"week": NEXT_WEEK}),
    ("wat shuld i lanch nxt week", "plan", {"week": NEXT_WEEK}),
    ("next week's launches?", "plan", {"week": NEXT_WEEK}),
    ("Plan 3 launches a week until Christmas.", "plan", {"week": NEXT_WEEK, "weeks": 4, "max_per_week": 3}),
    ("plan two launches per week before christmas", "plan", {"weeks": 4, "max_per_week": 2}),
    ("which candidates should I release before Xmas?", "plan", {"week": NEXT_WEEK, "weeks": 4}),
    ("what do I launch in March?", "plan", {"week": "2025-03-03", "weeks": 5}),
    ("launch plan for March please", "plan", {"week": "2025-03-03"}),
    ("what should go live in 3 weeks", "plan", {"week": "2024-12-16", "weeks": 1}),
    ("plan my launches for the next 6 weeks", "plan", {"week": NEXT_WEEK, "weeks": 6}),
    ("Plan launches for next week with a budget of £5,000", "plan", {"week": NEXT_WEEK, "budget": 5000.0}),
    ("launch plan next week, $2k budget", "plan", {"budget": 2000.0}),
    ("what should I launch next week at a 95% service level", "plan", {"service_level": 0.95}),
    ("Hi! I was wondering, what new products would you recommend I put out next week?", "plan",
     {"week": NEXT_WEEK}),
    ("schedule my new products for next month", "plan", {"week": "2024-12-02", "weeks": 4}),
    ("which new products should I launch", "plan", {"week": NEXT_WEEK}),
    ("give me a launch schedule until Christmas, max 4 a week", "plan", {"weeks": 4, "max_per_week": 4}),
    ("what should I drop next week", "plan", {"week": NEXT_WEEK}),
    ("how many units should I order for next week's launches?", "plan", {"week": NEXT_WEEK}),
    ("launches this week?", "plan", {"week": "2024-11-25"}),
    ("what to launch", "plan", {"week": NEXT_WEEK}),
    # why a candidate ranks where it does
    ("why is the linen apron ranked low?", "explain", {"candidate_id": "C101"}),
    ("why was C102 left out of the plan?", "explain", {"candidate_id": "C102"}),
    ("explain the score of c115", "explain", {"candidate_id": "C115"}),
    ("why did you pick the bohemian charcoal bath bomb", "explain", {"candidate_id": "C100"}),
    ("why isn't C101 in the plan", "explain", {"candidate_id": "C101"}),
    # cadence and reviews
    ("what is my launch cadence?", "cadence", {}),
    ("how often do I launch new products?", "cadence", {}),
    ("how many launches a week can my store take", "cadence", {}),
    ("what's my usual launch rhythm", "cadence", {}),
    ("how did last month's launches do?", "review", {}),
    ("review my recent launches", "review", {}),
    ("did my new products sell as forecast?", "review", {}),
    ("which launches flopped", "review", {}),
    ("how are the products I launched lately doing", "review", {}),
    # duplicates
    ("which of my mugs are duplicates?", "find_duplicates", {"scope": "catalog", "contains": "mugs"}),
    ("find duplicate products", "find_duplicates", {"scope": "catalog"}),
    ("any near-duplicates in the catalog?", "find_duplicates", {"scope": "catalog"}),
    ("do any candidates duplicate what I already sell?", "find_duplicates", {"scope": "candidates"}),
    ("are my candidate products too close to existing ones", "find_duplicates", {"scope": "candidates"}),
    ("show me products listed twice", "find_duplicates", {"scope": "catalog"}),
    ("which candles are duplicated", "find_duplicates", {"contains": "candles"}),
    ("dupes?", "find_duplicates", {"scope": "catalog"}),
    ("which items should I merge", "find_duplicates", {"scope": "catalog"}),
    ("dedup my catalogue", "find_duplicates", {"scope": "catalog"}),
    ("show the top 10 duplicate groups", "find_duplicates", {"limit": 10}),
    ("any duplicate tote bags?", "find_duplicates", {"contains": "bags"}),
    # forecasts: category, candidate, product by id, product by name
    ("forecast the candles category", "forecast_category", {"category": "Candles", "weeks": 8}),
    ("how will Toys sell over the next 12 weeks?", "forecast_category", {"category": "Toys", "weeks": 12}),
    ("demand forecast for mugs", "forecast_category", {"category": "Mugs & Cups"}),
    ("forecast jewelery category", "forecast_category", {"category": "Jewellery"}),
    ("predict garden sales next month", "forecast_category", {"category": "Garden", "weeks": 4}),
    ("how much will bath and body sell", "forecast_category", {"category": "Bath & Body"}),
    ("how many will C100 sell?", "forecast_candidate", {"candidate_id": "C100", "weeks": 8}),
    ("forecast candidate c 102 for 12 weeks", "forecast_candidate", {"candidate_id": "C102", "weeks": 12}),
    ("expected units of the Scandi wooden advent calendar after launch", "forecast_candidate",
     {"candidate_id": "C115"}),
    ("how much would the bohemian charcoal bath bomb sell", "forecast_candidate", {"candidate_id": "C100"}),
    ("forecast product 85123A", "forecast_product", {"product_id": "85123A", "weeks": 8}),
    ("what is the demand forecast for p10008", "forecast_product", {"product_id": "P10008"}),
    ("sales forecast 22423 next 4 weeks", "forecast_product", {"product_id": "22423", "weeks": 4}),
    ("forecast the enamel mug", "search_catalog", {"query": "enamel mug"}),
    ("how many units will the linen tea towel sell?", "search_catalog", {"query": "linen tea towel"}),
    ("predict sales of the rustic lantern for 8 weeks", "search_catalog", {"query": "rustic lantern"}),
    ("forcast the vintage photo frame", "search_catalog", {"query": "vintage photo frame"}),
    # catalog search
    ("find products like a linen apron", "search_catalog", {"query": "linen apron"}),
    ("search the catalog for enamel mugs", "search_catalog", {"query": "enamel mugs"}),
    ("do I sell anything like a bamboo toothbrush?", "search_catalog", {"query": "bamboo toothbrush"}),
    ("show me 10 products similar to scented candle", "search_catalog", {"query": "scented candle", "k": 10}),
    ("look up tea towels", "search_catalog", {"query": "tea towels"}),
    ("which products match vintage lantern", "search_catalog", {"query": "vintage lantern"}),
    # accuracy
    ("how accurate are the forecasts?", "backtest_forecast", {"weeks": 8}),
    ("backtest the forecasts over 12 weeks", "backtest_forecast", {"weeks": 12}),
    ("can I trust these forecasts", "backtest_forecast", {}),
    ("what's the forecast error on my sales", "backtest_forecast", {}),
    ("is the model any good?", "backtest_forecast", {}),
    # the store
    ("what is in my store?", "store_status", {}),
    ("how many products do I have", "store_status", {}),
    ("status", "store_status", {}),
    ("which categories do I have?", "store_status", {}),
    ("what period do my sales cover", "store_status", {}),
    ("is anything in quarantine?", "store_status", {}),
    ("give me a summary of my data", "store_status", {}),
    # no tool: help, greetings
    ("help", None, {}),
    ("what can you do?", None, {}),
    ("hello there", None, {}),
    ("thanks!", None, {}),
]


@pytest.fixture(scope="module")
def brain(intent_router: IntentRouter) -> OfflineBrain:
    return OfflineBrain(router=intent_router, lexicon=LEXICON, tool_names=ALL_TOOLS)


def _outcome(brain: OfflineBrain, question: str) -> tuple[str | None, dict]:
    decision = brain.decide(question, [])
    if isinstance(decision, str):
        return None, {}
    (name, args), = decision
    return name, args


def test_routing_accuracy_is_at_least_95_percent(brain: OfflineBrain) -> None:
    assert len(CASES) >= 80
    wrong = []
    for question, tool, expected in CASES:
        name, args = _outcome(brain, question)
        if name != tool or any(args.get(k) != v for k, v in expected.items()):
            wrong.append(f"{question!r}: {name} {args}, expected {tool} {expected}")
    accuracy = 1 - len(wrong) / len(CASES)
    assert accuracy >= 0.95, f"{accuracy:.1%} right; wrong:\n" + "\n".join(wrong)


def test_a_question_without_intent_gets_a_clarifying_question(brain: OfflineBrain) -> None:
    reply = brain.decide("purple elephants dance on Tuesdays", [])
    assert isinstance(reply, str) and reply.endswith("?")


def test_a_forecast_of_nothing_named_asks_which_product(brain: OfflineBrain) -> None:
    reply = brain.decide("forecast it", [])
    assert isinstance(reply, str) and "Which product" in reply


def test_an_intent_whose_tool_is_missing_says_so(brain: OfflineBrain) -> None:
    without_plan = brain.model_copy(update={"tool_names": ALL_TOOLS - {"plan"}})
    reply = without_plan.decide("what should I launch next week?", [])
    assert isinstance(reply, str) and "not available" in reply
