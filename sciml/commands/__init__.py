"""The command layer: everything between a terminal and the library lives here.

One module per ``sciml`` subcommand. Each exposes ``add_parser(sub)``, which declares the
subcommand's arguments on the ``argparse`` sub-parsers object and sets ``func`` (a handler
``args -> exit code``). Handlers resolve names to objects (registries), call library
functions that take objects, print tables and write plots; the library never sees an
``argparse.Namespace``. Modules import only ``argparse`` at the top, so building the parser
(``sciml --help``) never loads torch: anything heavy is imported inside the handlers.

To add a subcommand, write ``sciml/commands/<name>.py`` with ``add_parser`` and list it in
:data:`COMMANDS` (the order is the order of ``sciml --help``); a hyphenated subcommand lives
in the module with ``_`` for ``-`` (``sciml train-dcdm``: ``train_dcdm.py``).
"""

#: subcommand modules, in the order ``sciml --help`` lists them
COMMANDS: tuple[str, ...] = (
    "info",
    "quickstart",
    "data",
    "train",
    "train_dcdm",
    "train_lmg",
    "eval",
    "models",
    "solve",
    "invert",
    "nde",
    "train_traversal",
    "traverse",
    "bench",
)
