"""
Paper trading that takes as long as an exchange: BENCH_TRADE_MS milliseconds of
waiting (no CPU) before the paper fill, as a real order's round trip would
(bench/webhook.py --trade-ms).
"""

import os
import time

from django_torgovo_subscriptions.trading.paper import PaperTradingManager


class ExchangeLatencyPaperTradingManager(PaperTradingManager):
    def start_bot(self, user, pair_config, *, signal):
        time.sleep(int(os.environ.get("BENCH_TRADE_MS", "0")) / 1000)
        return super().start_bot(user, pair_config, signal=signal)
