"""The alt host's trading engine: start_bot() returns a session id, not an order."""


class Engine:
    started = []

    def create_bot(self, user, pair_config):
        return None

    def start_bot(self, user, pair_config, exchange=None, session_config=None, **kwargs):
        self.started.append({"user": user.pk, "strategy": pair_config.pk, **kwargs})
        return f"session-{pair_config.pk}-{len(self.started)}"
