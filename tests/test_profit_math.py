"""The pure parts of the profit calculation: FIFO ledger and high-water-mark share."""

from decimal import Decimal as D
from decimal import localcontext

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from django_torgovo_subscriptions.services.managed_bot.profit import (
    Fill,
    ProfitLedger,
    quantize_money,
    rate_from_percentage,
    replay,
    settle_share,
    share_schedule,
)
from django_torgovo_subscriptions.services.managed_bot.profit.fifo import CONTEXT

# --- the high-water mark ----------------------------------------------------------


def test_the_worked_example_of_design_section_7():
    steps = share_schedule([D("544.96"), D("-123.60"), D("387.80")], D("0.20"))
    assert [s.amount for s in steps] == [D("108.99"), D("0.00"), D("52.84")]
    assert sum(s.amount for s in steps) == D("161.83") == quantize_money(D("0.2") * D("809.16"))
    assert [s.high_water_mark for s in steps] == [D("544.96"), D("544.96"), D("809.16")]
    # Without the high-water mark, every profitable month would be charged: 186.55.
    assert quantize_money(D("0.2") * (D("544.96") + D("387.80"))) == D("186.55")


def test_nothing_is_charged_until_a_drawdown_is_recovered():
    steps = share_schedule([D("100"), D("-300"), D("150"), D("100")], D("0.25"))
    # cumulative: 100, -200, -50, 50 -> only the first month is above a previous peak
    assert [s.amount for s in steps] == [D("25.00"), D("0"), D("0"), D("0")]
    steps = share_schedule([D("100"), D("-300"), D("150"), D("300")], D("0.25"))
    # cumulative reaches 250: charged on 150 above the 100 peak
    assert [s.amount for s in steps] == [D("25.00"), D("0"), D("0"), D("37.50")]


def test_rounding_does_not_accumulate_over_settlements():
    # 1/3 cent accruals: each month alone would round to 0.00.
    steps = share_schedule([D("0.01")] * 9, D("0.333333"))
    total = sum(s.amount for s in steps)
    assert total == quantize_money(D("0.333333") * D("0.09")) == D("0.03")


def test_half_a_cent_rounds_up():
    assert settle_share(D("0.025"), rate=D("1")).amount == D("0.03")
    assert settle_share(D("-0.025"), rate=D("1")).net_profit == D("-0.03")


def test_rates_are_validated():
    assert rate_from_percentage("20.00") == D("0.2")
    with pytest.raises(ValueError):
        settle_share(D("1"), rate=D("1.5"))
    with pytest.raises(ValueError):
        settle_share(D("1"), rate=D("0.0000001"))


money = st.decimals(
    min_value=-100000, max_value=100000, places=2, allow_nan=False, allow_infinity=False
)
exact = st.decimals(
    min_value=-100000, max_value=100000, places=6, allow_nan=False, allow_infinity=False
)
percentages = st.decimals(min_value=0, max_value=100, places=2)


@given(st.lists(exact, max_size=30), percentages)
def test_the_share_is_never_negative_and_totals_rate_times_the_peak(period_nets, percentage):
    rate = rate_from_percentage(percentage)
    steps = share_schedule(period_nets, rate)
    assert all(s.amount >= 0 for s in steps)
    peak = max([D(0)] + [s.net_profit for s in steps])  # cumulative net at settlements
    assert sum((s.amount for s in steps), D(0)) == quantize_money(rate * peak)
    # The high-water mark never goes down, and never below zero.
    marks = [D(0)] + [s.high_water_mark for s in steps]
    assert marks == sorted(marks)


@given(st.lists(money, min_size=1, max_size=20), st.lists(percentages, min_size=1, max_size=20))
def test_with_a_changing_rate_the_total_is_the_rounded_exact_accrual(period_nets, percentages):
    cumulative = hwm = accrued = charged = D(0)
    for index, period_net in enumerate(period_nets):
        cumulative += period_net
        rate = rate_from_percentage(percentages[index % len(percentages)])
        step = settle_share(
            cumulative, rate=rate, high_water_mark=hwm, accrued=accrued, charged=charged
        )
        assert step.amount >= 0
        hwm, accrued, charged = step.high_water_mark, step.accrued, step.charged
        assert charged == quantize_money(accrued)


# --- FIFO -------------------------------------------------------------------------------


def test_fifo_closes_the_oldest_lots_first_with_fees_on_both_sides():
    ledger = replay(
        [
            Fill("buy", D("1"), D("100"), D("1"), "2024-01"),  # lot cost 101
            Fill("buy", D("1"), D("110"), D("1"), "2024-01"),  # lot cost 111
            Fill("sell", D("1.5"), D("120"), D("1.8"), "2024-02"),
        ]
    )
    # proceeds 180 - 1.8 fee; cost 101 + half of 111
    assert ledger.net == D("180") - D("1.8") - D("101") - D("55.5") == D("21.7")
    assert ledger.months == {"2024-02": D("21.7")}
    assert ledger.fees == D("3.8")
    assert ledger.open_quantity == D("0.5")
    assert ledger.open_cost == D("55.5")


def test_a_losing_sell_counts_as_loss_and_fees_alone_can_make_a_loss():
    ledger = replay(
        [
            Fill("buy", D("2"), D("50"), D("0.5"), "2024-01"),
            Fill("sell", D("1"), D("45"), D("0.25"), "2024-01"),  # 45 - .25 - 50.25 = -5.5
            Fill("sell", D("1"), D("50.25"), D("0.25"), "2024-01"),  # 50.25 - .25 - 50.25
        ]
    )
    assert (ledger.profit, ledger.loss) == (D("0"), D("5.75"))
    assert ledger.net == D("-5.75")


