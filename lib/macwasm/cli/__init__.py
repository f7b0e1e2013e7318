"""The ``macwasm`` command line: one module per subcommand, each exposing ``register``."""
