"""Reading what users hand dexbulk: ID lists (:mod:`.ids`) and patch files (:mod:`.patches`).

Both sniff the format, decode UTF-8 (a BOM is dropped), and turn every token into a validated
value or an :class:`~dexbulk.errors.InvalidInput` naming the file, line and token.
"""
