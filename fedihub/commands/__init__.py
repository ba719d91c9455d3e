"""Groups of `fedihub` subcommands, registered on the main command in fedihub/cli.py."""