def test_a_sell_larger_than_the_position_ignores_the_excess_and_its_part_of_the_fee():
    ledger = replay(
        [
            Fill("buy", D("1"), D("100"), D("0"), "2024-01"),
            Fill("sell", D("4"), D("110"), D("4"), "2024-01"),
        ]
    )
    # matched 1 of 4: proceeds 110, fee 1 -> +9; 3 units of excess left out
    assert ledger.net == D("9")
    assert ledger.excess_sell_quantity == D("3")
    assert ledger.open_quantity == 0
    # With nothing open at all, a sell realizes nothing.
    ledger.apply(Fill("sell", D("2"), D("120"), D("2"), "2024-01"))
    assert ledger.net == D("9") and ledger.excess_sell_quantity == D("5")
    # The position never goes short: the next buy opens a normal lot.
    ledger.apply(Fill("buy", D("1"), D("90"), D("0"), "2024-02"))
    assert ledger.open_quantity == D("1") and ledger.open_cost == D("90")


def test_partial_fills_count_what_was_filled():
    # A buy of 1 filled 0.4 in one order and 0.6 in a second; a sell filled 0.7.
    ledger = replay(
        [
            Fill("buy", D("0.4"), D("100"), D("0.04"), "2024-01"),
            Fill("buy", D("0.6"), D("101"), D("0.06"), "2024-01"),
            Fill("sell", D("0.7"), D("105"), D("0.07"), "2024-01"),
        ]
    )
    cost = D("40.04") + D("0.3") * D("101") + D("0.03")
    assert ledger.net == D("73.5") - D("0.07") - cost
    assert ledger.open_quantity == D("0.3")


def test_unknown_sides_and_empty_quantities_are_skipped():
    ledger = replay([Fill("hold", D("1"), D("1")), Fill("buy", D("0"), D("1"))])
    assert ledger.skipped == 2 and ledger.orders == 0 and not ledger.lots


def test_the_state_round_trips_exactly():
    ledger = replay(
        [
            Fill("buy", D("3"), D("10"), D("0.1"), "2024-01"),
            Fill("sell", D("1"), D("11"), D("0.1"), "2024-01"),
        ]
    )
    copy = ProfitLedger.from_state(ledger.lots_state(), ledger.totals_state())
    assert copy == ledger
    assert copy.lots_state() == ledger.lots_state()
    assert copy.totals_state() == ledger.totals_state()


quantities = st.decimals(min_value=D("0.00000001"), max_value=1000, places=8)
prices = st.decimals(min_value=D("0.01"), max_value=100000, places=8)
fees = st.decimals(min_value=0, max_value=50, places=8)
months = st.sampled_from(["2024-01", "2024-02", "2024-03"])
fills = st.builds(Fill, st.sampled_from(["buy", "sell"]), quantities, prices, fees, months)


@given(st.lists(fills, max_size=40), st.integers(min_value=0, max_value=40))
def test_resuming_from_saved_state_equals_one_replay(sequence, split):
    split = min(split, len(sequence))
    first = replay(sequence[:split])
    resumed = ProfitLedger.from_state(first.lots_state(), first.totals_state())
    resumed.apply_all(sequence[split:])
    whole = replay(sequence)
    assert resumed.lots_state() == whole.lots_state()
    assert resumed.totals_state() == whole.totals_state()


@given(st.lists(fills, max_size=40))
def test_quantities_are_conserved_and_the_position_never_goes_short(sequence):
    ledger = replay(sequence)
    bought = sum((f.quantity for f in sequence if f.side == "buy"), D(0))
    sold = sum((f.quantity for f in sequence if f.side == "sell"), D(0))
    assert ledger.open_quantity >= 0
    assert ledger.open_quantity == bought - sold + ledger.excess_sell_quantity
    assert all(quantity > 0 for quantity, _cost in ledger.lots)
    assert ledger.profit >= 0 and ledger.loss >= 0
    assert ledger.net == ledger.net_before(None)


@given(st.lists(fills, max_size=40))
def test_money_is_conserved_when_no_sell_exceeds_the_position(sequence):
    ledger = replay(sequence)
    assume(ledger.excess_sell_quantity == 0)
    with localcontext(CONTEXT):
        cash = sum(
            (
                (f.quantity * f.price - f.fee)
                if f.side == "sell"
                else -(f.quantity * f.price + f.fee)
                for f in sequence
            ),
            D(0),
        )
        # realized P&L = cash in and out + what the open lots still hold at cost
        # (equal up to the 50-digit rounding of the pro-rata lot costs)
        assert abs(ledger.net - (cash + ledger.open_cost)) < D("1e-30")
        assert ledger.fees == sum((f.fee for f in sequence), D(0))


@settings(max_examples=50)
@given(st.lists(fills, max_size=40), percentages)
def test_monthly_settlement_of_any_ledger_never_charges_a_negative_share(sequence, percentage):
    ledger = replay(sorted(sequence, key=lambda f: f.month))
    rate = rate_from_percentage(percentage)
    month_nets = [ledger.months.get(m, D(0)) for m in ("2024-01", "2024-02", "2024-03")]
    steps = share_schedule(month_nets, rate)
    assert all(s.amount >= 0 for s in steps)
    peak = max([D(0)] + [s.net_profit for s in steps])
    assert sum((s.amount for s in steps), D(0)) == quantize_money(rate * peak)
