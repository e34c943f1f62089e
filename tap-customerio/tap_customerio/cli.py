"""The `tap-customerio` command: singer-sdk's command line of the tap, with a quick exit.

On the way out, the objects still alive are frozen (`gc.freeze`): the interpreter's final garbage collections
would otherwise walk every one of them (singer-sdk's, requests' and jsonschema's modules, the catalog, the
schemas), which measured 0.16-0.21 s after the tap's last line. In a pipeline that time counts twice: the
target reads the end of its input only when the tap's process is gone. Frozen objects are not collected; the
process's memory goes back to the system as it exits. Nothing the tap needs happens in those collections:
its output is flushed by then, and `atexit` handlers (logging's among them) run before them.
"""

from __future__ import annotations

import gc


def main() -> None:
    """Console script: singer-sdk's command line of the tap."""
    from tap_customerio.tap import TapCustomerIO

    try:
        TapCustomerIO.cli()
    finally:
        gc.freeze()
