"""E-mail subscriptions of the public: double opt-in, one-click unsubscribe, a message per call change."""
