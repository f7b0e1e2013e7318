"""macwasm: will a macOS app or system extension load its WebAssembly modules, pass notarization and launch?

The package only reads: it never modifies an input, never executes a module or binary it
inspects, and never touches the network.
"""

from macwasm.errors import MacwasmError

__all__ = ["MacwasmError", "__version__"]
__version__ = "0.1.0"
