"""An emulator of the PTFE / Terraform Enterprise HTTP API, written from api-contracts.md.

Run it as its own process from the repository root::

    python -m tests.emulators.ptfe [--config FILE.json] [options]

It serves HTTPS on 127.0.0.1 (a free port) with a throwaway CA and prints one JSON line
``{"url": ..., "ca_path": ..., "pid": ...}``. From pytest use :func:`tests.emulators.ptfe.process.start_emulator`.
Route modules are the ``routes_*.py`` files of this package; see :mod:`.routing`, :mod:`.jsonapi`, :mod:`.state`.
"""
