"""`python -m fedihub` runs the fedihub command."""

from fedihub.cli import main

main()
