"""One module per top-level subcommand of `alpr`.

Each module defines `register(subparsers)`, which adds its parser and sets
`func=handler` with `handler(args) -> int`. Modules are discovered, so adding
a command is adding a file here.
"""
