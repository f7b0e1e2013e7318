"""macwasm: will a macOS app or system extension load its WebAssembly modules, pass notarization and launch?

The package only reads: it never modifies an input, never executes a module or binary it
inspects, and never touches the network.
"""

from macwasm.errors import MacwasmError

__all__ = ["DOCS_URL", "PROJECT_URL", "MacwasmError", "__version__"]
__version__ = "0.1.0"
#: the repository (pyproject.toml's Homepage; a placeholder until the project is published)
PROJECT_URL = "https://github.com/macwasm/macwasm"
#: where the built site (``make site``) is published: SARIF's helpUri and the CLI's ``see:`` lines point
#: at its rule pages (pyproject.toml's Documentation; tests/test_rule_doc.py keeps the two equal)
DOCS_URL = "https://macwasm.github.io/macwasm/"
