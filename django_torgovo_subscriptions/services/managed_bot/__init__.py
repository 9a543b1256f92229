"""
Managed bots: the offers investors subscribe to, and the profit share they pay.

Modules: ``offers`` (what is on offer, investing, the performance report) and the
``profit`` package (the FIFO ledger, recalculation from host Orders, settlement of
the share above the high-water mark).
"""
