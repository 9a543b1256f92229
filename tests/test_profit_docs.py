"""
The worked examples of docs/MANAGED_BOTS.md are recomputed by the code.

The test reads each ```orders NAME rate=R%``` block, places those orders on the
example host, settles every month of the block's results table
(<!-- results: NAME -->) and compares every column, then the stated total.
"""

import re
from decimal import Decimal as D
from pathlib import Path

import pytest
import time_machine

from django_torgovo_subscriptions.services.managed_bot.profit import settle_period
from tests.profit_support import at, make_order, make_performance

pytestmark = pytest.mark.django_db

DOC = Path(__file__).resolve().parent.parent / "docs" / "MANAGED_BOTS.md"
ORDERS = re.compile(r"```orders (?P<name>[\w-]+) rate=(?P<rate>[\d.]+)%\n(?P<body>.*?)```", re.S)
ORDER = re.compile(
    r"(?P<when>\d{4}-\d\d-\d\d \d\d:\d\d)\s+(?P<side>buy|sell)\s+(?P<quantity>[\d.]+)"
    r"\s+@\s+(?P<price>[\d.]+)\s+fee\s+(?P<fee>[\d.]+)"
)
RESULTS = re.compile(r"<!-- results: (?P<name>[\w-]+) -->\n(?P<table>(?:\|.*\n)+)")
TOTAL = re.compile(r"Total charged: \*\*(?P<total>[\d.]+)\*\*")


def examples():
    text = DOC.read_text()
    tables = {m["name"]: m for m in RESULTS.finditer(text)}
    found = []
    for block in ORDERS.finditer(text):
        table = tables[block["name"]]
        rows = [
            [cell.strip() for cell in line.strip("|").split("|")]
            for line in table["table"].strip().splitlines()[2:]
        ]
        total = TOTAL.search(text, table.end())["total"]
        orders = [m.groupdict() for m in ORDER.finditer(block["body"])]
        assert len(orders) == len(block["body"].strip().splitlines()), block["name"]
        found.append(pytest.param(block["rate"], orders, rows, D(total), id=block["name"]))
    return found


EXAMPLES = examples()


def test_the_doc_has_both_worked_examples():
    assert [p.id for p in EXAMPLES] == ["profitable-run", "drawdown-and-recovery"]


@pytest.mark.parametrize(("rate", "orders", "rows", "total"), EXAMPLES)
def test_the_worked_example_matches_the_code(rate, orders, rows, total):
    with time_machine.travel(at("2024-12-01 00:00"), tick=False):
        perf = make_performance(percentage=rate)
        for order in orders:
            make_order(
                perf,
                side=order["side"],
                quantity=order["quantity"],
                price=order["price"],
                fee=order["fee"],
                when=order["when"],
            )
        charged = D(0)
        for month, realized, cumulative, mark, share in rows:
            year, number = map(int, month.split("-"))
            settlement = settle_period(perf, year, number)
            assert (
                settlement.period_net_profit,
                settlement.net_profit,
                settlement.high_water_mark,
                settlement.amount,
            ) == (D(realized), D(cumulative), D(mark), D(share)), month
            charged += settlement.amount
        assert charged == total == perf.profit_share_due
