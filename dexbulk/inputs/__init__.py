"""Reading what users hand dexbulk: ID lists (:mod:`.ids`) and patch files (:mod:`.patches`,
with spreadsheets in :mod:`.sheets` and YAML in :mod:`.yamldoc`).

All of them sniff the format, decode UTF-8 (a BOM is dropped), read within the bounds of
:mod:`dexbulk.limits` (:mod:`.reading`), and turn every token into a validated value or an
:class:`~dexbulk.errors.InvalidInput` naming the file, line and token.
"""
