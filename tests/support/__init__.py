"""Test support: databases per test, in-process federation networks, fake peers."""
