"""One module per `strongroom` subcommand; main.py only wires them to argparse."""
