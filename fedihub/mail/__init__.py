"""E-mail: the SMTP settings, the durable outbox, and the worker lane that sends it."""
