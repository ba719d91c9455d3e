"""`python -m fedihub.demo` (`make demo`): a local network of real fedihub servers, seeded through the CLI.

The demo drives fedihub only from the outside, as an organizer would: `fedihub serve` processes on
loopback addresses, `fedihub ...` commands against each one's data directory, and read-only looks at
their databases and pages. It imports nothing else from the package, so what it shows is what ships.
"""
