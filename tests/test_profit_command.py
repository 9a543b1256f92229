"""The recalculate_profits management command."""

from decimal import Decimal as D
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from django_torgovo_subscriptions.models import ManagedBotPerformance
from django_torgovo_subscriptions.services.managed_bot.profit import settle_on_exit
from tests.profit_support import make_order, make_performance

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


def trade(perf, buy, sell):
    make_order(perf, side="buy", quantity="1", price=buy, when="2024-05-02 10:00")
    make_order(perf, side="sell", quantity="1", price=sell, when="2024-05-03 10:00")


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("recalculate_profits", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_all_performances_with_progress_and_a_summary():
    first, second = make_performance(), make_performance()
    trade(first, "100", "110")
    trade(second, "100", "90")
    out, _err = run("-v", "2")
    assert "[1/2] performance" in out and "[2/2] performance" in out
    assert "Recalculated 2 performance(s), 0 rebuilt, 4 order(s) read" in out
    assert "0 failed." in out
    assert [p.realized_pnl for p in ManagedBotPerformance.objects.order_by("pk")] == [
        D("10.00"),
        D("-10.00"),
    ]
    out, _err = run()
    assert "[2/2]" in out and "0 order(s) read" in out  # nothing new


def test_one_user_by_id_or_username_and_a_full_rebuild():
    first, second = make_performance(), make_performance()
    trade(first, "100", "110")
    trade(second, "100", "90")
    out, _err = run("--user", str(first.user.pk))
    assert "Recalculated 1 performance(s)" in out
    out, _err = run("--user", second.user.username, "--full")
    assert "Recalculated 1 performance(s), 1 rebuilt, 2 order(s) read" in out
    with pytest.raises(CommandError, match="No user"):
        run("--user", "nobody")


def test_closed_performances_are_skipped_unless_asked():
    perf = make_performance()
    trade(perf, "100", "110")
    settle_on_exit(perf)
    out, _err = run()
    assert "Recalculated 0 performance(s)" in out
    out, _err = run("--include-closed", "--full")
    assert "Recalculated 1 performance(s), 1 rebuilt, 2 order(s) read" in out


def test_a_failure_is_reported_and_the_others_still_run():
    broken, fine = make_performance(), make_performance()
    trade(broken, "100", "110")
    trade(fine, "100", "120")
    # A ledger stored by a newer version of the package cannot be read here.
    ManagedBotPerformance.objects.filter(pk=broken.pk).update(pnl_state={"version": 99})
    err = StringIO()
    with pytest.raises(CommandError, match="1 failed"):
        call_command("recalculate_profits", stdout=StringIO(), stderr=err)
    assert f"performance {broken.pk}: Unknown profit ledger state version 99" in err.getvalue()
    fine.refresh_from_db()
    assert fine.realized_pnl == D("20.00")


def test_the_admin_actions_recalculate_and_rebuild(admin_client):
    perf = make_performance()
    trade(perf, "100", "125")
    url = "/admin/subscriptions/managedbotperformance/"
    response = admin_client.post(
        url, {"action": "recalculate_selected", "_selected_action": [perf.pk]}, follow=True
    )
    assert "Recalculated 1 performance(s), 2 order(s) read; 0 failed." in response.text
    perf.refresh_from_db()
    assert perf.realized_pnl == D("25.00")
    response = admin_client.post(
        url, {"action": "rebuild_selected", "_selected_action": [perf.pk]}, follow=True
    )
    assert "2 order(s) read" in response.text
    assert admin_client.get(f"{url}{perf.pk}/change/").status_code == 200
